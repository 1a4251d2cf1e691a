"""The segmentation plots: K sweep, profile heatmap, customers in two principal components."""

import numpy as np

from .profiles import feature_words

SCATTER_POINTS = 20_000


def write_plots(out_dir, sweep, z_means, names, Z, segments, chosen_k):
    """k_sweep.png, profile_heatmap.png and pca.png in ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    from sklearn.decomposition import PCA

    paths = []
    metrics = [
        c
        for c in ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "ga_best_sse")
        if c in sweep
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.3))
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.9, wspace=0.3)
    titles = {
        "inertia": "Inertia (elbow)",
        "silhouette": "Silhouette (higher is better)",
        "calinski_harabasz": "Calinski-Harabasz (higher)",
        "davies_bouldin": "Davies-Bouldin (lower)",
        "ga_best_sse": "GA best SSE",
        "bic": "BIC (lower)",
    }
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        ax.plot(sweep.index, sweep[metric], "o-", color="#3b6ea5", lw=1.8, ms=4)
        ax.axvline(chosen_k, color="#d1495b", ls="--", lw=1.2, label=f"K = {chosen_k}")
        ax.set_title(titles[metric], fontsize=10)
        ax.set_xlabel("K")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(frameon=False)
    paths.append(out_dir / "k_sweep.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)

    size = (max(7.0, 3.5 + 1.1 * z_means.shape[1]), max(3.0, 1.5 + 0.6 * z_means.shape[0]))
    fig, ax = plt.subplots(figsize=size, constrained_layout=True)
    lim = max(1.0, float(np.abs(z_means.to_numpy()).max()))
    im = ax.imshow(z_means.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(
        range(z_means.shape[1]), [feature_words(c) for c in z_means.columns], rotation=35, ha="right"
    )
    ax.set_yticks(range(z_means.shape[0]), [f"{s}: {names[s]}" for s in z_means.index])
    for (i, j), v in np.ndenumerate(z_means.to_numpy()):
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
    plt.close(fig)

    pca = PCA(n_components=2, random_state=0)
    P = pca.fit_transform(Z)
    segments = np.asarray(segments)
    shown = ""
    if len(P) > SCATTER_POINTS:  # a million dots draw slowly and show no more than these do
        keep = np.sort(np.random.default_rng(0).choice(len(P), SCATTER_POINTS, replace=False))
        P, segments = P[keep], segments[keep]
        shown = f" ({SCATTER_POINTS:,} drawn at random)"
    fig, ax = plt.subplots(figsize=(7, 5.5))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.94)
    cmap = plt.get_cmap("tab10")
    for seg in sorted(names):
        pts = P[segments == seg]
        ax.scatter(
            pts[:, 0], pts[:, 1], s=6, alpha=0.5, color=cmap((seg - 1) % 10), label=f"{seg}: {names[seg]}"
        )
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    ax.set_title(f"Customers in the first two principal components{shown}")
    ax.legend(markerscale=3, fontsize=8, frameon=False, loc="best")
    ax.grid(alpha=0.2)
    paths.append(out_dir / "pca.png")
    fig.savefig(paths[-1], dpi=100, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return paths
