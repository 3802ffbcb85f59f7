"""Keras layers and a learning-rate schedule that saved models and checkpoints refer to by name.

This module imports Keras at import time: import it inside functions only (see
ml/__init__.py). ``ml.inference.load_model`` and the trainer import it before loading
a model, so that Keras finds the registered classes.
"""

from __future__ import annotations

import keras

PACKAGE = "etiquetado"

# VGG16's ImageNet weights expect BGR images with these channel means subtracted.
VGG16_BGR_MEANS = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package=PACKAGE)
class HorizontalFlip(keras.layers.Layer):
    """Mirror images left to right, always: the second view of flip test-time augmentation."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class ShiftImages(keras.layers.Layer):
    """Shift images by ``rows`` and ``columns`` pixels, filling the uncovered border by reflection.

    A view of test-time augmentation: pixel (i, j) of the output is pixel
    (i + rows, j + columns) of the input.
    """

    def __init__(self, rows: int, columns: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows = int(rows)
        self.columns = int(columns)

    def call(self, inputs):
        border = max(abs(self.rows), abs(self.columns))
        if border == 0:
            return inputs
        padded = keras.ops.pad(inputs, [[0, 0], [border, border], [border, border], [0, 0]], mode="reflect")
        height, width = inputs.shape[1], inputs.shape[2]
        top, left = border + self.rows, border + self.columns
        return padded[:, top:top + height, left:left + width, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rows": self.rows, "columns": self.columns}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CaffePreprocessing(keras.layers.Layer):
    """Turn RGB 0-255 images into what VGG16's ImageNet weights expect: BGR, channel means subtracted."""

    def call(self, inputs):
        bgr = keras.ops.flip(keras.ops.cast(inputs, self.compute_dtype), axis=-1)
        return bgr - keras.ops.convert_to_tensor(VGG16_BGR_MEANS, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class OneCycleSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Rise linearly from a tenth of ``peak`` to ``peak`` over ``warmup_steps``, then fall linearly to 0."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int) -> None:
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        warmup = max(self.warmup_steps, 1)
        decay = max(self.total_steps - self.warmup_steps, 1)
        rising = self.peak * (0.1 + 0.9 * step / warmup)
        falling = self.peak * keras.ops.maximum(0.0, (self.total_steps - step) / decay)
        return keras.ops.where(step < self.warmup_steps, rising, falling)

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}
