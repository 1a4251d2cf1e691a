import numpy as np
import pytest

from fastseg.metrics import clustering_accuracy


def test_perfect_and_permuted_labels():
    y = [0, 0, 1, 1, 2, 2]
    assert clustering_accuracy(y, [2, 2, 0, 0, 1, 1]) == 1.0
    assert clustering_accuracy(y, [2, 2, 0, 0, 1, 1], method="hungarian") == 1.0


def test_hand_made_case():
    # cluster 0 = {a, a, b}, cluster 1 = {b, b, c}, cluster 2 = {c}
    y = ["a", "a", "b", "b", "b", "c", "c"]
    labels = [0, 0, 0, 1, 1, 1, 2]
    assert clustering_accuracy(y, labels) == pytest.approx(5 / 7)  # 2 + 2 + 1
    assert clustering_accuracy(y, labels, method="hungarian") == pytest.approx(5 / 7)


def test_majority_lets_two_clusters_take_one_class_hungarian_does_not():
    y = [0, 0, 0, 0, 1, 1]
    labels = [0, 0, 1, 1, 1, 1]  # cluster 1 = {0, 0, 1, 1}: tie, the first class wins
    assert clustering_accuracy(y, labels) == pytest.approx(4 / 6)
    assert clustering_accuracy(y, labels, method="hungarian") == pytest.approx(4 / 6)
    y = [0, 0, 0, 0, 1, 1]
    labels = [0, 0, 1, 1, 2, 2]
    assert clustering_accuracy(y, labels) == 1.0  # clusters 0 and 1 both take class 0
    assert clustering_accuracy(y, labels, method="hungarian") == pytest.approx(4 / 6)


def test_bad_input():
    with pytest.raises(ValueError, match="different lengths"):
        clustering_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="method"):
        clustering_accuracy([0, 1], [0, 1], method="best")
    with pytest.raises(ValueError, match="empty"):
        clustering_accuracy([], [])
    with pytest.raises(ValueError, match="1-D"):
        clustering_accuracy(np.zeros((2, 2)), np.zeros((2, 2)))
