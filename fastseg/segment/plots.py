"""The segmentation plots: K sweep, profile heatmap, customers in two principal components.

``PlotProcess`` draws them in a separate Python process, started early, while the command goes
on (K sweep, pairs, recommendations, tables): matplotlib's import and drawing then take the
machine's second core.
"""

import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .._ahead import start_python

SCATTER_POINTS = 20_000
PLOT_FILES = ("k_sweep.png", "profile_heatmap.png", "pca.png")
# How long finish waits for the plotting process before drawing the plots itself.
WAIT_SECONDS = 600
_TITLES = {
    "inertia": "Inertia (elbow)",
    "silhouette": "Silhouette (higher is better)",
    "calinski_harabasz": "Calinski-Harabasz (higher)",
    "davies_bouldin": "Davies-Bouldin (lower)",
    "ga_best_sse": "GA best SSE",
    "bic": "BIC (lower)",
}


def write_plots(out_dir, sweep, z_means, names, Z, segments, chosen_k):
    """k_sweep.png, profile_heatmap.png and pca.png in ``out_dir``; returns their paths."""
    return _draw(Path(out_dir), _plot_data(sweep, z_means, names, Z, segments, chosen_k))


def start_plots(sweep, z_means, names, Z, segments, chosen_k):
    """``write_plots`` in a separate process, started now; ``finish(out_dir)`` on the returned
    job waits for it and moves the files into ``out_dir``, ``close()`` stops it."""
    job = PlotProcess()
    job.draw(sweep, z_means, names, Z, segments, chosen_k)
    return job


class PlotProcess:
    """A second Python process that imports matplotlib at once, then draws the plots it is
    given (``draw``) while this process goes on; ``finish(out_dir)`` collects them."""

    def __init__(self, compile_basket=False):
        """``compile_basket``: the other process first compiles the pair and recommendation
        kernels (``fastseg.basket.first_run``), which this one then loads from the cache."""
        self.data = None
        self.folder = Path(tempfile.mkdtemp(prefix="fastseg-plots-"))
        # The child imports this module from the same fastseg as this process, and only numpy
        # and matplotlib with it (fastseg.segment loads its modules on first use). Without one,
        # the plots are drawn here at finish.
        self.process = None
        if sys.executable:
            self.process = start_python(
                "from fastseg.segment.plots import _draw_when_told; _draw_when_told()",
                ["--compile-basket"] if compile_basket else [],
                stdin=subprocess.PIPE,
            )

    def draw(self, sweep, z_means, names, Z, segments, chosen_k):
        """Hand the plots of ``write_plots`` to the other process."""
        self.data = _plot_data(sweep, z_means, names, Z, segments, chosen_k)
        with open(self.folder / "data.pickle", "wb") as f:
            pickle.dump(self.data, f)
        if self.process is not None:
            try:
                self.process.stdin.write(f"{self.folder}\n".encode())
                self.process.stdin.close()
            except OSError:  # it has died: finish draws here
                pass

    def finish(self, out_dir):
        """Wait for the plots and move them into ``out_dir``; returns their paths. Should the
        other process fail, they are drawn here (where an error says what went wrong)."""
        out_dir = Path(out_dir)
        try:
            try:
                done = self.process is not None and self.process.wait(timeout=WAIT_SECONDS) == 0
            except subprocess.TimeoutExpired:
                done = False
            if done and all((self.folder / name).is_file() for name in PLOT_FILES):
                for name in PLOT_FILES:
                    shutil.move(str(self.folder / name), str(out_dir / name))
                return [out_dir / name for name in PLOT_FILES]
            return _draw(out_dir, self.data)
        finally:
            self.close()

    def close(self):
        """Stop the other process if it still runs and remove its folder."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if not self.process.stdin.closed:
                self.process.stdin.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class NoPlots:
    """In place of a ``PlotProcess`` when no plots are wanted (``--no-plots``): draws nothing."""

    def draw(self, *plot_data):
        pass

    def finish(self, out_dir):
        return []

    def close(self):
        pass


def _draw_when_told():
    """The other process of ``PlotProcess``: import matplotlib, then draw the plot data saved in
    the folder named on stdin (nothing when stdin closes first); with ``--compile-basket``,
    compile the basket kernels first."""
    if "--compile-basket" in sys.argv:
        from ..basket.first_run import compile_kernels

        compile_kernels()
    import matplotlib.figure  # noqa: F401  (the slow part, done while the other process works)

    folder = sys.stdin.readline().strip()
    if not folder:
        return
    with open(Path(folder) / "data.pickle", "rb") as f:
        data = pickle.load(f)
    _draw(Path(folder), data)


def _plot_data(sweep, z_means, names, Z, segments, chosen_k):
    """What the three plots show, as plain numbers and text (the principal components computed)."""
    from sklearn.decomposition import PCA

    from .profiles import feature_words

    metrics = [
        c
        for c in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "ga_best_sse")
        if c in sweep
    ]
    # One clustering column (or two customers): one component, drawn along the x axis.
    pca = PCA(n_components=min(2, *Z.shape), random_state=0)
    P = pca.fit_transform(Z)
    explained = pca.explained_variance_ratio_
    if P.shape[1] < 2:
        P, explained = np.column_stack([P, np.zeros(len(P))]), np.append(explained, 0.0)
    segments = np.asarray(segments)
    shown = ""
    if len(P) > SCATTER_POINTS:  # a million dots draw slowly and show no more than these do
        keep = np.sort(np.random.default_rng(0).choice(len(P), SCATTER_POINTS, replace=False))
        P, segments = P[keep], segments[keep]
        shown = f" ({SCATTER_POINTS:,} drawn at random)"
    return {
        "k": np.asarray(sweep.index),
        "metrics": {m: sweep[m].to_numpy() for m in metrics},
        "chosen_k": chosen_k,
        "z": z_means.to_numpy(),
        "z_columns": [feature_words(c) for c in z_means.columns],
        "z_rows": [f"{s}: {names[s]}" for s in z_means.index],
        "P": P,
        "segments": segments,
        "names": {int(s): names[s] for s in sorted(names)},
        "explained": explained[:2],
        "shown": shown,
    }


def _draw(out_dir, data):
    # Figures without pyplot: no backend or GUI machinery to import, and nothing global to close.
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    paths = []
    metrics, chosen_k = data["metrics"], data["chosen_k"]
    fig = Figure(figsize=(3.6 * len(metrics), 3.3))
    axes = fig.subplots(1, len(metrics))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
    for ax, (metric, values) in zip(np.atleast_1d(axes), metrics.items()):
        ax.plot(data["k"], values, "o-", color="#3b6ea5", lw=1.8, ms=4)
        ax.axvline(chosen_k, color="#d1495b", ls="--", lw=1.2, label=f"K = {chosen_k}")
        ax.set_title(_TITLES[metric], fontsize=10)
        ax.set_xlabel("K")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(frameon=False)
    paths.append(out_dir / "k_sweep.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})

    z = data["z"]
    size = (max(7.0, 3.5 + 1.1 * z.shape[1]), max(3.0, 1.5 + 0.6 * z.shape[0]))
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.subplots()
    lim = max(1.0, float(np.abs(z).max()))
    im = ax.imshow(z, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(z.shape[1]), data["z_columns"], rotation=35, ha="right")
    ax.set_yticks(range(z.shape[0]), data["z_rows"])
    for (i, j), v in np.ndenumerate(z):
        ax.text(
            j,
            i,
            f"{v:+.1f}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if abs(v) > 0.6 * lim else "black",
        )
    fig.colorbar(im, ax=ax, label="SDs from the overall mean")
    ax.set_title("Segment profiles: mean of each feature")
    paths.append(out_dir / "profile_heatmap.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})

    P, segments = data["P"], data["segments"]
    fig = Figure(figsize=(7, 5.5))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.94)
    cmap = colormaps["tab10"]
    for seg, name in data["names"].items():
        pts = P[segments == seg]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.5, color=cmap((seg - 1) % 10), label=f"{seg}: {name}")
    ev = data["explained"]
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    ax.set_title(f"Customers in the first two principal components{data['shown']}")
    ax.legend(markerscale=3, fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.2)
    paths.append(out_dir / "pca.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    return paths
