"""Train any model family on imported arrays, with per-epoch reports, checkpoints and cancellation.

``train_model`` runs the plan of a family (``ml.families``) through the shared tf.data
pipeline (``ml.pipeline``); ``train_mlp`` is its MLP entry point.

Files in ``work_dir``:

- ``checkpoint.keras`` and ``checkpoint.json``: the model (with optimizer state) and
  the history after the last finished epoch. A second call with the same work_dir
  resumes from them, for a task that a worker redelivers after dying. They are removed
  when training finishes or is cancelled.
- ``model/model.keras`` and ``model/metadata.json``: the trained model, which takes
  raw RGB uint8 images, and what is needed to use and reproduce it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.config import EVALUATION_BATCH_SIZE, MLPConfig, config_to_dict, family_of
from ml.datasets import DatasetArrays
from ml.errors import CheckpointError, gettext_noop
from ml.evaluation import confusion_report, cross_entropy
from ml.reproducibility import library_versions

logger = logging.getLogger(__name__)

CHECKPOINT_MODEL_NAME = "checkpoint.keras"
CHECKPOINT_STATE_NAME = "checkpoint.json"
MODEL_DIR_NAME = "model"
MODEL_FILE_NAME = "model.keras"
METADATA_FILE_NAME = "metadata.json"
CHECKPOINT_FORMAT = 2

PREPROCESSING = {"scale": "divide by 255 inside the model", "input": "RGB uint8 HxWx3"}


@dataclass(frozen=True)
class EpochResult:
    """Metrics of one finished epoch, exactly as Keras reported them."""

    epoch: int
    """1-based epoch number."""
    accuracy: float
    loss: float
    val_accuracy: float
    val_loss: float
    seconds: float
    """Wall time of this epoch, validation included."""


@dataclass(frozen=True)
class TrainingResult:
    """Outcome of ``train_model``."""

    history: tuple[EpochResult, ...]
    test_accuracy: float | None
    test_loss: float | None
    seconds: float
    """Sum of the epochs' seconds, including epochs done before a resume."""
    epochs_run: int
    stopped_early: bool
    cancelled: bool
    model_dir: Path | None
    train_examples: int
    validation_examples: int
    test_evaluation: dict | None = None
    """Confusion matrix and per-class accuracy on the test split (``ml.evaluation.confusion_report``)."""


def validation_split_indices(count: int, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(count)`` into sorted training and validation indices, the same for the same seed.

    The validation part is a random ``round(count * fraction)`` indices, at least one,
    and at least one index stays in training.
    """
    validation_count = min(count - 1, max(1, round(count * fraction)))
    permutation = np.random.default_rng(seed).permutation(count)
    return np.sort(permutation[validation_count:]), np.sort(permutation[:validation_count])


def _write_json_atomically(path: Path, value: object) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(value, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def _dataset_fingerprint(arrays: DatasetArrays, train_examples: int, validation_examples: int) -> dict:
    return {
        "class_names": list(arrays.class_names),
        "input_shape": [int(size) for size in arrays.x_train.shape[1:]],
        "train_examples": train_examples,
        "validation_examples": validation_examples,
        "test_examples": int(len(arrays.y_test)),
    }


def _remove_checkpoint(work_dir: Path) -> None:
    for name in (CHECKPOINT_MODEL_NAME, CHECKPOINT_STATE_NAME):
        (work_dir / name).unlink(missing_ok=True)


@dataclass
class _Checkpoint:
    model: object
    history: list[EpochResult]
    finished: bool
    phase: int
    phase_start: int
    """Epochs done before this phase began."""


def _load_checkpoint(work_dir: Path, *, config: object, fingerprint: dict,
                     steps_per_epoch: int) -> _Checkpoint | None:
    """Load the checkpoint in ``work_dir``, or return None when there is none that can be used.

    Raises CheckpointError when the checkpoint was written for another config or
    dataset, because resuming it would mix two runs.
    """
    import keras

    import ml.layers  # noqa: F401  (registers the custom layers that checkpoints may hold)

    state_path = work_dir / CHECKPOINT_STATE_NAME
    model_path = work_dir / CHECKPOINT_MODEL_NAME
    if not state_path.exists():
        return None

    state = json.loads(state_path.read_text(encoding="utf-8"))
    if (state.get("config") != config_to_dict(config) or state.get("dataset") != fingerprint
            or state.get("family", "mlp") != family_of(config)):
        raise CheckpointError(
            gettext_noop("The checkpoint in %(path)s belongs to another training run. Use a new work folder."),
            path=str(work_dir),
        )

    history = [EpochResult(**epoch) for epoch in state["history"]]
    try:
        model = keras.models.load_model(model_path)
    except (OSError, ValueError) as exc:
        logger.warning("Checkpoint model %s cannot be loaded (%s), training from the start", model_path, exc)
        return None

    # The model file is replaced just before the state file, so a crash between the two
    # leaves a model one epoch ahead of the history. The optimizer's step count shows it.
    phase_start = int(state.get("phase_start", 0))
    iterations = int(model.optimizer.iterations.numpy())
    if iterations != (len(history) - phase_start) * steps_per_epoch:
        logger.warning("Checkpoint model %s has %d optimizer steps but the history has %d epochs of %d steps, "
                       "training from the start", model_path, iterations, len(history) - phase_start, steps_per_epoch)
        return None

    return _Checkpoint(model=model, history=history, finished=bool(state.get("finished", False)),
                       phase=int(state.get("phase", 0)), phase_start=phase_start)


def _save_checkpoint(work_dir: Path, model: object, *, history: list[EpochResult], finished: bool,
                     config: object, fingerprint: dict, phase: int, phase_start: int) -> None:
    temporary_model = work_dir / ("partial-" + CHECKPOINT_MODEL_NAME)
    model.save(temporary_model)
    os.replace(temporary_model, work_dir / CHECKPOINT_MODEL_NAME)
    state = {
        "format": CHECKPOINT_FORMAT,
        "epochs_done": len(history),
        "finished": finished,
        "history": [dataclasses.asdict(epoch) for epoch in history],
        "family": family_of(config),
        "config": config_to_dict(config),
        "dataset": fingerprint,
        "phase": phase,
        "phase_start": phase_start,
    }
    _write_json_atomically(work_dir / CHECKPOINT_STATE_NAME, state)


def _save_model(work_dir: Path, model: object, metadata: dict) -> Path:
    """Write the model folder next to its final place, then rename it there."""
    model_dir = work_dir / MODEL_DIR_NAME
    temporary_dir = work_dir / (MODEL_DIR_NAME + ".partial")
    shutil.rmtree(temporary_dir, ignore_errors=True)
    temporary_dir.mkdir()

    model.save(temporary_dir / MODEL_FILE_NAME)
    (temporary_dir / METADATA_FILE_NAME).write_text(json.dumps(metadata, indent=2), encoding="utf-8")

    shutil.rmtree(model_dir, ignore_errors=True)
    os.replace(temporary_dir, model_dir)
    return model_dir


def train_mlp(config: MLPConfig, arrays: DatasetArrays, *, work_dir: Path,
              on_epoch_end: Callable[[EpochResult], None] | None = None,
              should_cancel: Callable[[], bool] | None = None, cancel_check_seconds: float = 0.5,
              verbose: int = 0) -> TrainingResult:
    """Train an MLP; see ``train_model``."""
    return train_model(config, arrays, work_dir=work_dir, on_epoch_end=on_epoch_end, should_cancel=should_cancel,
                       cancel_check_seconds=cancel_check_seconds, verbose=verbose)


def train_model(config: object, arrays: DatasetArrays, *, work_dir: Path,
                on_epoch_end: Callable[[EpochResult], None] | None = None,
                should_cancel: Callable[[], bool] | None = None, cancel_check_seconds: float = 0.5,
                verbose: int = 0, weights_path: Path | None = None) -> TrainingResult:
    """Train the family that ``config`` belongs to, evaluate it on the test split and save it in ``work_dir/model``.

    The validation set is a seeded random ``config.validation_fraction`` of the
    training split. ``on_epoch_end`` runs after each epoch, after that epoch's
    checkpoint is saved and before the next epoch starts. ``should_cancel`` runs at
    most every ``cancel_check_seconds``. When it returns True, training stops after
    the current batch, and the result has ``cancelled=True``, no test metrics and no
    saved model. ``weights_path`` names a local file of VGG16's ImageNet weights.

    When ``work_dir`` contains a checkpoint of the same config and dataset, training
    resumes after its last epoch, and those epochs are in the history but are not
    reported to ``on_epoch_end`` again. The saved model always takes raw RGB uint8
    images and computes in float32.
    """
    import keras

    from ml.callbacks import EpochCallback
    from ml.families import configure_devices, training_plan
    from ml.pipeline import make_dataset

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    devices = configure_devices()

    num_classes = len(arrays.class_names)
    input_shape = tuple(int(size) for size in arrays.x_train.shape[1:])
    train_indices, validation_indices = validation_split_indices(
        len(arrays.y_train), fraction=config.validation_fraction, seed=config.seed)
    x_train = arrays.x_train[train_indices]
    y_train = arrays.y_train[train_indices]
    x_validation = arrays.x_train[validation_indices]
    y_validation = arrays.y_train[validation_indices]
    fingerprint = _dataset_fingerprint(arrays, len(train_indices), len(validation_indices))
    steps_per_epoch = math.ceil(len(train_indices) / config.batch_size)

    plan = training_plan(config, input_shape=input_shape, num_classes=num_classes, steps_per_epoch=steps_per_epoch,
                         devices=devices, weights_path=weights_path, train_images=x_train)
    planned_epochs = sum(phase.epochs for phase in plan.phases)
    checkpoint = _load_checkpoint(work_dir, config=config, fingerprint=fingerprint, steps_per_epoch=steps_per_epoch)
    if checkpoint is None:
        _remove_checkpoint(work_dir)
        model, history, finished, first_phase, phase_start = None, [], False, 0, 0
    else:
        model, history, finished = checkpoint.model, checkpoint.history, checkpoint.finished
        first_phase, phase_start = checkpoint.phase, checkpoint.phase_start
        logger.info("Resuming training in %s after epoch %d of %d", work_dir, len(history), planned_epochs)
    logger.info("Training %s in %s with policy %s on %d GPU(s)", family_of(config), work_dir, plan.policy,
                devices.gpu_count)

    cancelled = False
    for phase_index, phase in enumerate(plan.phases):
        if finished or phase_index < first_phase:
            continue
        if model is None or phase_index > first_phase:
            model = phase.build(model)
            phase_start = len(history)
        phase_end = phase_start + phase.epochs
        current_model, current_phase, current_start = model, phase_index, phase_start

        def record_epoch(epoch_index: int, logs: dict, seconds: float) -> None:
            result = EpochResult(
                epoch=epoch_index + 1,
                accuracy=float(logs["accuracy"]),
                loss=float(logs["loss"]),
                val_accuracy=float(logs["val_accuracy"]),
                val_loss=float(logs["val_loss"]),
                seconds=seconds,
            )
            history.append(result)
            logger.info("Epoch %d/%d: accuracy %.4f, loss %.4f, val_accuracy %.4f, val_loss %.4f, %.1f s",
                        result.epoch, planned_epochs, result.accuracy, result.loss, result.val_accuracy,
                        result.val_loss, result.seconds)
            # Checkpoint first: a worker that dies after reporting the epoch then
            # resumes after it, instead of training and reporting it a second time.
            _save_checkpoint(work_dir, current_model, history=history, finished=False, config=config,
                             fingerprint=fingerprint, phase=current_phase, phase_start=current_start)
            if on_epoch_end is not None:
                on_epoch_end(result)

        epoch_callback = EpochCallback(record_epoch=record_epoch, should_cancel=should_cancel,
                                       cancel_check_seconds=cancel_check_seconds)
        callbacks = [epoch_callback]
        if getattr(config, "early_stopping", False):
            # NOTE: EarlyStopping's best value, wait count and best weights are not in the
            # checkpoint, so after a resume it counts patience from the resumed epoch and
            # can only restore weights from epochs trained since then.
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor=config.early_stopping_monitor,
                patience=config.early_stopping_patience,
                restore_best_weights=config.restore_best_weights,
            ))

        if len(history) < phase_end:
            train_inputs, validation_inputs = x_train, x_validation
            if phase.transform is not None:
                train_inputs, validation_inputs = phase.transform(x_train), phase.transform(x_validation)
            # NOTE: the shuffling order after a resume differs from an uninterrupted run,
            # because the random generators restart from the seed, not from their state.
            model.fit(
                make_dataset(train_inputs, y_train, num_classes=num_classes, batch_size=config.batch_size,
                             shuffle=True, seed=config.seed, augment=phase.augment,
                             crop_padding=phase.crop_padding),
                epochs=phase_end,
                initial_epoch=len(history),
                validation_data=make_dataset(validation_inputs, y_validation, num_classes=num_classes,
                                             batch_size=EVALUATION_BATCH_SIZE),
                shuffle=False,
                callbacks=callbacks,
                verbose=verbose,
            )
        if epoch_callback.cancelled:
            cancelled = True
            break
        first_phase = phase_index

    # NOTE: the sum of epoch times leaves out work done outside the epochs, such as
    # the one pass that computes VGG16's frozen features before its head trains.
    seconds = sum(epoch.seconds for epoch in history)
    if cancelled:
        _remove_checkpoint(work_dir)
        logger.info("Training in %s cancelled after %d epochs", work_dir, len(history))
        return TrainingResult(history=tuple(history), test_accuracy=None, test_loss=None, seconds=seconds,
                              epochs_run=len(history), stopped_early=False, cancelled=True, model_dir=None,
                              train_examples=len(train_indices), validation_examples=len(validation_indices))

    stopped_early = getattr(config, "early_stopping", False) and len(history) < planned_epochs
    # Recorded so that a crash during the test evaluation does not resume training.
    _save_checkpoint(work_dir, model, history=history, finished=True, config=config, fingerprint=fingerprint,
                     phase=len(plan.phases) - 1, phase_start=phase_start)
    final_model = plan.finish(model)

    test_loss, test_accuracy, test_evaluation = None, None, None
    if len(arrays.y_test):
        # One prediction pass gives the loss, the accuracy and the confusion matrix: with
        # test-time augmentation a pass costs several forward passes per image.
        probabilities = final_model.predict(arrays.x_test, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
        test_evaluation = confusion_report(probabilities, arrays.y_test, arrays.class_names)
        test_loss, test_accuracy = cross_entropy(probabilities, arrays.y_test), test_evaluation["accuracy"]

    versions = library_versions()
    metadata = {
        "family": family_of(config),
        "class_names": list(arrays.class_names),
        "input_shape": list(input_shape),
        "preprocessing": PREPROCESSING,
        "config": config_to_dict(config),
        "precision_policy": plan.policy,
        "versions": versions,
        "keras_version": keras.__version__,
        "tensorflow_version": versions["tensorflow"],
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "epochs_run": len(history),
        "history": [dataclasses.asdict(epoch) for epoch in history],
        "stopped_early": stopped_early,
        "train_examples": len(train_indices),
        "validation_examples": len(validation_indices),
        "training_seconds": seconds,
    }
    optimizer = getattr(final_model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # A model joined or rebuilt after training has an optimizer without variables.
        # Building it now lets Keras load the saved file without a mismatch warning.
        optimizer.build(final_model.trainable_variables)
    model_dir = _save_model(work_dir, final_model, metadata)
    _remove_checkpoint(work_dir)
    logger.info("Training in %s finished: %d epochs in %.1f s, test_accuracy %s", work_dir, len(history),
                seconds, test_accuracy)

    return TrainingResult(history=tuple(history), test_accuracy=test_accuracy, test_loss=test_loss, seconds=seconds,
                          epochs_run=len(history), stopped_early=stopped_early, cancelled=False, model_dir=model_dir,
                          train_examples=len(train_indices), validation_examples=len(validation_indices),
                          test_evaluation=test_evaluation)
