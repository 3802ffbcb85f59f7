"""Label decoded images with a saved model: top-k classes, in batches, and a per-process model cache.

TensorFlow is imported only when a model is loaded or run (see ``ml.inference``).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.inference import LoadedModel, load_model

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassScore:
    """One class of a prediction and the model's probability for it."""

    class_name: str
    confidence: float


def predict_probabilities(loaded: LoadedModel, images: np.ndarray, *, batch_size: int) -> np.ndarray:
    """Return class probabilities for uint8 RGB ``images`` (N x H x W x 3), ``batch_size`` at a time.

    Calls the model once per batch with ``predict_on_batch``, which skips the
    per-call setup of ``model.predict`` that dominates with a few images; the
    probabilities are those of ``ml.inference.predict_proba`` up to float rounding.
    """
    expected = tuple(loaded.input_shape)
    if images.ndim != 4 or tuple(images.shape[1:]) != expected:
        raise ValueError(f"Images of shape {images.shape[1:]} given, the model expects {expected}")
    batches = [
        np.asarray(loaded.model.predict_on_batch(images[start:start + batch_size]), dtype=np.float64)
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(batches) if batches else np.empty((0, len(loaded.class_names)))


def top_k(probabilities: np.ndarray, class_names: Sequence[str], *, k: int) -> list[list[ClassScore]]:
    """Return each row's ``k`` most probable classes, most probable first; ties keep class order."""
    k = max(1, min(k, len(class_names)))
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return [
        [ClassScore(class_names[index], float(row[index])) for index in indices]
        for row, indices in zip(probabilities, order, strict=True)
    ]


def predict_top_k(loaded: LoadedModel, images: np.ndarray, *, k: int, batch_size: int) -> list[list[ClassScore]]:
    """Return the top ``k`` classes of each image, from one model call per batch of ``batch_size``."""
    probabilities = predict_probabilities(loaded, images, batch_size=batch_size)
    return top_k(probabilities, loaded.class_names, k=k)


class ModelCache:
    """Models loaded in this process, keyed by a version key, the most recently used kept.

    A worker loads a served model once and reuses it for every later job of the
    same version; at most ``max_models`` stay in memory.
    """

    def __init__(self, *, max_models: int) -> None:
        self.max_models = max_models
        self._models: OrderedDict[object, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object, model_dir: Path) -> LoadedModel:
        """Return the model cached under ``key``, loading it from ``model_dir`` the first time."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]

            logger.info("model %s: loading from %s", key, model_dir)
            loaded = load_model(model_dir)
            self._models[key] = loaded
            while len(self._models) > self.max_models:
                evicted, _ = self._models.popitem(last=False)
                logger.info("model %s: removed from the cache", evicted)
            return loaded

    def __contains__(self, key: object) -> bool:
        return key in self._models
