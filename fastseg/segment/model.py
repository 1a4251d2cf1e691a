"""A fitted segmentation in one file: preprocessing, centres or mixture, segment numbers and names.

The file is a zip of NumPy arrays (``numpy.savez_compressed``) read with ``allow_pickle=False``,
so loading it never runs code from it. Its members:

- ``meta``: UTF-8 JSON (as ``uint8``) with the format name and version, the fastseg version that
  wrote it, the method, K, the feature order, the preprocessing of each feature (log1p, mean and
  scale of numeric features; the categories and dropped category of one-hot features), segment
  numbers and names, and the fitted shares;
- ``centres`` (k-means and GA) or ``weights``, ``means``, ``precisions_cholesky`` and ``shift``
  (Gaussian mixture), in the clustering space;
- ``ids`` and ``segments``: the customers the model was fitted on and their segment numbers
  (for the drift of the next fit);
- ``digest``: SHA-256 of everything above, checked on load.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from .. import __version__
from .._pandas import require_columns
from .._pandas import require_pandas as _pandas

FORMAT = "fastseg-segmentation"
FORMAT_VERSION = 1
_ARRAYS = ("centres", "weights", "means", "precisions_cholesky", "shift", "ids", "segments")


class ModelFileError(ValueError):
    """A file that is not a fastseg segmentation model, or one this version cannot read."""


def _preprocessing(pre):
    """Per-feature steps of a fitted ``make_preprocessor`` transformer, in output order."""
    steps = []
    for name, transformer, columns in pre.transformers_:
        if name == "remainder":
            continue
        if name in ("log_scaled", "scaled"):
            scaler = transformer.steps[-1][1] if name == "log_scaled" else transformer
            for j, col in enumerate(columns):
                steps.append(
                    {
                        "feature": col,
                        "kind": "numeric",
                        "log1p": name == "log_scaled",
                        "mean": float(scaler.mean_[j]),
                        "scale": float(scaler.scale_[j]),
                    }
                )
        elif name == "onehot":
            value = 1.0
            if hasattr(transformer, "steps"):  # k-prototypes: the one-hot columns at a value
                value = float(transformer.steps[1][1].kw_args["value"])
                transformer = transformer.steps[0][1]
            drops = transformer.drop_idx_
            for j, col in enumerate(columns):
                cats = transformer.categories_[j]
                drop = None if drops is None or drops[j] is None else int(drops[j])
                steps.append(
                    {
                        "feature": col,
                        "kind": "categorical",
                        "categories": [str(c) for c in cats],
                        "drop": drop,
                        **({"value": value} if value != 1.0 else {}),
                    }
                )
        else:  # pragma: no cover - make_preprocessor builds only the parts above
            raise ValueError(f"cannot save a preprocessing step named {name!r}.")
    return steps


class SegmentationModel:
    """A fitted segmentation: preprocessing, clustering parameters, segment numbers and names.

    Build one with :func:`model_from_result` (from a run's ``Segmentation``),
    write it with :meth:`save`, read it with :func:`load_model`, label customers with
    :meth:`assign`.
    """

    def __init__(self, meta, arrays):
        self.meta = meta
        self.arrays = arrays

    # -- what the model holds ---------------------------------------------------------------
    @property
    def method(self):
        return self.meta["method"]

    @property
    def k(self):
        return int(self.meta["k"])

    @property
    def features(self):
        return [step["feature"] for step in self.meta["preprocessing"]]

    @property
    def segment_numbers(self):
        """Segment number of each cluster of the model (cluster j is segment ``numbers[j]``)."""
        return np.asarray(self.meta["segment_numbers"], dtype=np.int64)

    @property
    def fills(self):
        """{feature: the value a blank takes} of the fitted customer table (None: not kept)."""
        return self.meta.get("fill_values")

    @property
    def names(self):
        """{segment number: name}."""
        return {int(s): name for s, name in self.meta["names"].items()}

    @property
    def shares(self):
        """{segment number: share of the fitted customers}."""
        return {int(s): float(v) for s, v in self.meta["shares"].items()}

    @property
    def version(self):
        return self.meta["fastseg_version"]

    # -- using it ---------------------------------------------------------------------------
    def transform(self, frame):
        """(clustering-space rows float64 (n, d), {feature: rows with an unseen category}).

        Exactly the fit's preprocessing: log1p, then ``(x - mean) / scale`` for numeric features,
        one-hot for categorical ones (at the step's ``value``, 1 unless k-prototypes set it; an
        unseen category is all zeros).
        """
        pd = _pandas()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"customers must be a pandas DataFrame, got {type(frame).__name__}.")
        require_columns(frame, list(dict.fromkeys(self.features)), "the customer table")
        parts, unseen = [], {}
        for step in self.meta["preprocessing"]:
            col = frame[step["feature"]]
            if step["kind"] == "numeric":
                values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, copy=True)
                if not np.isfinite(values).all():
                    bad = col[~np.isfinite(values)].iloc[0]
                    raise ValueError(
                        f"column {step['feature']!r} must hold finite numbers (for example {bad!r})."
                    )
                if step["log1p"]:
                    if (values < 0).any():
                        raise ValueError(
                            f"column {step['feature']!r} was log-transformed in the fit and cannot "
                            f"be negative (for example {values[values < 0][0]!r})."
                        )
                    values = np.log1p(values)
                values -= step["mean"]
                values /= step["scale"]
                parts.append(values[:, None])
            else:
                text = col.astype(str).to_numpy()
                cats = step["categories"]
                onehot = np.zeros((len(text), len(cats)))
                for j, cat in enumerate(cats):
                    onehot[text == cat, j] = step.get("value", 1.0)
                seen = onehot.sum(axis=1) > 0
                if (~seen).any():
                    unseen[step["feature"]] = int((~seen).sum())
                if step["drop"] is not None:
                    onehot = np.delete(onehot, step["drop"], axis=1)
                parts.append(onehot)
        Z = np.hstack(parts) if parts else np.empty((len(frame), 0))
        return np.ascontiguousarray(Z), unseen

    def cluster(self, Z):
        """Model cluster (0..k-1) of each clustering-space row."""
        dtype = np.dtype(self.meta["dtype"])
        Z = np.ascontiguousarray(Z, dtype=dtype)
        if Z.shape[1] != self.meta["n_columns"]:
            raise ValueError(
                f"the rows have {Z.shape[1]} columns, the model expects {self.meta['n_columns']}."
            )
        if self.method == "gmm":
            return self._log_prob(Z).argmax(axis=1).astype(np.int32)
        from .._rows import Rows
        from .._validation import unit_weights

        labels = np.full(Z.shape[0], -1, dtype=np.int32)
        Rows(Z).assign(
            unit_weights(dtype),
            np.ascontiguousarray(self.arrays["centres"], dtype=dtype),
            labels,
            update=False,
            inertia=False,
        )
        return labels

    def _log_prob(self, Z):
        """A mixture's (n, k) weighted log-probabilities of clustering-space rows."""
        from .._em import log_prob_rows

        a = self.arrays
        Z = np.ascontiguousarray(Z, dtype=np.dtype(self.meta["dtype"]))
        return log_prob_rows(
            Z,
            self.meta["covariance_type"],
            a["weights"],
            a["means"],
            a["precisions_cholesky"],
            shift=a["shift"],
        )

    def membership(self, Z):
        """A mixture's (n, k) probability of each cluster for clustering-space rows; None for
        the other methods."""
        if self.method != "gmm":
            return None
        from scipy.special import softmax

        return softmax(self._log_prob(Z), axis=1)

    def assign(self, frame):
        """(segment number of each customer, {feature: rows with an unseen category})."""
        Z, unseen = self.transform(frame)
        return self.segment_numbers[self.cluster(Z)], unseen

    def assigned(self, data):
        """The customers of ``data`` (a ``files.CustomerData``) as a ``job.Assignment``."""
        from .job import Assignment

        Z, unseen = self.transform(data.frame)
        clusters = self.cluster(Z)
        return Assignment(
            data, self.segment_numbers[clusters], self.names, self.method, self.k, unseen,
            clusters, self.segment_numbers, self.membership(Z),
        )  # fmt: skip

    def centres_in_space(self):
        """(k, d) cluster centres (k-means, GA) or component means (mixture), float64."""
        key = "means" if self.method == "gmm" else "centres"
        return np.asarray(self.arrays[key], dtype=np.float64)

    # -- the file -----------------------------------------------------------------------------
    def save(self, path):
        """Write the model to ``path`` (one file; see the module docstring for its contents)."""
        blob = json.dumps(self.meta, sort_keys=True).encode("utf-8")
        arrays = {name: self.arrays[name] for name in _ARRAYS if name in self.arrays}
        digest = _digest(blob, arrays)
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh, meta=np.frombuffer(blob, dtype=np.uint8), digest=np.frombuffer(digest, np.uint8), **arrays
            )
        return path


def _digest(blob, arrays):
    h = hashlib.sha256(blob)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.digest()


def load_model(path):
    """Read a model written by :meth:`SegmentationModel.save`.

    Raises ``ModelFileError`` (a ``ValueError``) for a file that is not a fastseg model, one
    written in a format this version does not read, or one whose contents were changed.
    Loading never unpickles: arrays are read with ``allow_pickle=False``.
    """
    import zipfile

    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"no model file {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            members = {name: data[name] for name in ("meta", "digest", *_ARRAYS) if name in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelFileError(f"{path} is not a fastseg segmentation model ({exc}).") from None
    if "meta" not in members or "digest" not in members:
        raise ModelFileError(f"{path} is not a fastseg segmentation model.")
    blob, digest = members.pop("meta").tobytes(), members.pop("digest").tobytes()
    arrays = members
    try:
        meta = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{path} is not a fastseg segmentation model (unreadable header).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a fastseg segmentation model.")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by fastseg {meta.get('fastseg_version', '?')} in model format "
            f"{version}; this fastseg ({__version__}) reads format {FORMAT_VERSION}. Refit and save again."
        )
    if _digest(blob, arrays) != digest:
        raise ModelFileError(f"{path} has been changed since it was written (its checksum does not match).")
    return SegmentationModel(meta, arrays)


def model_from_result(result, ids=None):
    """A :class:`SegmentationModel` from a :class:`~fastseg.segment.job.Segmentation`.

    ``ids``: the customers' ids (text), kept with their segments for the next fit's drift.
    """
    model = result.model
    dtype = result.Z.dtype
    method = result.method
    k = result.k
    numbers = np.asarray(result.segment_numbers, dtype=np.int64)
    labels = np.asarray(result.clusters)
    segments = numbers[labels]
    names = result.names  # keyed by segment number
    counts = np.bincount(labels, minlength=k)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fastseg_version": __version__,
        "method": method,
        "k": k,
        "dtype": np.dtype(dtype).name,
        "n_columns": int(result.Z.shape[1]),
        "preprocessing": _preprocessing(result.preprocessor),
        "segment_numbers": numbers.tolist(),
        "names": {str(int(s)): str(names[int(s)]) for s in numbers},
        "shares": {str(int(numbers[j])): float(counts[j] / counts.sum()) for j in range(k)},
    }
    if result.data.fills is not None:
        meta["fill_values"] = result.data.fills
    arrays = {}
    if method == "gmm":
        meta["covariance_type"] = model.covariance_type
        arrays["weights"] = np.asarray(model.weights_)
        arrays["means"] = np.asarray(model.means_)
        arrays["precisions_cholesky"] = np.asarray(model.precisions_cholesky_)
        arrays["shift"] = np.asarray(result.Z, dtype=dtype).mean(axis=0).astype(np.float64)
    else:
        arrays["centres"] = np.asarray(model.cluster_centers_)
    if ids is not None:
        arrays["ids"] = np.asarray([str(v) for v in ids], dtype=np.str_)
        arrays["segments"] = segments.astype(np.int64)
    return SegmentationModel(meta, arrays)
