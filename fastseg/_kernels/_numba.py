"""Every use of Numba's private API, in one place: the kernels' cache loader, the hook that keeps
a cache load from loading Numba's extensions, the cache index a first run is detected by, and the
compile event the command line reports. ``tests/test_numba_internals.py`` fails loudly when a
Numba release changes any of them; ``pyproject.toml`` bounds Numba above to the releases tested.
"""

import numba
from numba.core import event
from numba.core.caching import FunctionCache
from numba.core.runtime import nrt


class _KernelCache(FunctionCache):
    """A kernel's on-disk cache, loaded without refreshing Numba's compiler registries.

    Numba's own loader refreshes the typing and lowering registries of its target first: on the
    first load of a process that imports about 40 of Numba's modules and installs some 2,300
    registrations, a cost paid by every warm first run (``python -m benchmarks.compile_times``, its
    warm rows). The kernels' cached machine code links against Numba's runtime only, initialised
    here, and against symbols Numba installs at import (``numba_xxgemm`` for ``np.dot``). A kernel
    using what a registry module installs when it is imported (``hash()``, typed dicts and sets:
    ``numba.cpython.hashing``'s symbols) would not link from the cache this way; none does. A kernel
    that has to be compiled still gets the registries: Numba's compiler refreshes them itself.
    """

    def load_overload(self, sig, target_context):
        nrt.rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():  # as Numba's loader (Windows file sharing)
            return self._load_overload(sig, target_context)


def _no_extensions():
    pass


def njit(*args, **options):
    """``numba.njit``; a cached kernel loads through ``_KernelCache``, and loading one does not
    load Numba's extensions.

    Before a dispatcher's first compilation or cache load Numba runs every installed extension (the
    ``numba_extensions`` entry points): a scan of every installed package's metadata, then the
    extensions' imports (pydata ``sparse``, which dask-ml brings), paid by a warm first run too
    (``python -m benchmarks.compile_times``). The kernels take NumPy arrays and scalars only. A
    compilation still loads them (Numba's compiler refreshes its registries, which runs the
    extensions), as does the first compilation of a function of the caller's.
    """
    if args:
        return njit(**options)(*args)

    cache = options.pop("cache", False)

    def decorate(py_func):
        dispatcher = numba.njit(**options)(py_func)
        if dispatcher is py_func:  # NUMBA_DISABLE_JIT: the plain function
            return py_func
        if cache:
            dispatcher._cache = _KernelCache(py_func)  # what numba.njit(cache=True) does, in our class
        dispatcher._compilation_chain_init_hook = _no_extensions
        return dispatcher

    return decorate


def cached_for(kernel, arg_type):
    """Whether ``kernel`` was compiled for a first argument of type ``arg_type``, in this process
    or in Numba's cache (its index file); None when this Numba keeps no such index."""
    if any(sig[0] == arg_type for sig in kernel.signatures):
        return True
    try:
        index = kernel._cache._cache_file._load_index()
    except (AttributeError, OSError, EOFError, ValueError):
        return None
    return any(key[0][0] == arg_type for key in index)


def cache_index_paths(kernels):
    """The cache index files of ``kernels`` (which exist once each is cached); None when this
    Numba does not say where it keeps them."""
    try:
        return [k._cache._cache_file._index_path for k in kernels]
    except AttributeError:
        return None


def on_compile_start(callback):
    """Call ``callback()`` whenever Numba starts compiling a function, in this process, until the
    returned function is called."""

    class _Listener(event.Listener):
        def on_start(self, ev):
            callback()

        def on_end(self, ev):
            pass

    listener = _Listener()
    event.register("numba:compile", listener)
    return lambda: event.unregister("numba:compile", listener)
