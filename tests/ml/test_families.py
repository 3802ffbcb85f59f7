"""Every model family through the generic trainer, on a few hundred real CIFAR-10 images."""

import json

import numpy as np
import pytest

from ml.config import CNNConfig, FastCNNConfig, VGG16TransferConfig
from ml.datasets import import_dataset, load_arrays
from ml.errors import WeightsUnavailableError
from ml.inference import evaluate, load_model, predict_proba
from ml.pipeline import CROP_PADDING, make_dataset
from ml.training import CHECKPOINT_STATE_NAME, train_model, validation_split_indices
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


@pytest.mark.parametrize("padding", [CROP_PADDING, 2])
def test_augmentation_shifts_and_mirrors_each_real_image(arrays, padding):
    images = arrays.x_train[:64]

    batches = list(make_dataset(images, arrays.y_train[:64], num_classes=10, batch_size=64, augment=True, seed=1,
                                crop_padding=padding))

    augmented, labels = batches[0]
    augmented = augmented.numpy()
    assert augmented.dtype.name == "uint8"
    assert labels.shape == (64, 10)
    assert not np.array_equal(augmented, images)
    # Each output is one of the image's (2 * padding + 1) ** 2 shifted windows, mirrored or not.
    padded = np.pad(images, [(0, 0), (padding, padding), (padding, padding), (0, 0)], mode="reflect")
    shifts = [(top, left) for top in range(2 * padding + 1) for left in range(2 * padding + 1)]
    mirrored = 0
    for index, output in enumerate(augmented):
        windows = [padded[index, top:top + 32, left:left + 32] for top, left in shifts]
        matches = [view for view in ("image", "mirror") for window in windows
                   if np.array_equal(output, window if view == "image" else window[:, ::-1])]
        assert matches, f"image {index} is no shifted window of its source"
        mirrored += matches[0] == "mirror"
    assert 0 < mirrored < len(images)


def test_patch_whitening_decorrelates_real_patches(arrays):
    import keras

    from ml.models import build_fast_cnn_backbone, patch_whitening

    kernel, bias = patch_whitening(arrays.x_train, seed=0)
    model = build_fast_cnn_backbone(FastCNNConfig(width=4), input_shape=(32, 32, 3), num_classes=10,
                                    whitening=(kernel, bias))
    whiten = keras.Model(model.input, model.get_layer("whiten").output)
    outputs = np.asarray(whiten.predict(arrays.x_train, verbose=0), dtype=np.float64)

    assert kernel.shape == (2, 2, 3, 24)
    assert not model.get_layer("whiten").trainable
    # The first 12 channels are the whitened patches, the last 12 their negation.
    np.testing.assert_allclose(outputs[..., 12:], -outputs[..., :12], atol=1e-4)
    patches = outputs[..., :12].reshape(-1, 12)
    np.testing.assert_allclose(patches.mean(axis=0), 0.0, atol=1e-3)
    covariance = np.cov(patches, rowvar=False)
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-3
    # Each variance is eigenvalue / (eigenvalue + epsilon): at most 1, near 1 for the
    # strong directions of the patches.
    assert np.diag(covariance).max() == pytest.approx(1.0, abs=1e-2)
    assert np.all(np.diag(covariance) < 1.0 + 1e-3)


def test_shift_images_reflects_at_the_border():
    from ml.layers import ShiftImages

    images = np.arange(2 * 5 * 6 * 1, dtype=np.float32).reshape(2, 5, 6, 1)

    shifted = np.asarray(ShiftImages(1, -1)(images))

    assert shifted.shape == images.shape
    # Pixel (i, j) comes from (i + 1, j - 1); past the edge, reflection without repeating it.
    np.testing.assert_array_equal(shifted[:, :4, 1:], images[:, 1:, :5])
    np.testing.assert_array_equal(shifted[:, 4, 1:], images[:, 3, :5])
    np.testing.assert_array_equal(shifted[:, :4, 0], images[:, 1:, 1])


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


def test_vgg16_with_unreadable_weights_file_is_refused(arrays, tmp_path):
    junk = tmp_path / "vgg16-notop.h5"
    junk.write_bytes(b"not an HDF5 file")

    with pytest.raises(WeightsUnavailableError) as raised:
        train_model(VGG16TransferConfig(epochs=1), arrays, work_dir=tmp_path / "run", weights_path=junk)

    assert str(raised.value).startswith(f"The VGG16 weights file {junk} could not be read as VGG16's ImageNet weights")
    assert "weights to random" in str(raised.value)


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


def test_fast_cnn_saved_model_averages_views(arrays, tmp_path):
    from ml.models import patch_whitening

    config = FastCNNConfig(width=4, epochs=1, batch_size=64)

    result = train_model(config, arrays, work_dir=tmp_path)

    loaded = load_model(result.model_dir)
    assert {weight.dtype for weight in loaded.model.weights} == {"float32"}
    assert loaded.model.name == "fast_cnn_flip_shift_tta"
    # The frozen whitening layer keeps the weights computed from the training images.
    train_indices, _ = validation_split_indices(len(arrays.y_train), fraction=config.validation_fraction, seed=0)
    kernel, bias = patch_whitening(arrays.x_train[train_indices], seed=config.seed)
    saved_kernel, saved_bias = loaded.model.get_layer("fast_cnn").get_layer("whiten").get_weights()
    np.testing.assert_allclose(saved_kernel, kernel, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(saved_bias, bias, rtol=1e-5, atol=1e-5)
    probabilities = predict_proba(loaded, arrays.x_test)
    mirrored = predict_proba(loaded, arrays.x_test[:, :, ::-1].copy())
    np.testing.assert_allclose(probabilities, mirrored, atol=1e-5)
    assert float(np.mean(probabilities.argmax(axis=1) == arrays.y_test)) == pytest.approx(result.test_accuracy, abs=1e-6)
    assert sum(sum(row) for row in result.test_evaluation["matrix"]) == len(arrays.y_test)
