"""Kept import path: the paper reproduction lives in ``fastseg.segment.reproduce``."""

from .segment.reproduce import PAPER_MEANS, PAPER_RUNS, accuracy_table, per_run_table, render_accuracy_report

__all__ = ["PAPER_MEANS", "PAPER_RUNS", "accuracy_table", "per_run_table", "render_accuracy_report"]
