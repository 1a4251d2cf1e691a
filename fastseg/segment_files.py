"""Kept import path: reading customer files and writing the output folder live in
``fastseg.segment.files``."""

from .segment.files import (
    basket_tables,
    describe,
    load_customers,
    markdown_table,
    paper_comparison,
    write_outputs,
)

__all__ = [
    "basket_tables",
    "describe",
    "load_customers",
    "markdown_table",
    "paper_comparison",
    "write_outputs",
]
