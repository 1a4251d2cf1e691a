"""Basket analytics: product pairs bought together (co-occurrence, support, confidence, lift)
and collaborative-filtering recommendations with cosine similarity, optionally per segment."""

from .recommendations import hit_rate, holdout_metrics, ranking_metrics, recommend, top_n, user_item_matrix
from .rules import (
    association_rules,
    basket_matrix,
    confidence_table,
    cooccurrence_table,
    item_counts,
    pair_counts,
    rules_by_segment,
)

__all__ = [
    "association_rules",
    "basket_matrix",
    "confidence_table",
    "cooccurrence_table",
    "hit_rate",
    "holdout_metrics",
    "ranking_metrics",
    "item_counts",
    "pair_counts",
    "recommend",
    "rules_by_segment",
    "top_n",
    "user_item_matrix",
]
