"""Basket kernels over CSR/CSC structure: item-pair co-occurrence counts and top-N
collaborative-filtering recommendations (never an n_users x n_users or items x items dense matrix).

Each kernel fills the rows ``[first, stop)`` of its output, so the caller can run parts of the
rows on several threads (``_config.in_parallel``); counts are integers and every row is computed
alone, so the result is the same on any number of threads.
"""

import numpy as np

from ._config import JIT
from ._numba import njit


@njit(**JIT)
def pair_counts(
    item_ptr, item_baskets, basket_ptr, basket_items, min_count, row_nnz, cols, counts, fill, first, stop
):
    """Co-occurrence counts of item pairs (i < j) bought in the same basket, kept when >= min_count.

    Gustavson's sparse product B^T B, one output row (item i) at a time, with a dense
    accumulator reset through the list of entries touched. Run twice: ``fill=False`` counts the kept pairs of each row
    into ``row_nnz``; the caller makes row pointers from them and ``fill=True`` writes them.

    item_ptr, item_baskets : CSC of the basket x item matrix (baskets holding each item), IN
    basket_ptr, basket_items : CSR of the same matrix (items of each basket), IN
    min_count : int
    row_nnz : (n_items + 1,) int64 -- OUT (fill=False): kept pairs of row i at [i];
        IN (fill=True): row pointers
    cols : (nnz,) int32, OUT (fill=True) -- item j of each pair, ascending within a row
    counts : (nnz,) int32, OUT (fill=True)
    first, stop : int -- the items (output rows) to do
    """
    n_items = item_ptr.shape[0] - 1
    acc = np.zeros(n_items, dtype=np.int32)
    touched = np.empty(n_items, dtype=np.int32)
    for i in range(first, stop):
        n_touched = 0
        for p in range(item_ptr[i], item_ptr[i + 1]):
            b = item_baskets[p]
            for q in range(basket_ptr[b], basket_ptr[b + 1]):
                j = basket_items[q]
                if j > i:
                    if acc[j] == 0:
                        touched[n_touched] = j
                        n_touched += 1
                    acc[j] += 1
        n_kept = 0  # the kept pairs move to the front of ``touched``; the others are reset now
        for t in range(n_touched):
            j = touched[t]
            if acc[j] >= min_count:
                touched[n_kept] = j
                n_kept += 1
            else:
                acc[j] = 0
        if not fill:
            row_nnz[i] = n_kept
        elif 16 * n_kept > n_items - i:  # a dense row: scanning it gives ascending columns
            out = row_nnz[i]
            for j in range(i + 1, n_items):
                if acc[j] != 0:
                    cols[out] = j
                    counts[out] = acc[j]
                    out += 1
        else:  # only the written rows need ascending columns
            _shell_sort(touched[:n_kept])
            out = row_nnz[i]
            for t in range(n_kept):
                cols[out + t] = touched[t]
                counts[out + t] = acc[touched[t]]
        for t in range(n_kept):
            acc[touched[t]] = 0


@njit(**JIT)
def _shell_sort(a):
    """Sort ``a`` in place, ascending. A short loop: Numba's own sort costs about ten times
    as much compilation, paid by every first run."""
    n = a.shape[0]
    gap = 1
    while gap < n // 3:  # Knuth's gaps 1, 4, 13, 40, ...
        gap = 3 * gap + 1
    while gap > 0:
        for t in range(gap, n):
            v = a[t]
            s = t
            while s >= gap and a[s - gap] > v:
                a[s] = a[s - gap]
                s -= gap
            a[s] = v
        gap //= 3


@njit(**JIT)
def _lower_bound(a, lo, hi, v):
    """The first position p in [lo, hi) with ``a[p] >= v`` (``hi`` if none); ``a[lo:hi]`` sorted.
    Written out: ``np.searchsorted`` compiles several functions per call site."""
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**JIT)
def _top_n(scores, candidates, n, out_idx, out_val):
    """The n largest ``scores[candidates]`` (ties: smaller index first), in order; returns how many."""
    filled = 0
    for t in range(candidates.shape[0]):
        c = candidates[t]
        v = scores[c]
        if filled == n and (v < out_val[n - 1] or (v == out_val[n - 1] and c > out_idx[n - 1])):
            continue
        pos = filled if filled < n else n - 1
        while pos > 0 and (out_val[pos - 1] < v or (out_val[pos - 1] == v and out_idx[pos - 1] > c)):
            if pos < n:
                out_val[pos] = out_val[pos - 1]
                out_idx[pos] = out_idx[pos - 1]
            pos -= 1
        out_val[pos] = v
        out_idx[pos] = c
        if filled < n:
            filled += 1
    return filled


@njit(**JIT)
def user_based_topn(
    user_ptr,
    user_items,
    user_vals,
    item_ptr,
    item_users,
    item_vals,
    allowed_group,
    group,
    n_neighbours,
    max_item_users,
    n,
    out_items,
    out_scores,
    first,
    stop,
):
    """User-based collaborative filtering with cosine similarity, top-n items per user.

    For user u: cosine similarity to every user sharing an item (sparse dot products through the
    item -> users index, rows already L2-normalised; an item bought by more than ``max_item_users``
    users contributes only the ``max_item_users`` of them around u in its sorted list of buyers,
    which bounds the work per user however popular an item is), the ``n_neighbours`` most similar users
    (restricted to u's group when ``allowed_group``), then score(i) = sum of similarities of the
    neighbours who bought i, over items u has not bought; the n best scores. Accumulators are
    dense per group of users and reset through the list of entries touched.

    user_ptr, user_items, user_vals : CSR of the normalised user x item matrix, IN
    item_ptr, item_users, item_vals : CSC of the same matrix, IN
    allowed_group : bool; group : (n_users,) int64 -- segment of each user, IN
    n_neighbours, max_item_users, n : int >= 1
    out_items : (n_users, n) int64, OUT (-1 where fewer than n items can be scored)
    out_scores : (n_users, n) float64, OUT
    first, stop : int -- the users (output rows) to do
    """
    n_users = user_ptr.shape[0] - 1
    n_items = item_ptr.shape[0] - 1
    sim = np.zeros(n_users)
    seen = np.empty(n_users, dtype=np.int64)
    score = np.zeros(n_items)
    owned = np.zeros(n_items, dtype=np.bool_)
    cand = np.empty(n_items, dtype=np.int64)
    nb_idx = np.empty(n_neighbours, dtype=np.int64)
    nb_val = np.empty(n_neighbours)
    for u in range(first, stop):
        n_seen = 0
        for p in range(user_ptr[u], user_ptr[u + 1]):
            i = user_items[p]
            a = user_vals[p]
            lo, hi = item_ptr[i], item_ptr[i + 1]
            if hi - lo > max_item_users:
                pos = _lower_bound(item_users, lo, hi, u)
                lo = min(max(pos - max_item_users // 2, lo), hi - max_item_users)
                hi = lo + max_item_users
            for q in range(lo, hi):
                v = item_users[q]
                if v == u or (allowed_group and group[v] != group[u]):
                    continue
                if sim[v] == 0.0:
                    seen[n_seen] = v
                    n_seen += 1
                sim[v] += a * item_vals[q]
        n_nb = _top_n(sim, seen[:n_seen], n_neighbours, nb_idx, nb_val)
        for t in range(n_seen):
            sim[seen[t]] = 0.0
        for p in range(user_ptr[u], user_ptr[u + 1]):
            owned[user_items[p]] = True
        n_cand = 0
        for t in range(n_nb):
            v = nb_idx[t]
            for p in range(user_ptr[v], user_ptr[v + 1]):
                i = user_items[p]
                if owned[i]:
                    continue
                if score[i] == 0.0:
                    cand[n_cand] = i
                    n_cand += 1
                score[i] += nb_val[t]
        out_items[u] = -1
        out_scores[u] = 0.0
        _top_n(score, cand[:n_cand], n, out_items[u], out_scores[u])
        for t in range(n_cand):
            score[cand[t]] = 0.0
        for p in range(user_ptr[u], user_ptr[u + 1]):
            owned[user_items[p]] = False


@njit(**JIT)
def top_n_unowned(score_ptr, score_cols, score_vals, owned_ptr, owned_cols, n, out_items, out_scores):
    """Per row of a sparse score matrix, the n best positive scores over columns the row does
    not own (ties: smaller column first).

    score_ptr, score_cols, score_vals : CSR scores, IN; owned_ptr, owned_cols : CSR of owned items
    (sorted), IN; out_items : (rows, n) int64, OUT (-1 padding); out_scores : (rows, n), OUT
    Split by rows: ``score_ptr[a:b + 1]``, ``owned_ptr[a:b + 1]``, ``out_*[a:b]``.
    """
    n_rows = score_ptr.shape[0] - 1
    for r in range(n_rows):
        lo, hi = score_ptr[r], score_ptr[r + 1]
        cand = np.empty(hi - lo, dtype=np.int64)
        n_cand = 0
        o_lo, o_hi = owned_ptr[r], owned_ptr[r + 1]
        for p in range(lo, hi):
            c = score_cols[p]
            if score_vals[p] <= 0.0:
                continue
            k = _lower_bound(owned_cols, o_lo, o_hi, c)
            if k < o_hi and owned_cols[k] == c:
                continue
            cand[n_cand] = p
            n_cand += 1
        idx = np.full(n, -1, dtype=np.int64)
        val = np.zeros(n)
        got = _top_n(score_vals, cand[:n_cand], n, idx, val)
        for t in range(n):
            out_items[r, t] = score_cols[idx[t]] if t < got else -1
            out_scores[r, t] = val[t] if t < got else 0.0


@njit(**JIT)
def top_popular_unowned(ranked, popularity, owned_ptr, owned_cols, n, out_items, out_scores):
    """Per user, the n most popular items the user does not own (ties: smaller item first),
    without a users x items score matrix.

    ranked : (n_items,) int64 -- items by decreasing popularity, then increasing index, IN
    popularity : (n_items,) float64, IN (items with popularity <= 0 are never recommended)
    owned_ptr, owned_cols : CSR of owned items (sorted), IN
    out_items : (n_users, n) int64, OUT (-1 padding); out_scores : (n_users, n), OUT
    Split by rows: ``owned_ptr[a:b + 1]``, ``out_*[a:b]``.
    """
    n_users = owned_ptr.shape[0] - 1
    for r in range(n_users):
        o_lo, o_hi = owned_ptr[r], owned_ptr[r + 1]
        got = 0
        for t in range(ranked.shape[0]):
            if got == n:
                break
            c = ranked[t]
            if popularity[c] <= 0.0:
                break
            k = _lower_bound(owned_cols, o_lo, o_hi, c)
            if k < o_hi and owned_cols[k] == c:
                continue
            out_items[r, got] = c
            out_scores[r, got] = popularity[c]
            got += 1
        for t in range(got, n):
            out_items[r, t] = -1
            out_scores[r, t] = 0.0
