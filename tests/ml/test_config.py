import dataclasses
import json

import pytest

from ml.config import (
    DEFAULT_DROPOUT_RATE,
    HIDDEN_UNITS,
    MLP_FIELDS,
    MLPConfig,
    mlp_config_from_dict,
    mlp_config_to_dict,
)
from ml.errors import ConfigError


def test_defaults_from_empty_dict():
    assert mlp_config_from_dict({}) == MLPConfig()


def test_study_constants():
    assert HIDDEN_UNITS == (512, 256, 256)
    assert DEFAULT_DROPOUT_RATE == 0.2


def test_valid_values_are_kept():
    values = {
        "hidden_layers": 2,
        "activation": "tanh",
        "optimizer": "adam",
        "learning_rate": 0.005,
        "epochs": 7,
        "batch_size": 128,
        "validation_fraction": 0.2,
        "dropout_rate": DEFAULT_DROPOUT_RATE,
        "early_stopping": True,
        "early_stopping_monitor": "val_accuracy",
        "early_stopping_patience": 3,
        "restore_best_weights": False,
        "seed": 42,
    }

    config = mlp_config_from_dict(values)

    assert mlp_config_to_dict(config) == values


def test_integer_learning_rate_becomes_float():
    config = mlp_config_from_dict({"learning_rate": 1})

    assert config.learning_rate == 1.0
    assert isinstance(config.learning_rate, float)


def test_learning_rate_none_means_keras_default():
    assert mlp_config_from_dict({"learning_rate": None}).learning_rate is None


def test_to_dict_round_trips_through_json():
    config = MLPConfig(optimizer="rmsprop", learning_rate=0.01, dropout_rate=0.3)

    restored = mlp_config_from_dict(json.loads(json.dumps(mlp_config_to_dict(config))))

    assert restored == config


def test_to_dict_contains_every_field():
    names = {field.name for field in dataclasses.fields(MLPConfig)}

    assert set(mlp_config_to_dict(MLPConfig())) == names


BAD_VALUES = [
    ("hidden_layers", 0),
    ("hidden_layers", 4),
    ("hidden_layers", 2.0),
    ("hidden_layers", "3"),
    ("hidden_layers", True),
    ("activation", "softmax"),
    ("activation", "RELU"),
    ("activation", 1),
    ("optimizer", "adagrad"),
    ("optimizer", None),
    ("learning_rate", 0),
    ("learning_rate", -0.1),
    ("learning_rate", float("nan")),
    ("learning_rate", "0.01"),
    ("epochs", 0),
    ("epochs", -5),
    ("epochs", 1.5),
    ("batch_size", 0),
    ("batch_size", "64"),
    ("validation_fraction", 0),
    ("validation_fraction", 0.5),
    ("validation_fraction", 1.2),
    ("dropout_rate", -0.1),
    ("dropout_rate", 1.0),
    ("dropout_rate", float("inf")),
    ("early_stopping", "yes"),
    ("early_stopping", 1),
    ("early_stopping_monitor", "val_auc"),
    ("early_stopping_patience", -1),
    ("early_stopping_patience", 2.5),
    ("restore_best_weights", None),
    ("seed", -1),
    ("seed", 2**32),
    ("seed", "0"),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_bad_value_is_rejected(field, value):
    with pytest.raises(ConfigError) as caught:
        mlp_config_from_dict({field: value})

    assert caught.value.params["field"] == field
    assert caught.value.params["value"] == repr(value)
    assert field in str(caught.value)


def test_every_field_has_a_bad_value_case():
    assert {field for field, _ in BAD_VALUES} == {field.name for field in dataclasses.fields(MLPConfig)}


def test_choice_error_lists_allowed_values():
    with pytest.raises(ConfigError) as caught:
        mlp_config_from_dict({"activation": "softmax"})

    assert caught.value.params["allowed"] == "relu, tanh, sigmoid"


def test_unknown_key_is_rejected():
    with pytest.raises(ConfigError) as caught:
        mlp_config_from_dict({"epochs": 3, "momentum": 0.9})

    assert caught.value.params["field"] == "momentum"
    assert "momentum" in str(caught.value)


def test_field_descriptions_cover_every_field():
    names = [description.name for description in MLP_FIELDS]

    assert names == [field.name for field in dataclasses.fields(MLPConfig)]
    for description in MLP_FIELDS:
        assert description.help, description.name
        assert description.default == getattr(MLPConfig(), description.name)


def test_field_descriptions_give_units_and_choices():
    by_name = {description.name: description for description in MLP_FIELDS}

    assert by_name["epochs"].unit == "epochs"
    assert by_name["early_stopping_patience"].unit == "epochs"
    assert by_name["batch_size"].unit == "images"
    assert by_name["optimizer"].choices == ("sgd", "adam", "rmsprop")
    assert by_name["early_stopping_monitor"].choices == ("val_loss", "val_accuracy", "loss", "accuracy")
    assert by_name["hidden_layers"].maximum == 3
