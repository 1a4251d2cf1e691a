"""Slow, obvious NumPy twins of the kernels in fastseg._kernels (one per kernel)."""

import numpy as np


def sq_distances(X, centres):
    X = np.asarray(X, dtype=np.float64)
    C = np.asarray(centres, dtype=np.float64)
    return ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)


def assign(X, sample_weight, centres):
    """Twin of assign_fused / assign_gemm / assign_sparse: labels, sums, weights, inertia."""
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    d2 = sq_distances(X, centres)
    labels = d2.argmin(axis=1).astype(np.int32)
    k, d = centres.shape
    w = np.asarray(sample_weight, dtype=np.float64)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    for j in range(k):
        members = labels == j
        sums[j] = (w[members, None] * X[members]).sum(axis=0)
        weights[j] = w[members].sum()
    inertia = float((w * d2[np.arange(len(X)), labels]).sum())
    return labels, sums, weights, inertia


def sq_distances_to_assigned(X, centres, labels):
    X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    return ((np.asarray(X, dtype=np.float64) - np.asarray(centres, dtype=np.float64)[labels]) ** 2).sum(
        axis=1
    )


def kmeans_plusplus(X, sample_weight, first, uniforms, sums_in=None):
    """Twin of _seeding.seed_indices: greedy k-means++ with the given draws, as scikit-learn
    computes it: exact distances rounded to X's dtype, running sums and potentials in
    ``sums_in`` (X's dtype by default, as scikit-learn; float64 for ``seed_indices_by_slot``).
    """
    dtype = np.asarray(X).dtype
    sums_in = dtype if sums_in is None else np.dtype(sums_in)
    X64 = np.asarray(X, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=sums_in)

    def distances(rows):
        return sq_distances(rows, X64).astype(dtype).astype(sums_in)  # (L, n)

    indices = [first]
    closest = distances(X64[[first]])[0]
    pot = closest[None, :] @ w
    for draws in uniforms:
        cand = np.minimum(np.searchsorted(np.cumsum(w * closest), draws * pot), len(X64) - 1)
        dist = np.minimum(closest[None, :], distances(X64[cand]))
        pots = dist @ w.reshape(-1, 1)
        best = int(np.argmin(pots))
        pot = pots[best]
        indices.append(int(cand[best]))
        closest = dist[best]
    return np.array(indices)


def population_assign(X, sample_weight, population):
    """Twin of genetic.population_assign: SSE (P,), sums (P, k, d), weights (P, k)."""
    P, k, d = population.shape
    sse = np.empty(P)
    sums = np.zeros((P, k, d))
    weights = np.zeros((P, k))
    for p in range(P):
        labels, sums[p], weights[p], sse[p] = assign(X, sample_weight, population[p])
    return sse, sums, weights


def roulette_select(fitness, uniforms):
    fitness = np.asarray(fitness, dtype=np.float64)
    if fitness.sum() <= 0:
        return np.minimum((uniforms * len(fitness)).astype(np.int64), len(fitness) - 1)
    cumulative = np.cumsum(fitness)
    if cumulative[-1] < np.finfo(np.float64).tiny:  # subnormal: scaled exactly by a power of two
        cumulative = np.cumsum(fitness * 2.0**600)
    return np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")


def tournament_select(sse, candidates):
    return np.array([row[np.argmin(sse[row])] for row in candidates])


def crossover(population, parents, cuts):
    children = []
    for (a, b), cut in zip(parents, cuts):
        if cut == 0:
            children += [population[a].copy(), population[b].copy()]
        else:
            children += [
                np.concatenate([population[a][:cut], population[b][cut:]]),
                np.concatenate([population[b][:cut], population[a][cut:]]),
            ]
    return np.array(children)


def mutate(population, uniforms, noise, rate, scale, first):
    out = population.astype(np.float64).copy()
    mask = uniforms < rate
    mask[:first] = False
    out += np.where(mask, noise * scale, 0.0)
    return out.astype(population.dtype)


def pnn_merge(centres, sizes, k):
    """Twin of genetic.pnn_merge: drop empty centroids, then merge the pair of least Ward cost
    (the first in row-major order on ties) into its first member until k remain."""
    keep = sizes > 0
    c, n = centres[keep].astype(np.float64), sizes[keep].astype(np.float64)
    while len(n) > k:
        d2 = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        cost = n[:, None] * n[None, :] / (n[:, None] + n[None, :]) * d2
        cost[np.tril_indices(len(n))] = np.inf
        a, b = np.unravel_index(np.argmin(cost), cost.shape)
        c[a] = (n[a] * c[a] + n[b] * c[b]) / (n[a] + n[b])
        n[a] += n[b]
        c, n = np.delete(c, b, axis=0), np.delete(n, b)
    return c


def weighted_log_prob(X, shift, means, prec_chol, diag, log_const):
    """Twin of em.weighted_log_prob: log w_k + log N(x | mu_k, U_k) with U upper-triangular."""
    Xs = np.asarray(X, dtype=np.float64) - shift
    out = np.empty((len(X), len(means)))
    for k in range(len(means)):
        U = np.diag(np.diag(prec_chol[k])) if diag else np.triu(prec_chol[k])
        y = (Xs - means[k]) @ U
        out[:, k] = log_const[k] - 0.5 * (y**2).sum(axis=1)
    return out


def em_stats(X, sample_weight, shift, means, prec_chol, diag, log_const, moments):
    """Twin of em.em_stats: nk, sx, sxx (upper triangle or diagonal), loglik, sum w r log r."""
    from scipy.special import logsumexp

    wlp = weighted_log_prob(X, shift, means, prec_chol, diag, log_const)
    lse = logsumexp(wlp, axis=1)
    w = np.asarray(sample_weight, dtype=np.float64)
    log_resp = wlp - lse[:, None]
    rlogr = float(w @ (np.exp(log_resp) * log_resp).sum(axis=1))
    rw = np.exp(log_resp) * w[:, None]
    Xs = np.asarray(X, dtype=np.float64) - shift
    k, d = means.shape
    sxx = np.zeros((k, d, d))
    if moments == 2:
        sxx = np.triu(np.einsum("nk,nf,ng->kfg", rw, Xs, Xs))
    elif moments == 1:
        sxx[:, np.arange(d), np.arange(d)] = rw.T @ (Xs * Xs)
    return rw.sum(0), rw.T @ Xs, sxx, float(w @ lse), rlogr


def pair_counts(B, min_count):
    """Twin of basket.pair_counts: upper-triangle entries of B^T B (binary B) >= min_count."""
    Bd = (np.asarray(B.todense()) > 0).astype(np.int64)
    C = Bd.T @ Bd
    i, j = np.nonzero(np.triu(C, 1) >= min_count)
    return i, j, C[i, j]


def user_based_topn(U, n, n_neighbours, groups=None):
    """Twin of basket.user_based_topn on a dense copy (cosine, top neighbours, summed similarity)."""
    A = (np.asarray(U.todense()) > 0).astype(float)
    An = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    S = An @ An.T
    np.fill_diagonal(S, 0.0)
    if groups is not None:
        S[np.asarray(groups)[:, None] != np.asarray(groups)[None, :]] = 0.0
    items = np.full((len(A), n), -1)
    for u in range(len(A)):
        cand = np.flatnonzero(S[u] > 0)
        order = cand[np.lexsort((cand, -S[u, cand]))][:n_neighbours]
        score = S[u, order] @ A[order]
        score[A[u] > 0] = 0
        top = np.flatnonzero(score > 0)
        top = top[np.lexsort((top, -score[top]))][:n]
        items[u, : top.size] = top
    return items


def user_based_topn_capped(U, n, n_neighbours, max_item_users):
    """Twin of basket.user_based_topn with a bound on the buyers of an item: each user is compared,
    through an item with more buyers, with the ``max_item_users`` buyers around it (sorted ids)."""
    A = (np.asarray(U.todense()) > 0).astype(float)
    An = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-300)
    items = np.full((len(A), n), -1)
    for u in range(len(A)):
        sim = np.zeros(len(A))
        for i in np.flatnonzero(A[u]):
            buyers = np.flatnonzero(A[:, i])
            if buyers.size > max_item_users:
                lo = min(
                    max(int(np.searchsorted(buyers, u)) - max_item_users // 2, 0),
                    buyers.size - max_item_users,
                )
                buyers = buyers[lo : lo + max_item_users]
            for v in buyers:
                if v != u:
                    sim[v] += An[u, i] * An[v, i]
        cand = np.flatnonzero(sim > 0)
        order = cand[np.lexsort((cand, -sim[cand]))][:n_neighbours]
        score = sim[order] @ A[order]
        score[A[u] > 0] = 0
        top = np.flatnonzero(score > 0)
        top = top[np.lexsort((top, -score[top]))][:n]
        items[u, : top.size] = top
    return items


def top_n_unowned(scores, owned, n):
    """Twin of basket.top_n_unowned on dense arrays: best positive unowned columns per row."""
    out = np.full((len(scores), n), -1)
    for r in range(len(scores)):
        cols = np.flatnonzero((scores[r] > 0) & ~owned[r])
        cols = cols[np.lexsort((cols, -scores[r, cols]))][:n]
        out[r, : cols.size] = cols
    return out


def transpose_blocks(X, block_rows, feature_group):
    """Twin of transpose_blocks: rows in blocks of ``block_rows``, each block transposed, rows and
    features zero-padded (features to a multiple of ``feature_group``)."""
    n, d = X.shape
    n_blocks = -(-n // block_rows)
    dp = -(-d // feature_group) * feature_group
    padded = np.zeros((n_blocks * block_rows, dp), dtype=X.dtype)
    padded[:n, :d] = X
    return padded.reshape(n_blocks, block_rows, dp).transpose(0, 2, 1)
