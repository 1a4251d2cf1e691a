"""pandas as an optional dependency: import it with a clear message, check a table's columns."""


def require_pandas():
    """pandas, or an ImportError that says how to get it (it is an optional dependency)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the 'segment' and 'test' extras
        raise ImportError("customer tables need pandas: pip install 'fastseg[segment]'") from None
    return pd


def require_columns(frame, columns, what):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} has no column {', '.join(map(repr, missing))}; its columns are {', '.join(map(str, frame.columns))}."
        )
