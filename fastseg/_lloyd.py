"""Lloyd's algorithm: the map -> reduce -> update loop over the assignment kernels, the centre
update and the relocation of empty clusters.

Inputs here are already validated (see ``fastseg._rows``).
"""

import logging

import numpy as np

logger = logging.getLogger("fastseg")

# Above this many rows, empty clusters are relocated from per-block candidates (no (n,) float64
# distance array); below, exactly as scikit-learn picks the farthest rows.
RELOCATE_ROWS = 1 << 22


def inertia(rows, sample_weight, centres, labels):
    """Weighted SSE of ``labels`` against ``centres`` (float)."""
    distances = rows.sq_distances_to_assigned(centres, labels)
    if sample_weight.shape[0] == 0:
        return float(distances.sum())
    return float(distances @ sample_weight.astype(np.float64))


def relocate_empty_clusters(rows, sample_weight, centres_old, labels, sums, weights):
    """Give each empty cluster the farthest point from its centre, as scikit-learn does.

    ``sums`` and ``weights`` (float64 totals) are updated in place; labels are left as they are.
    """
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return
    if rows.sparse or rows.n <= RELOCATE_ROWS:
        distances = rows.sq_distances_to_assigned(centres_old, labels)
        if sample_weight.shape[0]:
            # A row of weight 0 is as good as absent: it never becomes a centre.
            distances[sample_weight == 0] = -1.0
        far = np.argpartition(distances, -empty.size)[: -empty.size - 1 : -1]
        far_distances = distances[far]
    else:
        far, far_distances = rows.farthest(centres_old, labels, empty.size, sample_weight)
    if not np.any(far_distances > 0):
        # Every row sits on its centre (more clusters than distinct rows): relocating is
        # pointless, and scikit-learn skips it too.
        return
    xs = [rows.row(idx) for idx in far]
    ws = [float(sample_weight[idx]) if sample_weight.shape[0] else 1.0 for idx in far]
    move_to_empty_clusters(sums, weights, empty, xs, ws, labels[far])


def move_to_empty_clusters(sums, weights, empty, xs, ws, old_ids):
    """Move row ``xs[i]`` (weight ``ws[i]``, in cluster ``old_ids[i]``) to empty cluster
    ``empty[i]``: ``sums`` and ``weights`` (float64 totals) are updated in place."""
    for new_id, x, w, old_id in zip(empty, xs, ws, old_ids):
        x = np.asarray(x, dtype=np.float64)
        sums[old_id] -= x * w
        sums[new_id] = x * w
        weights[new_id] = w
        weights[old_id] -= w


def update_centres(sums, weights, centres_old):
    """Means of the clusters (float64 totals -> centres of the old centres' dtype)."""
    new = centres_old.copy()
    nonzero = weights > 0
    new[nonzero] = sums[nonzero] / weights[nonzero, None]
    return new


def unit_centres(centres):
    """Centres scaled to unit length, in their dtype (a zero centre is left as it is)."""
    norms = np.sqrt(np.einsum("ij,ij->i", centres, centres, dtype=np.float64))
    norms[norms == 0] = 1.0
    return (centres / norms[:, None]).astype(centres.dtype, copy=False)


def lloyd(
    rows,
    sample_weight,
    centres_init,
    max_iter,
    tol,
    verbose=False,
    assign=None,
    moved=None,
    on_iteration=None,
    spherical=False,
):
    """One run of Lloyd's algorithm with scikit-learn's stopping rules.

    Stops when no label changes (strict convergence) or when the squared centre shift is
    ``<= tol`` (already scaled to the data). Without strict convergence a last assignment
    makes ``labels`` agree with the returned centres.

    ``assign(sample_weight, centres, labels)`` replaces the assignment step (``rows.assign``'s
    results, the inertia may be None) and ``moved(old, new)`` hears of every centre update: the
    bound-based variants in ``fastseg._yinyang`` run this same loop. ``on_iteration(it, centres)``
    is called once per iteration, after the centre update (benchmarks time iterations with it).
    ``spherical``: each updated centre is scaled to unit length (spherical k-means on unit rows).

    Returns (labels int32, inertia float, centres, n_iter).
    """
    if assign is None:
        stats = rows.slot_stats(len(centres_init))

        def assign(sample_weight, centres, labels):
            # The first pass (every label still -1) adds all rows afresh rather than moving them.
            # The inertia only for the verbose line (the GEMM and dot kernels compute it apart).
            return rows.assign(
                sample_weight, centres, labels, stats=stats, fresh=bool(labels[0] < 0), inertia=verbose
            )

    centres = np.array(centres_init, dtype=rows.dtype, order="C")
    labels = np.full(rows.n, -1, dtype=np.int32)
    strict = False
    for it in range(max_iter):
        sums, weights, inertia_old, n_changed = assign(sample_weight, centres, labels)
        relocate_empty_clusters(rows, sample_weight, centres, labels, sums, weights)
        centres_new = update_centres(sums, weights, centres)
        if spherical:
            centres_new = unit_centres(centres_new)
        shift = float(np.sum((centres_new.astype(np.float64) - centres) ** 2))
        if verbose:
            # scikit-learn's line: the inertia of the new labels against the centres they were
            # assigned to (the bound-based variants compute it only for this line).
            if inertia_old is None:
                shown = inertia(rows, sample_weight, centres, labels)
            else:
                shown = inertia_old
            logger.info("Iteration %d, inertia %s.", it, float(shown))
        if moved is not None:
            moved(centres, centres_new)
        centres_prev, centres = centres, centres_new
        if on_iteration is not None:
            on_iteration(it, centres)
        if n_changed == 0:
            strict = True
            if verbose:
                logger.info("Converged at iteration %d: strict convergence.", it)
            break
        if shift <= tol:
            if verbose:
                logger.info("Converged at iteration %d: center shift %s within tolerance %s.", it, shift, tol)
            break
    same_centres = np.array_equal(centres, centres_prev)
    if not strict or (same_centres and inertia_old is None):
        _, _, final_inertia, _ = rows.assign(sample_weight, centres, labels, update=False)
    elif same_centres:
        final_inertia = inertia_old
    else:
        final_inertia = inertia(rows, sample_weight, centres, labels)
    return labels, final_inertia, centres, it + 1
