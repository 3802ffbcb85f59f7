"""How each model family trains: its phases, its compute precision and its final saved model.

``training_plan`` turns a family's config into a ``TrainingPlan`` that the generic
trainer in ``ml.training`` runs. Keras is imported inside the functions (see
ml/__init__.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.config import EVALUATION_BATCH_SIZE, family_of
from ml.pipeline import CROP_PADDING

logger = logging.getLogger(__name__)

CPU_FLAGS_PATH = Path("/proc/cpuinfo")
# Either flag means the CPU computes bfloat16 matrix products natively.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
FLOAT32 = "float32"
CPU_MIXED_POLICY = "mixed_bfloat16"
GPU_MIXED_POLICY = "mixed_float16"


@dataclass(frozen=True)
class Devices:
    """What the training process computes on."""

    gpu_count: int
    cpu_bf16: bool


def cpu_supports_bf16(cpuinfo_path: Path = CPU_FLAGS_PATH) -> bool:
    """Return True when the CPU flags list AVX512-BF16 or AMX-BF16."""
    try:
        text = cpuinfo_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def configure_devices() -> Devices:
    """Let TensorFlow grow GPU memory as needed, and report the GPUs and bfloat16 support.

    On a machine without a GPU this changes nothing.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # Memory growth can only be set before the GPU is first used; a forked
            # worker child that already trained keeps the setting of its first run.
            logger.debug("GPU %s already initialised, memory growth unchanged", gpu.name)
    return Devices(gpu_count=len(gpus), cpu_bf16=cpu_supports_bf16())


def precision_policy(config: object, devices: Devices) -> str:
    """Return the Keras dtype policy a run computes in.

    On a GPU the convolutional families trained from scratch (cnn, resnet50, fast_cnn)
    use float16 mixed precision; the MLP and VGG16's frozen features stay float32. On a
    CPU only a config with ``mixed_precision`` set uses bfloat16, and only where the
    CPU has it; elsewhere computing in bfloat16 is emulated and slower than float32.
    """
    family = family_of(config)
    if devices.gpu_count and family in ("cnn", "resnet50", "fast_cnn"):
        return GPU_MIXED_POLICY
    if getattr(config, "mixed_precision", False) and devices.cpu_bf16 and not devices.gpu_count:
        return CPU_MIXED_POLICY
    return FLOAT32


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under the dtype policy ``name``, then restore float32 for later runs in this process."""
    import keras

    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(FLOAT32)


@dataclass
class Phase:
    """A stretch of epochs with one trainable model.

    ``build(previous)`` returns the compiled model, given the model the previous phase
    ended with (None for the first phase). ``transform`` maps images to what the model
    trains on (VGG16's features), or is None for the images themselves. With
    ``augment``, random crops shift images by up to ``crop_padding`` pixels.
    """

    name: str
    epochs: int
    build: Callable[[object | None], object]
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    augment: bool = False
    crop_padding: int = CROP_PADDING


@dataclass
class TrainingPlan:
    """The phases of a run, and ``finish(model)``: the float32 model that takes raw uint8 images."""

    phases: list[Phase]
    finish: Callable[[object], object]
    policy: str


def _float32_copy(model: object, rebuild: Callable[[], object]) -> object:
    """Return ``rebuild()``, built in float32, holding ``model``'s weights."""
    with dtype_policy(FLOAT32):
        copy = rebuild()
    copy.set_weights(model.get_weights())
    return copy


def training_plan(config: object, *, input_shape: tuple[int, int, int], num_classes: int, steps_per_epoch: int,
                  devices: Devices, weights_path: Path | None = None,
                  train_images: np.ndarray | None = None) -> TrainingPlan:
    """Return how ``config``'s family trains; see the module docstring.

    ``train_images`` are the training images; the fast preset's first layer is
    computed from them when its model is first built.
    """
    from ml import models

    family = family_of(config)
    policy = precision_policy(config, devices)
    shape = {"input_shape": input_shape, "num_classes": num_classes}

    def built(builder: Callable[[], object]) -> object:
        with dtype_policy(policy):
            return builder()

    def same_or_float32(rebuild: Callable[[], object]) -> Callable[[object], object]:
        if policy == FLOAT32:
            return lambda model: model
        return lambda model: _float32_copy(model, rebuild)

    if family == "mlp":
        return TrainingPlan(phases=[Phase("mlp", config.epochs, lambda previous: models.build_mlp(config, **shape))],
                            finish=lambda model: model, policy=FLOAT32)

    if family in ("cnn", "resnet50"):
        builder = models.build_cnn if family == "cnn" else models.build_resnet50
        return TrainingPlan(
            phases=[Phase(family, config.epochs, lambda previous: built(lambda: builder(config, **shape)),
                          augment=config.augment)],
            finish=same_or_float32(lambda: builder(config, **shape)),
            policy=policy,
        )

    if family == "fast_cnn":
        total_steps = steps_per_epoch * config.epochs

        def build_fast(previous: object | None) -> object:
            if train_images is None:
                raise ValueError("the fast_cnn family needs the training images for its whitening layer")
            whitening = models.patch_whitening(train_images, seed=config.seed)
            backbone = built(lambda: models.build_fast_cnn_backbone(config, **shape, whitening=whitening))
            return models.compile_fast_cnn(backbone, config, total_steps=total_steps)

        def finish_fast(model: object) -> object:
            backbone = _float32_copy(model, lambda: models.build_fast_cnn_backbone(config, **shape))
            if config.flip_test_time_augmentation:
                return models.with_test_time_augmentation(backbone,
                                                          translate=config.translate_test_time_augmentation)
            backbone.compile(loss="categorical_crossentropy", metrics=["accuracy"])
            return backbone

        return TrainingPlan(phases=[Phase("fast_cnn", config.epochs, build_fast, augment=config.augment,
                                          crop_padding=config.crop_padding)],
                            finish=finish_fast, policy=policy)

    if family == "vgg16_transfer":
        return _vgg16_plan(config, input_shape=input_shape, num_classes=num_classes, policy=policy,
                           weights_path=weights_path)

    raise AssertionError(f"No training plan for family {family}")


def _vgg16_plan(config: object, *, input_shape: tuple[int, int, int], num_classes: int, policy: str,
                weights_path: Path | None) -> TrainingPlan:
    from ml import models

    # The base is built once, in float32: when it is frozen it only computes features.
    base = models.build_vgg16_base(config, input_shape=input_shape, weights_path=weights_path)
    features = int(base.output_shape[-1])

    def head(previous: object | None) -> object:
        return models.build_vgg16_head(config, features=features, num_classes=num_classes)

    def head_on_images(previous: object | None) -> object:
        return models.join_vgg16(base, head(None), fine_tune=False)

    def extract(images: np.ndarray) -> np.ndarray:
        return np.asarray(base.predict(images, batch_size=EVALUATION_BATCH_SIZE, verbose=0))

    if config.augment:
        # Augmented images change every epoch, so features cannot be computed once.
        phases = [Phase("vgg16_head", config.epochs, head_on_images, augment=True)]
    else:
        phases = [Phase("vgg16_head", config.epochs, head, transform=extract)]

    def fine_tune(previous: object) -> object:
        head_model = previous if previous.name == "vgg16_head" else previous.get_layer("vgg16_head")
        return models.join_vgg16(base, head_model, fine_tune=True, learning_rate=config.fine_tune_learning_rate)

    if config.fine_tune_epochs:
        phases.append(Phase("vgg16_fine_tune", config.fine_tune_epochs, fine_tune, augment=config.augment))

    def finish(model: object) -> object:
        if model.name == "vgg16_head":
            return models.join_vgg16(base, model, fine_tune=False)
        return model

    return TrainingPlan(phases=phases, finish=finish, policy=policy)
