"""Customer segmentation, the application: features (RFM), files and databases, the K sweep,
profiles, names, plots, the report, synthetic customers and the paper reproduction."""

from .datasets import FEATURES, TABLE5, make_customers, make_transactions
from .features import rfm
from .pipeline import Segmentation, segment_frame
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
