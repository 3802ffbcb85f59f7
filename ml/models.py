"""Keras model builders. Keras is imported inside the functions (see ml/__init__.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ml.config import HIDDEN_UNITS, MLPConfig

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

# Pixel scaling inside the model, so that a saved model takes raw 0-255 RGB images.
PIXEL_SCALE = 1.0 / 255.0
# The fast preset multiplies its logits by this before the softmax. Max-pooled ReLU
# features are large, and without the factor the high one-cycle learning rate makes
# the first steps overshoot; fast CIFAR-10 residual networks commonly use 1/8.
FAST_CNN_LOGIT_SCALE = 0.125


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


def _classes_layer(keras, num_classes: int) -> object:
    # float32 even under a mixed-precision policy, so that the softmax and the loss
    # are computed at full precision.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="classes")


def build_cnn(config, *, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
    """Build and compile the study's custom CNN that ``config`` (a ``CNNConfig``) describes.

    Two blocks of ``conv_layers / 2`` 3x3 convolutions (valid padding, stride 1, ReLU)
    of ``filters`` and ``2 * filters`` channels, each block ending in 2x2 max pooling;
    then Flatten, a ReLU Dense layer of ``dense_units`` with Dropout, and softmax.
    """
    import keras

    per_block = config.conv_layers // 2
    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    layer = keras.layers.Rescaling(PIXEL_SCALE, name="rescaling")(inputs)
    for block, filters in enumerate((config.filters, 2 * config.filters), start=1):
        for index in range(1, per_block + 1):
            layer = keras.layers.Conv2D(filters, 3, strides=1, padding="valid", activation="relu",
                                        name=f"block{block}_conv{index}")(layer)
        layer = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(layer)
    layer = keras.layers.Flatten(name="flatten")(layer)
    layer = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(layer)
    if config.dropout_rate > 0:
        layer = keras.layers.Dropout(config.dropout_rate, name="dropout")(layer)
    outputs = _classes_layer(keras, num_classes)(layer)

    model = keras.Model(inputs=inputs, outputs=outputs, name=f"cnn_{config.conv_layers}")
    model.compile(optimizer=make_optimizer(config), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_resnet50(config, *, input_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
    """Build and compile Keras' ResNet50 without weights, average-pooled, with a softmax head."""
    import keras

    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    layer = keras.layers.Rescaling(PIXEL_SCALE, name="rescaling")(inputs)
    backbone = keras.applications.ResNet50(weights=None, include_top=False, input_shape=input_shape, pooling="avg")
    outputs = _classes_layer(keras, num_classes)(backbone(layer))

    model = keras.Model(inputs=inputs, outputs=outputs, name="resnet50")
    model.compile(optimizer=make_optimizer(config), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def build_vgg16_base(config, *, input_shape: tuple[int, int, int], weights_path: Path | None) -> keras.Model:
    """Return VGG16's convolutional base as a model from raw uint8 images to 512 average-pooled features.

    Images are resized to ``config.image_size`` and preprocessed for VGG16 inside the
    model. With ``config.weights == "imagenet"``, the weights come from
    ``weights_path`` when given, otherwise Keras downloads them. Raises
    ``WeightsUnavailableError`` when neither works.
    """
    import keras

    from ml.errors import WeightsUnavailableError
    from ml.layers import CaffePreprocessing

    size = config.image_size
    vgg_shape = (size, size, input_shape[2])
    if config.weights == "random":
        vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=vgg_shape, pooling="avg")
    elif weights_path is not None:
        weights_path = Path(weights_path)
        if not weights_path.is_file():
            raise WeightsUnavailableError.missing_file(path=str(weights_path))
        try:
            vgg = keras.applications.VGG16(weights=str(weights_path), include_top=False, input_shape=vgg_shape,
                                           pooling="avg")
        except (OSError, ValueError) as exc:
            logger.warning("VGG16 weights file %s could not be loaded: %s", weights_path, exc)
            raise WeightsUnavailableError.unreadable_file(path=str(weights_path)) from exc
    else:
        try:
            vgg = keras.applications.VGG16(weights="imagenet", include_top=False, input_shape=vgg_shape,
                                           pooling="avg")
        # Keras' file download wraps network and HTTP errors in a bare Exception.
        except Exception as exc:  # noqa: BLE001
            logger.warning("VGG16 ImageNet weights could not be downloaded: %s", exc)
            raise WeightsUnavailableError.download_failed() from exc
    vgg.trainable = False

    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    layer = keras.layers.Resizing(size, size, name="resize")(inputs) if tuple(input_shape[:2]) != (size, size) else inputs
    layer = CaffePreprocessing(name="vgg16_preprocessing")(layer)
    return keras.Model(inputs=inputs, outputs=vgg(layer), name="vgg16_base")


def build_vgg16_head(config, *, features: int, num_classes: int) -> keras.Model:
    """Build and compile the new head that classifies VGG16's pooled features."""
    import keras

    inputs = keras.Input(shape=(features,), name="features")
    layer = keras.layers.Dense(config.dense_units, activation="relu", name="head_dense")(inputs)
    if config.dropout_rate > 0:
        layer = keras.layers.Dropout(config.dropout_rate, name="head_dropout")(layer)
    outputs = _classes_layer(keras, num_classes)(layer)

    model = keras.Model(inputs=inputs, outputs=outputs, name="vgg16_head")
    model.compile(optimizer=make_optimizer(config), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def join_vgg16(base: keras.Model, head: keras.Model, *, fine_tune: bool, learning_rate: float | None = None) -> keras.Model:
    """Return base + head as one model from raw images; with ``fine_tune``, block5 of VGG16 trains too.

    Compiled with Adam at ``learning_rate`` when fine-tuning, else with the head's
    optimizer settings (the joined model is then only used for inference).
    """
    import keras

    vgg = base.get_layer("vgg16")
    vgg.trainable = fine_tune
    if fine_tune:
        for layer in vgg.layers:
            layer.trainable = layer.name.startswith("block5")
    inputs = keras.Input(shape=base.input_shape[1:], dtype="uint8", name="image")
    outputs = head(base(inputs))
    model = keras.Model(inputs=inputs, outputs=outputs, name="vgg16_transfer")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate) if fine_tune else "adam"
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


# Each image patch of this side is whitened by the fast preset's first layer.
WHITENING_PATCH = 2
# Added to the patch covariance's eigenvalues before their inverse square roots are
# taken, so that the nearly flat directions are not amplified into noise.
WHITENING_EPSILON = 5e-4
# A few thousand images give millions of patches: plenty for a 12x12 covariance.
WHITENING_IMAGES = 2000
# Keras momentum of the fast preset's batch normalisation: the running statistics
# follow the weights closely, which matters when training lasts a few hundred steps.
FAST_CNN_BN_MOMENTUM = 0.6


def patch_whitening(images: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return the kernel and bias of a convolution that whitens the 2x2 patches of ``images``.

    ``images`` are uint8, N x H x W x C; the layer they feed sees them scaled to 0-1.
    The kernel's filters are the eigenvectors of the patch covariance, each divided by
    the square root of its eigenvalue, and their negations, so that a ReLU after the
    layer keeps both signs: ``2 * 4 * C`` filters. The bias subtracts the mean patch. The patches come from a
    seeded random sample of ``WHITENING_IMAGES`` images.
    """
    chosen = np.random.default_rng(seed).permutation(len(images))[:WHITENING_IMAGES]
    sample = images[np.sort(chosen)].astype(np.float32) * PIXEL_SCALE
    windows = np.lib.stride_tricks.sliding_window_view(sample, (WHITENING_PATCH, WHITENING_PATCH), axis=(1, 2))
    # windows is N x H' x W' x C x patch x patch; the kernel's order is patch x patch x C.
    channels = images.shape[-1]
    patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, WHITENING_PATCH * WHITENING_PATCH * channels)
    mean = patches.mean(axis=0, dtype=np.float64)
    covariance = np.cov(patches, rowvar=False, dtype=np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    filters = eigenvectors / np.sqrt(np.maximum(eigenvalues, 0.0) + WHITENING_EPSILON)
    filters = np.concatenate([filters, -filters], axis=1)
    kernel = filters.reshape(WHITENING_PATCH, WHITENING_PATCH, channels, -1)
    return kernel.astype(np.float32), (-mean @ filters).astype(np.float32)


def _fast_stage(keras, layer, filters: int, name: str):
    # The pooling comes before the normalisation, so the normalisation and the residual
    # branch's convolution work on a quarter of the pixels.
    layer = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(layer)
    layer = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(layer)
    layer = keras.layers.BatchNormalization(momentum=FAST_CNN_BN_MOMENTUM, scale=False, name=f"{name}_bn1")(layer)
    layer = keras.layers.Activation("relu", name=f"{name}_relu1")(layer)
    branch = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(layer)
    branch = keras.layers.BatchNormalization(momentum=FAST_CNN_BN_MOMENTUM, scale=False, name=f"{name}_bn2")(branch)
    branch = keras.layers.Activation("relu", name=f"{name}_relu2")(branch)
    return keras.layers.Add(name=f"{name}_add")([layer, branch])


def build_fast_cnn_backbone(config, *, input_shape: tuple[int, int, int], num_classes: int,
                            whitening: tuple[np.ndarray, np.ndarray] | None = None) -> keras.Model:
    """Build the fast preset's CNN (see ``FastCNNConfig``), uncompiled, without test-time augmentation.

    ``whitening`` is the first layer's kernel and bias from ``patch_whitening``; that
    layer never trains. Without it the layer keeps its random initial weights, which
    is what a model about to receive saved weights needs.
    """
    import keras

    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    layer = keras.layers.Rescaling(PIXEL_SCALE, name="rescaling")(inputs)
    whiten = keras.layers.Conv2D(2 * WHITENING_PATCH * WHITENING_PATCH * input_shape[-1], WHITENING_PATCH,
                                 padding="valid", trainable=False, name="whiten")
    layer = keras.layers.Activation("relu", name="whiten_relu")(whiten(layer))
    if whitening is not None:
        whiten.set_weights(list(whitening))
    for stage, multiplier in enumerate((1, 4, 4), start=1):
        layer = _fast_stage(keras, layer, config.width * multiplier, f"stage{stage}")
    layer = keras.layers.GlobalMaxPooling2D(name="pool")(layer)
    logits = keras.layers.Dense(num_classes, use_bias=False, name="logits")(layer)
    logits = keras.layers.Rescaling(FAST_CNN_LOGIT_SCALE, name="logit_scale")(logits)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="classes")(logits)
    return keras.Model(inputs=inputs, outputs=outputs, name="fast_cnn")


def compile_fast_cnn(model: keras.Model, config, *, total_steps: int) -> keras.Model:
    """Compile the fast preset with Nesterov SGD, weight decay, a one-cycle schedule and label smoothing."""
    import keras

    from ml.layers import OneCycleSchedule

    schedule = OneCycleSchedule(peak=config.learning_rate, total_steps=total_steps,
                                warmup_steps=round(total_steps * config.warmup_fraction))
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True,
                                     weight_decay=config.weight_decay)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                  metrics=["accuracy"])
    return model


# Shifts, in pixels (rows, columns), of the shifted test-time views: one pixel up and
# left, and one down and right, as in the airbench recipe (Keller Jordan, "94% on
# CIFAR-10 in 3.29 Seconds on a Single GPU", arXiv 2404.00498).
TEST_TIME_SHIFTS = ((-1, -1), (1, 1))


def with_test_time_augmentation(backbone: keras.Model, *, translate: bool) -> keras.Model:
    """Return a model that averages ``backbone``'s predictions over views of each image.

    The views are the image and its mirror image. With ``translate``, both of them
    shifted by each of ``TEST_TIME_SHIFTS`` are views too. The unshifted pair then
    weighs half and the shifted views the other half.
    """
    import keras

    from ml.layers import HorizontalFlip, ShiftImages

    inputs = keras.Input(shape=backbone.input_shape[1:], dtype="uint8", name="image")
    mirrored = HorizontalFlip(name="mirror")(inputs)
    outputs = keras.layers.Average(name="flip_average", dtype="float32")([backbone(inputs), backbone(mirrored)])
    name = f"{backbone.name}_flip_tta"
    if translate:
        shifted = [backbone(ShiftImages(rows, columns, name=f"shift_{index}_{view}")(image))
                   for index, (rows, columns) in enumerate(TEST_TIME_SHIFTS)
                   for view, image in (("image", inputs), ("mirror", mirrored))]
        shifted = keras.layers.Average(name="shift_average", dtype="float32")(shifted)
        outputs = keras.layers.Average(name="view_average", dtype="float32")([outputs, shifted])
        name = f"{backbone.name}_flip_shift_tta"
    model = keras.Model(inputs=inputs, outputs=outputs, name=name)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    return model
