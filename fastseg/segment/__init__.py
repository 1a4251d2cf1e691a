"""Customer segmentation, the application: features (RFM), files, the K sweep, profiles, names,
plots, synthetic customers and the paper reproduction."""

from .datasets import FEATURES, TABLE5, make_customers, make_transactions
from .features import rfm
from .plots import write_plots
from .profiles import clustering_space_means, profile_table, segment_names, standardised_means
from .sweep import (
    METHODS,
    fitted_labels,
    make_model,
    make_preprocessor,
    select_k,
    skewed_columns,
    split_columns,
    within_sse,
)
from .workflow import segment_customers

__all__ = [
    "FEATURES",
    "METHODS",
    "TABLE5",
    "clustering_space_means",
    "fitted_labels",
    "make_customers",
    "make_model",
    "make_preprocessor",
    "make_transactions",
    "profile_table",
    "rfm",
    "segment_customers",
    "segment_names",
    "select_k",
    "skewed_columns",
    "split_columns",
    "standardised_means",
    "within_sse",
    "write_plots",
]
