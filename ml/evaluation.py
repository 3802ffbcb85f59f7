"""Loss, confusion matrix and per-class accuracy of predictions on a labelled split (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Probabilities are clipped to [PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON] before
# the logarithm, as Keras' cross-entropy does, so that a confident mistake costs a
# finite loss.
PROBABILITY_EPSILON = 1e-7


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Return the mean categorical cross-entropy of ``probabilities`` against integer ``labels``.

    Rows are normalised to sum to 1 first, as Keras does for probabilities, so the
    figure matches ``model.evaluate`` with a categorical cross-entropy loss.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    chosen = probabilities[np.arange(len(probabilities)), np.asarray(labels, dtype=np.int64)]
    return float(-np.log(np.clip(chosen, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)).mean())


def confusion_report(probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> dict:
    """Return the confusion matrix and per-class accuracy of ``probabilities`` against integer ``labels``.

    ``matrix[true][predicted]`` counts images; ``per_class_accuracy`` maps each class
    name to the fraction of its images predicted correctly (None for a class without
    images). The result is JSON-serialisable.
    """
    count = len(class_names)
    predicted = np.asarray(probabilities).argmax(axis=1)
    labels = np.asarray(labels, dtype=np.int64)
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    totals = matrix.sum(axis=1)
    per_class = {
        name: (float(matrix[index, index] / totals[index]) if totals[index] else None)
        for index, name in enumerate(class_names)
    }
    return {
        "class_names": list(class_names),
        "matrix": matrix.tolist(),
        "per_class_accuracy": per_class,
        "accuracy": float(np.trace(matrix) / max(int(totals.sum()), 1)),
        "images": int(totals.sum()),
    }
