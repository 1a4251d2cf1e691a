"""Kept import path: the synthetic customers live in ``fastseg.segment.datasets``."""

from .segment.datasets import FEATURES, TABLE5, make_customers, make_transactions

__all__ = ["FEATURES", "TABLE5", "make_customers", "make_transactions"]
