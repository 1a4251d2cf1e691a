"""scikit-learn's clustering names replaced by fastseg's, for code that cannot be edited.

    fastseg.patch_sklearn()                      # from here on sklearn.cluster.KMeans is fastseg's
    python -m fastseg.patch script.py [ARGS]     # run a script patched
    python -m fastseg.patch -m module [ARGS]     # run a module patched (e.g. -m pytest)

While patched, ``sklearn.cluster`` and ``sklearn.mixture`` hand out fastseg's estimators and
functions (``PATCHED`` lists them), so ``from sklearn.cluster import KMeans`` run after the patch,
and ``sklearn.cluster.KMeans`` looked up at call time, get fastseg's. A name bound before the patch
(``from sklearn.cluster import KMeans`` at the top of a module imported earlier) keeps
scikit-learn's: Python gives no way to rebind it. An estimator whose scikit-learn version has a
parameter fastseg's lacks (a newer scikit-learn) is left as scikit-learn's, said in one line on the
``fastseg`` logger.
"""

import importlib
import inspect
import logging
import runpy
import sys
from pathlib import Path

logger = logging.getLogger("fastseg")

# scikit-learn module -> the names replaced, each with the fastseg module that holds it.
PATCHED = {
    "sklearn.cluster": {
        "KMeans": "fastseg.kmeans",
        "BisectingKMeans": "fastseg.bisecting",
        "MiniBatchKMeans": "fastseg.minibatch",
        "k_means": "fastseg.kmeans",
        "kmeans_plusplus": "fastseg.kmeans",
    },
    "sklearn.mixture": {
        "GaussianMixture": "fastseg.mixture",
        "BayesianGaussianMixture": "fastseg.bayesian_mixture",
    },
}

_originals = {}  # (module, name) -> scikit-learn's object, while patched


def _parameters(obj):
    return set(inspect.signature(obj).parameters)


def patch_sklearn():
    """Make ``sklearn.cluster`` and ``sklearn.mixture`` hand out fastseg's estimators and
    functions (see the module's docstring). Returns the names replaced, as "module.name"."""
    replaced = []
    for module_name, names in PATCHED.items():
        module = importlib.import_module(module_name)
        for name, source in names.items():
            ours = getattr(importlib.import_module(source), name)
            theirs = _originals.get((module_name, name), getattr(module, name))
            missing = sorted(_parameters(theirs) - _parameters(ours))
            if missing:
                logger.warning(
                    "fastseg: %s.%s left as scikit-learn's: fastseg's has no parameter %s",
                    module_name, name, ", ".join(missing),
                )  # fmt: skip
                continue
            _originals[(module_name, name)] = theirs
            setattr(module, name, ours)
            replaced.append(f"{module_name}.{name}")
    return replaced


def unpatch_sklearn():
    """Give ``sklearn.cluster`` and ``sklearn.mixture`` back scikit-learn's own objects."""
    for (module_name, name), theirs in _originals.items():
        setattr(sys.modules[module_name], name, theirs)
    _originals.clear()


def main(argv=None):
    """``python -m fastseg.patch``: usage on stdout for --help; a one-line error (exit 2) without a
    script or module to run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(
            __doc__.strip().splitlines()[0] + "\n\n" + "\n".join(__doc__.splitlines()[2:5]) + "\n"
        )
        return 0
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        sys.stderr.write(
            "fastseg.patch: error: give a script (script.py [ARGS]) or a module (-m module [ARGS])\n"
        )
        return 2
    if argv[0] != "-m" and not Path(argv[0]).is_file():
        sys.stderr.write(f"fastseg.patch: error: {argv[0]} does not exist\n")
        return 2
    patch_sklearn()
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        sys.path.insert(0, str(Path(argv[0]).resolve().parent))
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
