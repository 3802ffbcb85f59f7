"""Every model family through the generic trainer, on a few hundred real CIFAR-10 images."""

import json

import numpy as np
import pytest

from ml.config import CNNConfig, FastCNNConfig, VGG16TransferConfig
from ml.datasets import import_dataset, load_arrays
from ml.errors import WeightsUnavailableError
from ml.inference import evaluate, load_model, predict_proba
from ml.pipeline import CROP_PADDING, make_dataset
from ml.training import CHECKPOINT_STATE_NAME, train_model
from tests import datafiles

pytest.importorskip("keras")


class SimulatedWorkerDeath(Exception):
    """Raised from a callback to stop training the way a killed worker would."""


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    folder = tmp_path_factory.mktemp("family-data")
    source = datafiles.build_class_folder_subset(folder / "source", train_per_class=20, test_per_class=5)
    return load_arrays(import_dataset(source, folder / "dataset").path)


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory):
    """A VGG16 base saved with random weights, standing in for the ImageNet file no test can download."""
    import keras

    path = tmp_path_factory.mktemp("weights") / "vgg16-notop.weights.h5"
    keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg").save_weights(path)
    return path


def test_augmentation_keeps_shape_and_moves_real_pixels(arrays):
    images = arrays.x_train[:64]

    batches = list(make_dataset(images, arrays.y_train[:64], num_classes=10, batch_size=64, augment=True, seed=1))

    augmented, labels = batches[0]
    assert augmented.shape == images.shape
    assert augmented.dtype.name == "uint8"
    assert labels.shape == (64, 10)
    assert not np.array_equal(augmented.numpy(), images)
    # Shifts of at most CROP_PADDING pixels keep each image's centre within reach.
    centre = slice(CROP_PADDING, -CROP_PADDING)
    assert np.abs(augmented.numpy()[:, centre, centre].astype(int).mean() - images[:, centre, centre].mean()) < 10


def test_cnn_resumes_at_second_epoch_after_interruption(arrays, tmp_path):
    config = CNNConfig(conv_layers=8, filters=4, dense_units=8, epochs=3, batch_size=32)
    reported = []

    def die_after_first_epoch():
        if len(reported) == 1:
            raise SimulatedWorkerDeath()
        return False

    with pytest.raises(SimulatedWorkerDeath):
        train_model(config, arrays, work_dir=tmp_path, on_epoch_end=reported.append,
                    should_cancel=die_after_first_epoch, cancel_check_seconds=0)
    assert json.loads((tmp_path / CHECKPOINT_STATE_NAME).read_text())["epochs_done"] == 1

    resumed = []
    result = train_model(config, arrays, work_dir=tmp_path, on_epoch_end=resumed.append)

    assert [epoch.epoch for epoch in resumed] == [2, 3]
    assert [epoch.epoch for epoch in result.history] == [1, 2, 3]
    assert result.history[0] == reported[0]
    assert json.loads((result.model_dir / "metadata.json").read_text())["family"] == "cnn"


def test_vgg16_without_weights_file_is_refused(arrays, tmp_path):
    with pytest.raises(WeightsUnavailableError) as raised:
        train_model(VGG16TransferConfig(epochs=1), arrays, work_dir=tmp_path, weights_path=tmp_path / "missing.h5")

    assert str(raised.value).startswith(f"The VGG16 weights file {tmp_path / 'missing.h5'} does not exist.")
    assert "ETIQUETADO_VGG16_WEIGHTS" in str(raised.value)


def test_vgg16_trains_head_on_features_then_fine_tunes(arrays, tmp_path, vgg16_weights):
    config = VGG16TransferConfig(epochs=1, fine_tune_epochs=1, dense_units=16, batch_size=50)

    result = train_model(config, arrays, work_dir=tmp_path, weights_path=vgg16_weights)

    assert [epoch.epoch for epoch in result.history] == [1, 2]
    loaded = load_model(result.model_dir)
    assert loaded.input_shape == (32, 32, 3)
    loss, accuracy = evaluate(loaded, arrays.x_test, arrays.y_test)
    assert accuracy == pytest.approx(result.test_accuracy, abs=1e-6)
    assert predict_proba(loaded, arrays.x_test[:3]).shape == (3, 10)


def test_vgg16_at_64_pixels_takes_32_pixel_images(arrays, tmp_path):
    result = train_model(VGG16TransferConfig(epochs=1, image_size=64, weights="random", dense_units=8), arrays,
                         work_dir=tmp_path)

    loaded = load_model(result.model_dir)
    assert loaded.input_shape == (32, 32, 3)
    assert predict_proba(loaded, arrays.x_test[:2]).shape == (2, 10)


def test_fast_cnn_saves_float32_model_with_flip_averaging(arrays, tmp_path):
    config = FastCNNConfig(width=4, epochs=1, batch_size=64)

    result = train_model(config, arrays, work_dir=tmp_path)

    loaded = load_model(result.model_dir)
    assert {weight.dtype for weight in loaded.model.weights} == {"float32"}
    probabilities = predict_proba(loaded, arrays.x_test)
    mirrored = predict_proba(loaded, arrays.x_test[:, :, ::-1].copy())
    np.testing.assert_allclose(probabilities, mirrored, atol=1e-5)
    assert float(np.mean(probabilities.argmax(axis=1) == arrays.y_test)) == pytest.approx(result.test_accuracy, abs=1e-6)
    assert sum(sum(row) for row in result.test_evaluation["matrix"]) == len(arrays.y_test)
