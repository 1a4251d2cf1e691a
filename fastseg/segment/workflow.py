"""The whole segmentation job: preprocess, sweep K, cluster and describe (nothing is written)."""

import numpy as np

from .profiles import profile_table, segment_names, standardised_means
from .sweep import METHODS, fitted_labels, make_model, make_preprocessor, select_k


def segment_customers(frame, features, *, k=None, k_range=range(2, 16), method="kmeans", random_state=0,
                      log_columns="auto", min_recommended_k=3, progress=None, dtype=np.float64):  # fmt: skip
    """Preprocess, sweep K, cluster and describe. Returns a dict of results (nothing is written).

    ``dtype`` (float64 or float32) is the clustering space's: the model is fitted on rows of it.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}.")
    pre, logged = make_preprocessor(frame, features, log_columns)
    Z = np.ascontiguousarray(pre.fit_transform(frame[features]), dtype=dtype)
    n = Z.shape[0]
    ks = [kk for kk in k_range if kk < n]
    sweep = select_k(
        Z, ks, method=method, random_state=random_state, min_recommended_k=min_recommended_k,
        progress=progress and progress("K sweep"),
    )  # fmt: skip
    chosen = int(k) if k is not None else int(sweep.attrs["recommended_k"])
    if not 1 <= chosen <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}), got {chosen}.")
    bar = progress and progress("clustering")

    def on_generation(info):
        if bar:
            bar(info["generation"] + 1, 40)

    model = make_model(method, chosen, random_state, on_generation).fit(Z)
    labels = fitted_labels(model, Z)
    return {
        "Z": Z,
        "labels": labels,
        "model": model,
        "k": chosen,
        "sweep": sweep,
        "profile": profile_table(frame, labels, features),
        "z_means": standardised_means(frame, labels, features),
        "names": segment_names(frame, labels, features),
        "logged": logged,
        "preprocessor": pre,
        "method": method,
    }
