"""Keras model builders. Keras is imported inside the functions (see ml/__init__.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ml.config import HIDDEN_UNITS, MLPConfig

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

# Pixel scaling inside the model, so that a saved model takes raw 0-255 RGB images.
PIXEL_SCALE = 1.0 / 255.0


def make_optimizer(config: MLPConfig) -> keras.optimizers.Optimizer:
    """Create the optimizer named in ``config``, with its Keras default learning rate unless one is set."""
    import keras

    optimizer_classes = {
        "sgd": keras.optimizers.SGD,
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
    }
    optimizer_class = optimizer_classes[config.optimizer]
    if config.learning_rate is None:
        return optimizer_class()
    return optimizer_class(learning_rate=config.learning_rate)


def build_mlp(config: MLPConfig, *, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
    """Build and compile the MLP that ``config`` describes.

    Layers: uint8 input, Rescaling(1/255), Flatten, then HIDDEN_UNITS[:hidden_layers]
    Dense layers with the configured activation (each followed by Dropout when
    dropout_rate > 0), and a softmax Dense layer of ``num_classes``. The model is
    compiled with categorical cross-entropy, so labels must be one-hot, and accuracy.
    """
    import keras

    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    layer = keras.layers.Rescaling(PIXEL_SCALE, name="rescaling")(inputs)
    layer = keras.layers.Flatten(name="flatten")(layer)
    for index, units in enumerate(HIDDEN_UNITS[: config.hidden_layers], start=1):
        layer = keras.layers.Dense(units, activation=config.activation, name=f"hidden_{index}")(layer)
        if config.dropout_rate > 0:
            layer = keras.layers.Dropout(config.dropout_rate, name=f"dropout_{index}")(layer)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classes")(layer)

    model = keras.Model(inputs=inputs, outputs=outputs, name=f"mlp_{config.hidden_layers}_{config.activation}")
    model.compile(optimizer=make_optimizer(config), loss="categorical_crossentropy", metrics=["accuracy"])
    return model
