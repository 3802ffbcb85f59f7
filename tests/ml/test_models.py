import numpy as np
import pytest

from ml.config import DEFAULT_DROPOUT_RATE, MLPConfig
from ml.models import build_mlp
from tests import datafiles

keras = pytest.importorskip("keras")


def _layers_of(model, layer_class):
    return [layer for layer in model.layers if isinstance(layer, layer_class)]


@pytest.mark.parametrize(("hidden_layers", "units"), [(1, [512]), (2, [512, 256]), (3, [512, 256, 256])])
def test_hidden_layers_follow_study_units(hidden_layers, units):
    model = build_mlp(MLPConfig(hidden_layers=hidden_layers, activation="tanh"), input_shape=(32, 32, 3),
                      num_classes=10)

    dense = _layers_of(model, keras.layers.Dense)
    assert [layer.units for layer in dense] == units + [10]
    assert [layer.activation.__name__ for layer in dense] == ["tanh"] * hidden_layers + ["softmax"]
    assert _layers_of(model, keras.layers.Dropout) == []
    assert model.count_params() == sum(layer.count_params() for layer in dense)


def test_preprocessing_is_inside_the_model():
    model = build_mlp(MLPConfig(), input_shape=(32, 32, 3), num_classes=10)

    rescaling, = _layers_of(model, keras.layers.Rescaling)
    assert rescaling.scale == pytest.approx(1 / 255)
    assert len(_layers_of(model, keras.layers.Flatten)) == 1
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)


def test_dropout_follows_each_hidden_layer():
    model = build_mlp(MLPConfig(hidden_layers=3, dropout_rate=DEFAULT_DROPOUT_RATE), input_shape=(32, 32, 3),
                      num_classes=4)

    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Rescaling", "Flatten", "Dense", "Dropout", "Dense", "Dropout", "Dense", "Dropout",
                     "Dense"]
    assert [layer.rate for layer in _layers_of(model, keras.layers.Dropout)] == [DEFAULT_DROPOUT_RATE] * 3


@pytest.mark.parametrize(("optimizer", "learning_rate", "optimizer_class", "expected_rate"), [
    ("sgd", None, "SGD", 0.01),
    ("adam", None, "Adam", 0.001),
    ("rmsprop", None, "RMSprop", 0.001),
    ("adam", 0.005, "Adam", 0.005),
])
def test_optimizer_and_learning_rate(optimizer, learning_rate, optimizer_class, expected_rate):
    model = build_mlp(MLPConfig(optimizer=optimizer, learning_rate=learning_rate), input_shape=(32, 32, 3),
                      num_classes=10)

    assert type(model.optimizer).__name__ == optimizer_class
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(expected_rate)
    assert model.loss == "categorical_crossentropy"


def test_model_takes_raw_real_images():
    images = np.stack([datafiles.decode_jpeg(content) for _, content in datafiles.real_jpegs("test", "ship", 4)])
    model = build_mlp(MLPConfig(hidden_layers=1), input_shape=(32, 32, 3), num_classes=10)

    probabilities = model.predict(images, verbose=0)

    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
