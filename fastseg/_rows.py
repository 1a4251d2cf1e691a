"""Row storage and streaming: dense, CSR or memmapped rows, their batches, column moments and
the storage-dependent kernel calls the Lloyd and seeding drivers make.

Inputs here are already validated: ``X`` is a C-ordered float32/float64 array or a CSR
matrix with int32 indices, ``sample_weight`` has X's dtype, centres are ``(k, d)`` of X's dtype.
"""

import mmap
import sys
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp

from ._ahead import assign_kernel
from ._blas import blas_single_thread, score_kernel
from ._kernels import distances as _dk
from ._kernels import lloyd as _lk
from ._kernels import moments as _mk
from ._kernels import scores as _sck
from ._kernels import seeding as _sk
from ._kernels._config import BLOCK_ROWS, in_parallel, slot_bounds
from ._validation import check_magnitude

# Slots per batch when a memmap is streamed: at 1e8 rows a slot is 1.6e6 rows, so a batch
# keeps a few hundred MB resident while two threads still share its slots.
STREAM_SLOTS = 4
# Rows per block of the column-moment pass (bounded float64 temporaries).
MOMENT_ROWS = 1 << 16
# In-memory float32 rows are transposed for the fused kernel once per fit while the copy takes at
# most this many bytes; larger arrays and memmaps are transposed batch by batch on every pass.
BLOCKS_BYTES = 1 << 28
# float64 rows keep no transposed copy: the fused kernel transposes each block of X into a block
# in cache as it goes. Reading X alone beats reading a kept copy there, since the kept copy's 4 KB
# blocks (a page each, 8 feature rows) stall on memory; float32 blocks are half that and the kept
# copy stays faster. Per-iteration cost: ``python -m benchmarks.compare`` (natively and --isa avx2).
KEEP_BLOCKS_DTYPES = (np.dtype(np.float32),)


def _drop_pages(X, r0, r1):
    """Unmap the pages of rows ``r0:r1`` of a memmap once a pass is done with them.

    The file keeps its contents (shared mappings only; a copy-on-write memmap is left
    alone), the process's resident memory stays at about one batch.
    """
    mm = getattr(X, "_mmap", None)
    if mm is None or getattr(X, "mode", "c") not in ("r", "r+") or not hasattr(mm, "madvise"):
        return
    base = np.frombuffer(mm, dtype=np.uint8)
    start = X[r0:r1].ctypes.data - base.ctypes.data
    del base
    page = mmap.PAGESIZE
    lo = (start // page) * page
    hi = min(len(mm), start + (r1 - r0) * X.strides[0])
    if hi > lo:
        mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def block_moments(block):
    """(rows, column means, column sums of squared deviations) of a float64 block, float64."""
    mean = block.mean(axis=0)
    centred = block - mean
    return block.shape[0], mean, np.einsum("ij,ij->j", centred, centred)


def merge_moments(a, b):
    """Chan et al.'s update: the (rows, means, sums of squared deviations) of two parts together."""
    (na, mean_a, m2_a), (nb, mean_b, m2_b) = a, b
    total = na + nb
    if total == 0:
        return a
    delta = mean_b - mean_a
    return total, mean_a + delta * (nb / total), m2_a + m2_b + delta**2 * (na * nb / total)


class _Writeable:
    """The array interface of a read-only array, said to be writeable (see ``kernel_view``)."""

    def __init__(self, X):
        self.source = X  # keeps the memory alive
        interface = dict(X.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface


def kernel_view(X):
    """``X`` itself, or for a read-only array the same memory as an array Numba types as
    writeable.

    Numba compiles a kernel again for a read-only argument: a read-only X (a memmap opened
    'r', a NumPy view of Arrow memory, scikit-learn's read-only checks) would compile a second
    set of every kernel on a first run. The kernels only read X (every X is IN), so the view is
    never written to.
    """
    if X.flags.writeable:
        return X
    return np.asarray(_Writeable(X))


class Rows:
    """Dense or CSR rows with the kernel calls that depend on the storage.

    Keeps the Lloyd and seeding loops free of ``if sparse`` branches. A dense C-ordered
    ``numpy.memmap`` is streamed: every pass walks it in batches of ``STREAM_SLOTS`` slots and
    unmaps each batch after use. Batches are whole slots of the same partition, so the
    statistics, and the fit, are identical to those of the same rows in memory.
    """

    def __init__(self, X, shift=None):
        self.sparse = sp.issparse(X)
        # What the GEMM and dot kernels' scores subtract from the rows (a fitted model's training
        # mean); None: the rows' own mean.
        self._shift = shift
        self.source = X  # the caller's rows (a memmap's pages are dropped through it)
        self.X = X if self.sparse else kernel_view(X)
        self.n, self.d = X.shape
        self.dtype = X.dtype
        self.bounds = slot_bounds(self.n)
        self.stream = isinstance(X, np.memmap)
        self._moments = None
        self._blocks = None
        self._blocks_filled = False  # the transposed blocks hold all rows (kept across passes)
        self._ahead = None  # the assignment kernel being compiled in another process

    def shifts_rows(self, n_clusters):
        """True when the assignment of dense rows to ``n_clusters`` centres scores rows shifted by
        their mean (the GEMM and dot kernels), which ``moments`` computes."""
        return not self.sparse and score_kernel(self.d, n_clusters, self.dtype) != _lk.FUSED

    def needs_mean(self, n_clusters):
        """True when the assignment to ``n_clusters`` centres subtracts the rows' own mean (never
        for ``n_clusters=None``: no assignment follows)."""
        return self._shift is None and n_clusters is not None and self.shifts_rows(n_clusters)

    def known_shift(self, n_clusters):
        """What the assignment to ``n_clusters`` centres subtracts from the rows, when that is
        known without a pass; None otherwise, or when it subtracts nothing."""
        if not self.shifts_rows(n_clusters):
            return None
        if self._shift is not None:
            return self._shift
        return None if self._moments is None else self.mean

    def compile_ahead(self, n_clusters):
        """On a first run (the kernel cache lacks it), compile the assignment kernel for
        ``n_clusters`` centres in another process while this one goes on (``fastseg._ahead``)."""
        self._ahead = assign_kernel(self, n_clusters)

    def stop_ahead(self):
        """Stop compiling ahead (the fit ended, or failed, before its first assignment)."""
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None

    def batches(self, step=None):
        """``(first slot, end slot, first row, end row, slot edges within the batch)`` per batch.

        ``step`` slots a batch; by default all of them, or ``STREAM_SLOTS`` for a memmap.
        """
        n_slots = self.bounds.shape[0] - 1
        step = step or (STREAM_SLOTS if self.stream else n_slots)
        for a in range(0, n_slots, step):
            b = min(a + step, n_slots)
            r0, r1 = int(self.bounds[a]), int(self.bounds[b])
            yield a, b, r0, r1, self.bounds[a : b + 1] - r0
            if self.stream:
                _drop_pages(self.source, r0, r1)

    def moments(self):
        """Column means and variances, float64, in one pass over the rows (per slot, then Chan's
        update in slot order), which also checks the values.

        Raises ValueError if a value is NaN or infinite, or so large that squared distances would
        overflow (``_validation.check_magnitude``): the checks a fit makes of dense rows.
        """
        if self._moments is not None:
            return self._moments
        if self.sparse:
            X = self.X
            mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
            var = np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel() - mean**2
        else:
            n_slots = self.bounds.shape[0] - 1
            sums, squares = np.empty((n_slots, self.d)), np.empty((n_slots, self.d))
            top, bottom = np.empty(n_slots), np.empty(n_slots)
            # Each slot's first row, the origin of its sums, read with its batch: a memmap's
            # batch is unmapped after it (a read afterwards maps a large folio of the file again).
            firsts = np.zeros((n_slots, self.d))
            for a, b, r0, r1, local in self.batches():
                X = self.X[r0:r1]
                filled = local[1:] > local[:-1]
                firsts[a:b][filled] = X[local[:-1][filled]]
                in_parallel(
                    b - a,
                    lambda p, q, a=a, local=local, X=X: _mk.column_moments(
                        X, local[p : q + 1], sums[a + p : a + q], squares[a + p : a + q],
                        top[a + p : a + q], bottom[a + p : a + q],
                    ),
                    work=X.size,
                )  # fmt: skip
            filled = self.bounds[1:] > self.bounds[:-1]
            if not (np.isfinite(top[filled]).all() and np.isfinite(bottom[filled]).all()):
                raise ValueError("Input X contains NaN or infinity.")
            largest = max(float(top.max()), -float(bottom.min())) if self.n else 0.0
            check_magnitude(self.X, largest=largest)  # before the sums: huge values overflow them
            if not (np.isfinite(sums).all() and np.isfinite(squares).all()):
                raise ValueError("Input X contains NaN or infinity.")  # a NaN: max and min skip it
            count, mean, m2 = 0, np.zeros(self.d), np.zeros(self.d)
            for s in range(n_slots):
                r0, r1 = int(self.bounds[s]), int(self.bounds[s + 1])
                if r1 == r0:
                    continue
                part = (
                    r1 - r0,
                    firsts[s] + sums[s] / (r1 - r0),
                    np.maximum(squares[s] - sums[s] ** 2 / (r1 - r0), 0.0),
                )
                count, mean, m2 = merge_moments((count, mean, m2), part)
            var = m2 / max(count, 1)
        self._moments = (mean, var)
        return self._moments

    def check(self, n_clusters, variances=False):
        """The value checks of dense rows in one pass, before an assignment to ``n_clusters``
        centres (None: no assignment): ``moments`` when it is needed anyway (``variances``, a
        memmap's streamed check, or the mean the GEMM and dot kernels' scores subtract), else
        ``check_values``."""
        if self.stream or variances or self.needs_mean(n_clusters):
            self.moments()
        else:
            self.check_values()

    def check_values(self):
        """The value checks of ``moments`` without the variances, in one pass: raises ValueError
        for a NaN or an infinity, or values so large that squared distances would overflow.
        Dense rows in memory (a streamed memmap is checked by ``moments``)."""
        ubits = np.uint32 if self.dtype == np.float32 else np.uint64
        flat = self.X.reshape(-1).view(ubits)
        edges = self.bounds * self.d
        largest = np.empty(edges.shape[0] - 1, dtype=ubits)
        magnitude = ubits(np.iinfo(ubits).max >> 1)
        in_parallel(
            largest.shape[0],
            lambda a, b: _mk.largest_bits(flat, magnitude, edges[a : b + 1], largest[a:b]),
            work=flat.size,
        )
        top = largest.max() if largest.size else ubits(0)
        if top >= np.array(np.inf, dtype=self.dtype).view(ubits):
            raise ValueError("Input X contains NaN or infinity.")
        check_magnitude(self.X, largest=float(np.array(top, dtype=ubits).view(self.dtype)))

    @property
    def mean(self):
        return self.moments()[0].astype(self.dtype)

    def csr(self):
        return self.X.data, self.X.indices, self.X.indptr

    def row(self, i):
        if self.sparse:
            return self.X[[i]].toarray()[0]
        return np.array(self.X[i])

    def _weights(self, sample_weight, r0, r1):
        return sample_weight[r0:r1] if sample_weight.shape[0] else sample_weight

    def slot_stats(self, k):
        """Zeroed per-slot statistics (sums, weights, counts) that ``assign`` keeps up to date
        across the passes of one run (``labels`` all -1 at first)."""
        n_slots = self.bounds.shape[0] - 1
        return np.zeros((n_slots, k, self.d)), np.zeros((n_slots, k)), np.zeros((n_slots, k), dtype=np.int64)

    def assign(self, sample_weight, centres, labels, update=True, stats=None, fresh=False, inertia=True):
        """Map and reduce: new labels in place. ``sample_weight`` may be ``unit_weights``.

        With ``stats`` from ``slot_stats`` (and the labels of the previous pass) only the rows whose
        label changes are moved between the statistics; without, or with ``fresh`` (the first pass
        of a run), every row is added afresh into ``stats``. Both add the rows in row order, so the
        numbers are the same; moving every row costs more (it leaves one cluster and joins another).

        ``inertia=False`` lets a pass skip the inertia where it costs a computation of its own
        (the GEMM and dot kernels' exact distances): it is then None.

        Returns (sums (k, d) float64, weights (k,) float64, inertia, number of labels changed).
        """
        if self._ahead is not None:
            self._ahead.wait()
            self._ahead = None
        k, d = centres.shape
        n_slots = self.bounds.shape[0] - 1
        mode = (
            _lk.NO_STATS if not update else _lk.FRESH if stats is None or fresh or self.sparse else _lk.MOVES
        )
        if stats is None:
            shape = (n_slots, k) if update else (n_slots, 0)
            stats = (
                np.empty(shape + (d,) if update else (n_slots, 0, 0)),
                np.empty(shape),
                np.empty(shape, np.int64),
            )
        sums, weights, counts = stats
        exact = bool(inertia)
        inertia = np.empty(n_slots)
        changed = np.empty(n_slots, dtype=np.int64)
        if self.sparse:
            data, indices, indptr = self.csr()
            in_parallel(
                n_slots,
                lambda a, b: _lk.assign_sparse(
                    data, indices, indptr, sample_weight, centres, self.bounds[a : b + 1], labels,
                    sums[a:b], weights[a:b], inertia[a:b], changed[a:b], mode,
                ),
                work=data.size * k,
            )  # fmt: skip
        elif self.shifts_rows(k):
            shift = self.mean if self._shift is None else self._shift
            dot = score_kernel(d, k, self.dtype) == _lk.DOT
            kernel = _sck.assign_dot if dot else _sck.assign_gemm
            with nullcontext() if dot else blas_single_thread():
                for a, b, r0, r1, local in self.batches():
                    X, w, lab = self.X[r0:r1], self._weights(sample_weight, r0, r1), labels[r0:r1]
                    in_parallel(
                        b - a,
                        lambda p, q, a=a, local=local, X=X, w=w, lab=lab: kernel(
                            X, w, centres, shift, local[p : q + 1], lab, sums[a + p : a + q],
                            weights[a + p : a + q], counts[a + p : a + q], inertia[a + p : a + q],
                            changed[a + p : a + q], mode, exact,
                        ),
                        work=X.size * k,
                    )  # fmt: skip
            if not exact:
                return sums.sum(axis=0), weights.sum(axis=0), None, int(changed.sum())
        else:
            # A pass without statistics on rows not transposed yet (predict, score) is the only pass
            # over them: each block is transposed in cache, no copy is made.
            scratch = self.dtype not in KEEP_BLOCKS_DTYPES or not (update or self._blocks_filled)
            keep = (
                not scratch
                and not self.stream
                and self.n * _lk.padded_features(d) * self.dtype.itemsize <= BLOCKS_BYTES
            )
            fill = not (keep and self._blocks_filled)
            # Batches only bound the buffer of transposed rows (and a memmap's resident pages).
            for a, b, r0, r1, local in self.batches(None if keep or scratch else STREAM_SLOTS):
                X, w, lab = self.X[r0:r1], self._weights(sample_weight, r0, r1), labels[r0:r1]
                xb = self._block_buffer(0 if scratch else r1 - r0)
                in_parallel(
                    b - a,
                    lambda p, q, a=a, local=local, X=X, w=w, lab=lab, xb=xb: _lk.assign_fused(
                        X, xb, w, centres, local[p : q + 1], lab, sums[a + p : a + q],
                        weights[a + p : a + q], counts[a + p : a + q], inertia[a + p : a + q],
                        changed[a + p : a + q], mode, fill,
                    ),
                    work=X.size * k,
                )  # fmt: skip
            self._blocks_filled = keep
        # Slot statistics are added in slot order: the result does not depend on threads.
        return sums.sum(axis=0), weights.sum(axis=0), float(inertia.sum()), int(changed.sum())

    def _block_buffer(self, n_rows):
        """The fused kernel's transposed blocks for ``n_rows`` rows (filled by the kernel's first
        pass when the copy of all rows is kept, by every pass when one buffer serves each batch;
        none for ``n_rows=0``: the kernel then transposes each block in cache)."""
        if n_rows == 0:
            return np.zeros((0, _lk.padded_features(self.d), BLOCK_ROWS), dtype=self.dtype)
        n_blocks = -(-n_rows // BLOCK_ROWS)
        if self._blocks is None or self._blocks.shape[0] < n_blocks:
            # Zeroed once: padded features must stay 0; stale lanes past the last row are ignored.
            self._blocks = np.zeros((n_blocks, _lk.padded_features(self.d), BLOCK_ROWS), dtype=self.dtype)
            self._blocks_filled = False
        return self._blocks[:n_blocks]

    def sq_distances(self, centres):
        out = np.empty((self.n, centres.shape[0]), dtype=self.dtype)
        edges = self.bounds
        if self.sparse:
            data, indices, indptr = self.csr()
            in_parallel(
                edges.shape[0] - 1,
                lambda a, b: _dk.sq_distances_sparse(
                    data, indices, indptr[edges[a] : edges[b] + 1], centres, out[edges[a] : edges[b]]
                ),
            )
        else:
            in_parallel(
                edges.shape[0] - 1,
                lambda a, b: _dk.sq_distances(self.X[edges[a] : edges[b]], centres, out[edges[a] : edges[b]]),
            )
        return out

    def sq_distances_to_assigned(self, centres, labels):
        out = np.empty(self.n)
        edges = self.bounds
        if self.sparse:
            data, indices, indptr = self.csr()
            in_parallel(
                edges.shape[0] - 1,
                lambda a, b: _dk.sq_distances_to_assigned_sparse(
                    data, indices, indptr[edges[a] : edges[b] + 1], centres,
                    labels[edges[a] : edges[b]], out[edges[a] : edges[b]],
                ),
            )  # fmt: skip
        else:
            for a0, b0, _, _, _ in self.batches():
                in_parallel(
                    b0 - a0,
                    lambda a, b, a0=a0: self._to_assigned(centres, labels, out, edges[a0 + a], edges[a0 + b]),
                )
        return out

    def _to_assigned(self, centres, labels, out, r0, r1):
        _dk.sq_distances_to_assigned(self.X[r0:r1], centres, labels[r0:r1], out[r0:r1])

    def farthest(self, centres, labels, m, sample_weight=None):
        """The ``m`` rows farthest from their centres (farthest first, ties by row), in blocks;
        rows of weight 0 count as at distance -1 (never chosen before a row of positive weight).

        Returns (row indices int64, squared distances float64).
        """
        cand_dist, cand_rows = [], []
        block = np.empty(min(self.n, MOMENT_ROWS * 16))
        for _, _, r0, r1, _ in self.batches():
            for start in range(r0, r1, block.shape[0]):
                stop = min(start + block.shape[0], r1)
                out = block[: stop - start]
                _dk.sq_distances_to_assigned(self.X[start:stop], centres, labels[start:stop], out)
                if sample_weight is not None and sample_weight.shape[0]:
                    out[sample_weight[start:stop] == 0] = -1.0
                top = np.argpartition(out, -min(m, out.size))[-min(m, out.size) :]
                cand_dist.append(out[top].copy())
                cand_rows.append(top + start)
        dist, idx = np.concatenate(cand_dist), np.concatenate(cand_rows)
        order = np.lexsort((idx, -dist))[:m]
        return idx[order], dist[order]

    def numpy_mean(self):
        """``X.mean(axis=0)`` in X's dtype, bit for bit: numpy adds the rows of a C-ordered array
        one after another in each column, so batches added in row order give the same sums."""
        if not self.stream:
            return np.asarray(self.X.mean(axis=0), dtype=self.dtype)
        total = np.zeros(self.d, dtype=self.dtype)
        for _, _, r0, r1, _ in self.batches():
            for start in range(r0, r1, MOMENT_ROWS):
                block = self.X[start : min(start + MOMENT_ROWS, r1)]
                total = np.add.reduce(np.concatenate([total[None, :], block]), axis=0)
        return total / self.dtype.type(self.n)

    def closer(self, sample_weight, shift, centre, closest, slot_pot):
        """Seeding pass: lower ``closest`` towards ``centre``, refresh the slot potentials."""
        for a, b, r0, r1, local in self.batches():
            X, w, near = self.X[r0:r1], self._weights(sample_weight, r0, r1), closest[r0:r1]
            in_parallel(
                b - a,
                lambda p, q, a=a, local=local, X=X, w=w, near=near: _sk.closer(
                    X, w, shift, centre, local[p : q + 1], near, slot_pot[a + p : a + q]
                ),
                work=X.size,
            )

    def candidate_potentials(self, sample_weight, shift, closest, cand_rows):
        """Seeding pass: potential of each candidate, per slot ``(n_slots, L)``."""
        cand_pot = np.empty((self.bounds.shape[0] - 1, cand_rows.shape[0]))
        for a, b, r0, r1, local in self.batches():
            X, w, near = self.X[r0:r1], self._weights(sample_weight, r0, r1), closest[r0:r1]
            in_parallel(
                b - a,
                lambda p, q, a=a, local=local, X=X, w=w, near=near: _sk.candidate_potentials(
                    X, w, shift, near, cand_rows, local[p : q + 1], cand_pot[a + p : a + q]
                ),
                work=X.size * cand_rows.shape[0],
            )
        return cand_pot

    def candidate_distances(self, shift, closest, cand_rows, out):
        """Seeding pass: ``out[t] = minimum(closest, squared distances to cand_rows[t])``, (L, n)."""
        for a, b, r0, r1, local in self.batches():
            X, near, dist = self.X[r0:r1], closest[r0:r1], out[:, r0:r1]
            in_parallel(
                b - a,
                lambda p, q, local=local, X=X, near=near, dist=dist: _sk.candidate_distances(
                    X, shift, near, cand_rows, local[p : q + 1], dist
                ),
                work=X.size * cand_rows.shape[0],
            )


def compile_assignment():
    """The other process of ``fastseg._ahead``: one assignment pass on a few rows of the fit's
    dtype and width (``argv``), through ``Rows.assign`` itself, so the kernel gets the fit's exact
    types."""
    dtype, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rows = Rows(np.zeros((max(k, 2), d), dtype=dtype))
    labels = np.full(rows.n, -1, dtype=np.int32)
    rows.assign(np.empty(0, dtype=dtype), np.zeros((k, d), dtype=dtype), labels, stats=rows.slot_stats(k))
