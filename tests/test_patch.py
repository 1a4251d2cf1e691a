"""``fastseg.patch_sklearn`` and ``python -m fastseg.patch``: scikit-learn's names hand out
fastseg's estimators while patched, and scikit-learn's again after."""

import logging
import subprocess
import sys

import numpy as np
import pytest
import sklearn.cluster
import sklearn.mixture

import fastseg
from fastseg import patch


@pytest.fixture
def patched():
    replaced = fastseg.patch_sklearn()
    yield replaced
    fastseg.unpatch_sklearn()


def test_patch_and_unpatch(patched):
    assert sorted(patched) == sorted(f"{m}.{n}" for m, names in patch.PATCHED.items() for n in names)
    from sklearn.cluster import BisectingKMeans, KMeans, k_means, kmeans_plusplus
    from sklearn.mixture import GaussianMixture

    assert KMeans is fastseg.KMeans and BisectingKMeans is fastseg.BisectingKMeans
    assert k_means is fastseg.k_means and kmeans_plusplus is fastseg.kmeans_plusplus
    assert GaussianMixture is fastseg.GaussianMixture
    fastseg.unpatch_sklearn()
    assert sklearn.cluster.KMeans.__module__ == "sklearn.cluster._kmeans"
    assert sklearn.mixture.GaussianMixture.__module__ == "sklearn.mixture._gaussian_mixture"
    fastseg.patch_sklearn()  # twice is once: unpatching still gives scikit-learn's back
    fastseg.patch_sklearn()
    fastseg.unpatch_sklearn()
    assert sklearn.cluster.BisectingKMeans.__module__ == "sklearn.cluster._bisect_k_means"


def test_a_patched_fit_gives_scikit_learn_s_result(patched):
    X = np.random.default_rng(0).normal(size=(500, 4))
    ours = sklearn.cluster.KMeans(5, random_state=0).fit(X)
    fastseg.unpatch_sklearn()
    theirs = sklearn.cluster.KMeans(5, random_state=0).fit(X)
    assert type(ours) is fastseg.KMeans and type(theirs) is not fastseg.KMeans
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_a_parameter_fastseg_lacks_keeps_scikit_learn_s_estimator(monkeypatch, caplog):
    class NewerKMeans(sklearn.cluster.KMeans):
        def __init__(self, n_clusters=8, *, new_option=None):
            super().__init__(n_clusters)
            self.new_option = new_option

    monkeypatch.setattr(sklearn.cluster, "KMeans", NewerKMeans)
    with caplog.at_level(logging.WARNING, logger="fastseg"):
        replaced = fastseg.patch_sklearn()
    try:
        assert "sklearn.cluster.KMeans" not in replaced and "sklearn.cluster.BisectingKMeans" in replaced
        assert sklearn.cluster.KMeans is NewerKMeans
        assert [r.getMessage() for r in caplog.records] == [
            "fastseg: sklearn.cluster.KMeans left as scikit-learn's: fastseg's has no parameter new_option"
        ]
    finally:
        fastseg.unpatch_sklearn()
    assert sklearn.cluster.KMeans is NewerKMeans


_SCRIPT = """
import sys
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
print(KMeans.__module__, GaussianMixture.__module__, __name__, *sys.argv[1:])
"""


@pytest.mark.slow
def test_python_m_fastseg_patch_runs_an_unmodified_script(tmp_path, capsys):
    script = tmp_path / "job.py"
    script.write_text(_SCRIPT)
    run = [sys.executable, "-m", "fastseg.patch"]
    done = subprocess.run([*run, str(script), "--k", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fastseg.kmeans", "fastseg.mixture", "__main__", "--k", "3"]
    assert done.stderr == ""
    (tmp_path / "job_module.py").write_text(_SCRIPT)
    done = subprocess.run(
        [*run, "-m", "job_module", "x"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fastseg.kmeans", "fastseg.mixture", "__main__", "x"]
    assert patch.main(["--help"]) == 0 and "python -m fastseg.patch script.py" in capsys.readouterr().out
    for argv in ([], ["-m"], [str(tmp_path / "missing.py")]):
        assert patch.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("fastseg.patch: error:") and len(err.splitlines()) == 1
