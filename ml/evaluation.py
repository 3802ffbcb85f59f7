"""Confusion matrix and per-class accuracy of predictions on a labelled split (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
