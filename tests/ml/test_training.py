"""Training the MLP on a few hundred real CIFAR-10 images."""

import json

import numpy as np
import pytest

from ml.config import MLPConfig
from ml.datasets import import_dataset, load_arrays
from ml.errors import CheckpointError
from ml.inference import evaluate, load_model, predict_proba
from ml.training import CHECKPOINT_MODEL_NAME, CHECKPOINT_STATE_NAME, train_mlp, validation_split_indices
from tests import datafiles

pytest.importorskip("keras")

TRAIN_PER_CLASS = 30
TEST_PER_CLASS = 10


class SimulatedWorkerDeath(Exception):
    """Raised from a callback to stop train_mlp the way a killed worker would."""


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training-data")
    source = datafiles.build_class_folder_subset(folder / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS)
    return load_arrays(import_dataset(source, folder / "dataset").path)


def _small_config(**overrides) -> MLPConfig:
    values = {"hidden_layers": 2, "epochs": 1, "batch_size": 32}
    values.update(overrides)
    return MLPConfig(**values)


def test_epoch_reports_equal_returned_history(arrays, tmp_path):
    reported = []

    result = train_mlp(_small_config(epochs=2), arrays, work_dir=tmp_path, on_epoch_end=reported.append)

    assert tuple(reported) == result.history
    assert [epoch.epoch for epoch in result.history] == [1, 2]
    assert result.epochs_run == 2
    assert result.cancelled is False
    assert result.stopped_early is False
    assert result.train_examples == 270
    assert result.validation_examples == 30
    assert result.seconds == pytest.approx(sum(epoch.seconds for epoch in result.history))
    for epoch in result.history:
        assert 0.0 <= epoch.accuracy <= 1.0
        assert 0.0 <= epoch.val_accuracy <= 1.0
        assert epoch.loss > 0
        assert epoch.seconds > 0


def test_finished_run_saves_model_and_removes_checkpoint(arrays, tmp_path):
    result = train_mlp(_small_config(), arrays, work_dir=tmp_path)

    assert result.model_dir == tmp_path / "model"
    assert (result.model_dir / "model.keras").is_file()
    assert not (tmp_path / CHECKPOINT_MODEL_NAME).exists()
    assert not (tmp_path / CHECKPOINT_STATE_NAME).exists()
    metadata = json.loads((result.model_dir / "metadata.json").read_text())
    assert metadata["class_names"] == list(datafiles.CIFAR10_CLASSES)
    assert metadata["input_shape"] == [32, 32, 3]
    assert metadata["preprocessing"] == {"scale": "divide by 255 inside the model", "input": "RGB uint8 HxWx3"}
    assert metadata["config"]["hidden_layers"] == 2
    assert metadata["test_accuracy"] == result.test_accuracy
    assert metadata["keras_version"]
    assert metadata["tensorflow_version"]


def test_stored_test_accuracy_matches_fresh_evaluate(arrays, tmp_path):
    result = train_mlp(_small_config(), arrays, work_dir=tmp_path)

    loaded = load_model(result.model_dir)
    test_loss, test_accuracy = evaluate(loaded, arrays.x_test, arrays.y_test)

    assert loaded.class_names == arrays.class_names
    assert loaded.input_shape == (32, 32, 3)
    assert test_accuracy == result.test_accuracy
    assert test_loss == pytest.approx(result.test_loss, rel=1e-6)


def test_predictions_agree_with_test_accuracy(arrays, tmp_path):
    result = train_mlp(_small_config(), arrays, work_dir=tmp_path)
    loaded = load_model(result.model_dir)

    probabilities = predict_proba(loaded, arrays.x_test)

    assert probabilities.shape == (len(arrays.y_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == arrays.y_test))
    assert accuracy == pytest.approx(result.test_accuracy, abs=1e-6)


def test_predict_rejects_wrong_image_shape(arrays, tmp_path):
    result = train_mlp(_small_config(), arrays, work_dir=tmp_path)
    loaded = load_model(result.model_dir)

    with pytest.raises(ValueError):
        predict_proba(loaded, np.zeros((2, 24, 24, 3), dtype=np.uint8))


def test_cancel_stops_after_the_batch(arrays, tmp_path):
    calls = []

    def should_cancel():
        calls.append(True)
        return len(calls) == 3

    reported = []
    result = train_mlp(_small_config(epochs=3), arrays, work_dir=tmp_path, on_epoch_end=reported.append,
                       should_cancel=should_cancel, cancel_check_seconds=0)

    assert result.cancelled is True
    assert len(calls) == 3
    assert result.history == ()
    assert reported == []
    assert result.model_dir is None
    assert result.test_accuracy is None
    assert not (tmp_path / "model").exists()
    assert not (tmp_path / CHECKPOINT_STATE_NAME).exists()


def test_cancel_after_first_epoch_keeps_its_history(arrays, tmp_path):
    reported = []

    result = train_mlp(_small_config(epochs=3), arrays, work_dir=tmp_path, on_epoch_end=reported.append,
                       should_cancel=lambda: len(reported) == 1, cancel_check_seconds=0)

    assert result.cancelled is True
    assert [epoch.epoch for epoch in result.history] == [1]
    assert result.epochs_run == 1


def test_cancel_check_is_throttled(arrays, tmp_path):
    calls = []

    train_mlp(_small_config(epochs=2), arrays, work_dir=tmp_path,
              should_cancel=lambda: calls.append(True) or False, cancel_check_seconds=3600)

    assert len(calls) == 1


def _die_after_first_epoch(reported):
    def should_cancel():
        if len(reported) == 1:
            raise SimulatedWorkerDeath()
        return False
    return should_cancel


def test_resume_continues_after_checkpointed_epoch(arrays, tmp_path):
    config = _small_config(epochs=3)
    first_reports = []
    with pytest.raises(SimulatedWorkerDeath):
        train_mlp(config, arrays, work_dir=tmp_path, on_epoch_end=first_reports.append,
                  should_cancel=_die_after_first_epoch(first_reports), cancel_check_seconds=0)
    state = json.loads((tmp_path / CHECKPOINT_STATE_NAME).read_text())
    assert state["epochs_done"] == 1

    second_reports = []
    result = train_mlp(config, arrays, work_dir=tmp_path, on_epoch_end=second_reports.append)

    assert [epoch.epoch for epoch in second_reports] == [2, 3]
    assert [epoch.epoch for epoch in result.history] == [1, 2, 3]
    assert result.history[0] == first_reports[0]
    assert result.history[1:] == tuple(second_reports)
    assert result.epochs_run == 3
    assert result.seconds == pytest.approx(sum(epoch.seconds for epoch in result.history))
    assert result.test_accuracy is not None
    assert not (tmp_path / CHECKPOINT_STATE_NAME).exists()


def test_checkpoint_of_other_config_is_rejected(arrays, tmp_path):
    reports = []
    with pytest.raises(SimulatedWorkerDeath):
        train_mlp(_small_config(epochs=3), arrays, work_dir=tmp_path, on_epoch_end=reports.append,
                  should_cancel=_die_after_first_epoch(reports), cancel_check_seconds=0)

    with pytest.raises(CheckpointError):
        train_mlp(_small_config(epochs=3, seed=7), arrays, work_dir=tmp_path)


def test_early_stopping_stops_when_metric_is_flat(arrays, tmp_path):
    # A learning rate this small leaves val_accuracy unchanged, which is never an improvement.
    config = _small_config(epochs=5, learning_rate=1e-12, early_stopping=True,
                           early_stopping_monitor="val_accuracy", early_stopping_patience=0)

    result = train_mlp(config, arrays, work_dir=tmp_path)

    assert result.epochs_run == 2
    assert result.stopped_early is True
    assert result.model_dir is not None


def test_validation_split_is_seeded():
    train_first, validation_first = validation_split_indices(100, fraction=0.1, seed=4)
    train_again, validation_again = validation_split_indices(100, fraction=0.1, seed=4)
    _, validation_other = validation_split_indices(100, fraction=0.1, seed=5)

    assert len(validation_first) == 10
    assert sorted(np.concatenate([train_first, validation_first]).tolist()) == list(range(100))
    np.testing.assert_array_equal(validation_first, validation_again)
    np.testing.assert_array_equal(train_first, train_again)
    assert not np.array_equal(validation_first, validation_other)
