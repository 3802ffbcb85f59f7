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
    """Description of one MLPConfig field, for forms and API schemas."""

    name: str
    type: str
    default: object
    unit: str
    help: str
    choices: tuple[str, ...] | None
    minimum: float | None
    maximum: float | None
    exclusive: bool


def _type_name(field_: dataclasses.Field) -> str:
    return str(field_.type).replace("'", "")


MLP_FIELDS: tuple[FieldDescription, ...] = tuple(
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
    for field_ in dataclasses.fields(MLPConfig)
)

_FIELDS_BY_NAME = {description.name: description for description in MLP_FIELDS}


def _invalid(name: str, value: object, allowed: str) -> ConfigError:
    return ConfigError(
        gettext_noop("The value %(value)s of %(field)s is invalid. Allowed values: %(allowed)s."),
        field=name,
        value=repr(value),
        allowed=allowed,
    )


def _range_text(description: FieldDescription) -> str:
    low = "above" if description.exclusive else "from"
    high = "below" if description.exclusive else "to"
    return f"{low} {description.minimum:g} {high} {description.maximum:g}"


def _validate_number(description: FieldDescription, value: float) -> None:
    minimum = description.minimum
    maximum = description.maximum
    if description.exclusive:
        in_range = minimum < value < maximum
    else:
        in_range = minimum <= value <= maximum
    if not in_range:
        raise _invalid(description.name, value, _range_text(description))


def _coerce(description: FieldDescription, value: object) -> object:
    name = description.name

    if description.type == "bool":
        if not isinstance(value, bool):
            raise _invalid(name, value, "true or false")
        return value

    if description.type == "str":
        if not isinstance(value, str) or value not in description.choices:
            raise _invalid(name, value, ", ".join(description.choices))
        return value

    if description.type == "int":
        # bool is a subclass of int, but True as a batch size is a mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, value, "a whole number " + _range_text(description))
        _validate_number(description, value)
        return value

    if description.type in ("float", "float | None"):
        if value is None and description.type == "float | None":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            allowed = "a number " + _range_text(description)
            if description.type == "float | None":
                allowed += ", or empty"
            raise _invalid(name, value, allowed)
        _validate_number(description, value)
        return float(value)

    raise AssertionError(f"MLPConfig field {name} has an unhandled type {description.type}")


def mlp_config_from_dict(values: Mapping[str, object]) -> MLPConfig:
    """Build an MLPConfig from user input, with defaults for missing keys.

    Raises ConfigError naming the field for an unknown key, a value of the wrong type
    (a string for a number, a float for a whole number) or a value out of range.
    """
    unknown = sorted(set(values) - set(_FIELDS_BY_NAME))
    if unknown:
        raise ConfigError(
            gettext_noop("Unknown hyperparameter %(field)s. Known hyperparameters: %(allowed)s."),
            field=unknown[0],
            allowed=", ".join(_FIELDS_BY_NAME),
        )

    cleaned = {name: _coerce(_FIELDS_BY_NAME[name], value) for name, value in values.items()}
    return MLPConfig(**cleaned)


def mlp_config_to_dict(config: MLPConfig) -> dict[str, object]:
    """Return every field of ``config`` as JSON-serialisable values."""
    return dataclasses.asdict(config)
