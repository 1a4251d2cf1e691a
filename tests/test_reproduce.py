import re

import numpy as np

from fastseg import KMeans
from fastseg.cli import main
from fastseg.metrics import clustering_accuracy
from fastseg.segment.reproduce import PAPER_RUNS, per_run_table, render_accuracy_report


def test_per_run_table_is_kmeans_from_the_paper_rows():
    from sklearn.datasets import load_iris

    data = load_iris()
    rows = [r for r in per_run_table() if r[0] == "iris"]
    assert len(rows) == len(PAPER_RUNS["iris"]) == 8
    name, idx, paper, one_based, zero_based = rows[0]
    labels = KMeans(3, init=data.data[np.array(idx) - 1], n_init=1, max_iter=200).fit(data.data).labels_
    assert one_based == 100 * clustering_accuracy(data.target, labels)


def test_report_has_every_dataset_and_method(capsys):
    report = render_accuracy_report(n_generations=3, population_size=6)
    for name in ("iris", "wine"):
        for scaling in ("raw", "standardised"):
            assert f"| {name} | {scaling} | GA-K-means" in report
    accs = [float(a) for a in re.findall(r"\| (\d+\.\d+)% \(", report)]
    assert len(accs) == 20 and all(30 <= a <= 100 for a in accs)
    assert main(["reproduce", "accuracy", "--generations", "2", "--population", "4"]) == 0
    assert "90.16%" in capsys.readouterr().out  # the paper's claim is printed beside ours
