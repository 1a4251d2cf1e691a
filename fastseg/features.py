"""Kept import path: the RFM features live in ``fastseg.segment.features``."""

from ._pandas import require_pandas
from .segment.features import rfm

__all__ = ["require_pandas", "rfm"]
