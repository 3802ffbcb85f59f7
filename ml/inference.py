"""Load a model saved by ``train_model`` (any family) and use it for evaluation and prediction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.config import EVALUATION_BATCH_SIZE
from ml.training import METADATA_FILE_NAME, MODEL_FILE_NAME

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A Keras model with the class names and metadata saved beside it."""

    model: object
    class_names: tuple[str, ...]
    metadata: dict
    input_shape: tuple[int, int, int]


def load_model(model_dir: Path) -> LoadedModel:
    """Load ``model_dir/model.keras`` and ``model_dir/metadata.json``."""
    import keras

    import ml.layers  # noqa: F401  (registers the custom layers that saved models may hold)

    model_dir = Path(model_dir)
    metadata = json.loads((model_dir / METADATA_FILE_NAME).read_text(encoding="utf-8"))
    model = keras.models.load_model(model_dir / MODEL_FILE_NAME)
    return LoadedModel(
        model=model,
        class_names=tuple(metadata["class_names"]),
        metadata=metadata,
        input_shape=tuple(metadata["input_shape"]),
    )


def evaluate(loaded: LoadedModel, x: np.ndarray, y: np.ndarray, *,
             batch_size: int = EVALUATION_BATCH_SIZE) -> tuple[float, float]:
    """Return ``(loss, accuracy)``, cross-entropy and top-1, on uint8 RGB images ``x`` and integer labels ``y``."""
    from ml.evaluation import cross_entropy

    probabilities = predict_proba(loaded, x, batch_size=batch_size)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == np.asarray(y)))
    return cross_entropy(probabilities, y), accuracy


def predict_proba(loaded: LoadedModel, images: np.ndarray, *, batch_size: int = EVALUATION_BATCH_SIZE) -> np.ndarray:
    """Return class probabilities, one row per image, columns in ``loaded.class_names`` order.

    ``images`` must be uint8 RGB of the model's input shape, N x H x W x 3.
    """
    expected = tuple(loaded.input_shape)
    if images.ndim != 4 or tuple(images.shape[1:]) != expected:
        raise ValueError(f"Images of shape {images.shape[1:]} given, the model expects {expected}")
    return np.asarray(loaded.model.predict(images, batch_size=batch_size, verbose=0))


def confusion(loaded: LoadedModel, x: np.ndarray, y: np.ndarray, *, batch_size: int = EVALUATION_BATCH_SIZE) -> dict:
    """Return the confusion matrix and per-class accuracy on uint8 images ``x`` and integer labels ``y``."""
    from ml.evaluation import confusion_report

    return confusion_report(predict_proba(loaded, x, batch_size=batch_size), y, loaded.class_names)
