"""Customer segmentation, the application: features (RFM), files and databases, the K sweep,
profiles, names, plots, the report, synthetic customers and the paper reproduction."""

# Names load on first use: a process that needs one module (the plotting process of
# ``fastseg segment``, a reader) does not import scikit-learn and the rest with it.
_LAZY = {
    "FEATURES": "datasets",
    "TABLE5": "datasets",
    "make_customers": "datasets",
    "make_transactions": "datasets",
    "make_choices": "datasets",
    "rfm": "features",
    "Columns": "job",
    "Job": "job",
    "Options": "job",
    "Segmentation": "job",
    "segment_frame": "pipeline",
    "write_plots": "plots",
    "clustering_space_means": "profiles",
    "profile_table": "profiles",
    "segment_names": "profiles",
    "standardised_means": "profiles",
    "METHODS": "sweep",
    "fitted_labels": "sweep",
    "make_model": "sweep",
    "make_preprocessor": "sweep",
    "select_k": "sweep",
    "skewed_columns": "sweep",
    "split_columns": "sweep",
    "within_sse": "sweep",
    "run": "workflow",
    "segment_customers": "workflow",
}

__all__ = [
    "Columns",
    "FEATURES",
    "Job",
    "METHODS",
    "Options",
    "Segmentation",
    "TABLE5",
    "clustering_space_means",
    "fitted_labels",
    "make_customers",
    "make_model",
    "make_preprocessor",
    "make_transactions",
    "profile_table",
    "rfm",
    "run",
    "segment_customers",
    "segment_frame",
    "segment_names",
    "select_k",
    "skewed_columns",
    "split_columns",
    "standardised_means",
    "within_sse",
    "write_plots",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
