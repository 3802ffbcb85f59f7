"""Experiments and their runs: define, queue, cancel and train."""

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from backend.common.broker import broker_check
from backend.common.errors import ConflictError, ml_error_message
from backend.datasets.models import Dataset
from backend.experiments.models import EpochMetric, Experiment, Run
from ml.config import DEFAULT_DROPOUT_RATE, config_to_dict, family_config_from_dict
from ml.errors import ConfigError, MLError
from ml.reproducibility import code_version, host_name, library_versions
from workers.celery import app as celery_app

logger = logging.getLogger(__name__)

REGULARIZERS = ("none", "dropout", "early_stopping")


def hyperparameters_validate(*, family: str, hyperparameters: Mapping[str, object]) -> dict:
    """Return the family's full hyperparameters, defaults filled in.

    Raises ``ValidationError`` on the ``hyperparameters`` field, in the active
    language, naming the invalid value.
    """
    if family not in Experiment.Family.values:
        raise ValidationError({"family": _("Unknown model family “%(family)s”.") % {"family": family}})
    try:
        config = family_config_from_dict(family, hyperparameters)
    except ConfigError as error:
        raise ValidationError({"hyperparameters": ml_error_message(error)}) from error
    return config_to_dict(config)


def _validate_dataset_ready(dataset: Dataset) -> None:
    if dataset.status != Dataset.Status.READY:
        raise ValidationError(
            {
                "dataset": _("The dataset “%(name)s” is not ready (status: %(status)s). Wait for its import or import it again.")
                % {"name": dataset.name, "status": dataset.get_status_display()}
            }
        )


def experiment_create(
    *,
    name: str,
    dataset: Dataset,
    hyperparameters: Mapping[str, object],
    family: str = Experiment.Family.MLP,
    description: str = "",
    created_by=None,
) -> Experiment:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("The experiment name is empty. Give the experiment a name.")})
    if Experiment.objects.filter(name=name).exists():
        raise ValidationError({"name": _("An experiment named “%(name)s” already exists. Choose another name.") % {"name": name}})
    _validate_dataset_ready(dataset)
    validated = hyperparameters_validate(family=family, hyperparameters=hyperparameters)

    try:
        experiment = Experiment.objects.create(
            name=name,
            dataset=dataset,
            family=family,
            hyperparameters=validated,
            description=description,
            created_by=created_by,
        )
    except IntegrityError as error:
        # Another request created the same name between the check and the insert.
        raise ValidationError({"name": _("An experiment named “%(name)s” already exists. Choose another name.") % {"name": name}}) from error

    logger.info("experiment %s: created (%s on dataset %s)", experiment.pk, family, dataset.pk)
    return experiment


def _regularized(hyperparameters: Mapping[str, object], regularizer: str) -> dict:
    values = dict(hyperparameters)
    dropout_rate = float(values.get("dropout_rate") or 0.0)
    values["dropout_rate"] = (dropout_rate or DEFAULT_DROPOUT_RATE) if regularizer == "dropout" else 0.0
    values["early_stopping"] = regularizer == "early_stopping"
    return values


@transaction.atomic
def experiment_grid_create(
    *,
    name_prefix: str,
    dataset: Dataset,
    optimizers: Iterable[str],
    activations: Iterable[str],
    depths: Iterable[int],
    regularizers: Iterable[str],
    base_hyperparameters: Mapping[str, object] | None = None,
    created_by=None,
) -> list[Experiment]:
    """Create one MLP experiment per optimizer x activation x depth x regularizer.

    Names are ``<prefix>-<optimizer>-<activation>-<depth>-<regularizer>``. Either
    every experiment of the grid is created or, on the first invalid one, none.
    """
    experiments = []
    for optimizer in optimizers:
        for activation in activations:
            for depth in depths:
                for regularizer in regularizers:
                    if regularizer not in REGULARIZERS:
                        raise ValidationError(
                            {"regularizers": _("Unknown regularizer “%(value)s”. Choose none, dropout or early_stopping.") % {"value": regularizer}}
                        )
                    hyperparameters = _regularized(
                        {**(base_hyperparameters or {}), "optimizer": optimizer, "activation": activation, "hidden_layers": int(depth)},
                        regularizer,
                    )
                    experiments.append(
                        experiment_create(
                            name=f"{name_prefix}-{optimizer}-{activation}-{depth}-{regularizer}",
                            dataset=dataset,
                            hyperparameters=hyperparameters,
                            created_by=created_by,
                        )
                    )
    if not experiments:
        raise ValidationError(_("The grid is empty. Choose at least one optimizer, activation, depth and regularizer."))
    return experiments


def run_create(*, experiment: Experiment) -> Run:
    """Create a queued run of ``experiment``, for a worker or ``manage.py train`` to execute."""
    _validate_dataset_ready(experiment.dataset)
    return Run.objects.create(experiment=experiment, hyperparameters=experiment.hyperparameters)


def _send_training_task(run_id: int) -> None:
    try:
        celery_app.send_task("workers.tasks.train_run", args=[run_id])
    except Exception as error:
        # The broker passed broker_check() but failed now. Left queued, the run would
        # wait forever, so it fails with the reason and the next runs are still sent.
        logger.error("run %s: not sent to the broker: %s", run_id, error)
        with translation.override(settings.LANGUAGE_CODE):
            message = _("The run could not be sent to the workers because the message broker (Redis) "
                        "stopped responding. Check that it is running, then queue a new run.")
        Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
            status=Run.Status.FAILED, error=message, finished_at=timezone.now())


def _run_enqueue(experiment: Experiment) -> Run:
    run = run_create(experiment=experiment)
    transaction.on_commit(lambda: _send_training_task(run.pk), robust=True)
    logger.info("run %s: queued for experiment %s", run.pk, experiment.pk)
    return run


def run_queue(*, experiment: Experiment) -> Run:
    """Create a queued run and send it to the ``training`` queue once the transaction commits.

    Raises ``UnavailableError``, creating no run, when the broker does not respond.
    """
    broker_check()
    return _run_enqueue(experiment)


@transaction.atomic
def runs_queue(*, experiments: Iterable[Experiment]) -> list[Run]:
    """Queue one run of each of ``experiments``, all or none, checking the broker once.

    Raises ``UnavailableError``, creating no run, when the broker does not respond.
    """
    broker_check()
    return [_run_enqueue(experiment) for experiment in experiments]


@transaction.atomic
def run_cancel(*, run: Run) -> Run:
    """Cancel a queued or running run.

    A running run stops at the end of the batch during which its worker next
    reads the status, at most ``RUN_CANCEL_CHECK_SECONDS`` later. Raises
    ``ConflictError`` for a run that has already finished.
    """
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.is_finished:
        raise ConflictError(
            _("Run %(id)s has already finished (%(status)s) and cannot be cancelled.")
            % {"id": run.pk, "status": run.get_status_display()}
        )

    was_queued = run.status == Run.Status.QUEUED
    run.status = Run.Status.CANCELLED
    if was_queued:
        run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])

    logger.info("run %s: cancelled while %s", run.pk, "queued" if was_queued else "running")
    return run


def run_interrupt(*, run_id: int) -> None:
    """Mark a run cancelled because the process training it in the foreground was interrupted.

    ``manage.py train`` calls it on Ctrl-C, so that the run does not stay
    "running" with no process left to finish it.
    """
    with translation.override(settings.LANGUAGE_CODE):
        message = _("Training was interrupted in the terminal (Ctrl-C). Queue a new run to train again.")
    Run.objects.filter(pk=run_id).exclude(status__in=Run.FINISHED_STATUSES).update(
        status=Run.Status.CANCELLED, error=message, finished_at=timezone.now()
    )
    Run.objects.filter(pk=run_id, status=Run.Status.CANCELLED, finished_at__isnull=True).update(
        error=message, finished_at=timezone.now()
    )
    logger.warning("run %s: interrupted in the terminal", run_id)


def _run_fail(run_id: int, message: str) -> None:
    Run.objects.filter(pk=run_id).exclude(status=Run.Status.CANCELLED).update(
        status=Run.Status.FAILED, error=message, finished_at=timezone.now()
    )


def _run_start(*, run_id: int, worker_hostname: str) -> Run | None:
    """Mark the run as running and record what makes it reproducible.

    Returns None when the run must not train: it is missing, finished (a
    cancelled run is never redelivered), or its workers died too many times.
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("experiment__dataset").filter(pk=run_id).first()
        if run is None:
            logger.warning("run %s: not found, message dropped", run_id)
            return None
        if run.is_finished:
            logger.info("run %s: already %s, not trained again", run_id, run.status)
            return None
        if run.status == Run.Status.RUNNING:
            logger.warning("run %s: redelivered after its worker stopped (attempt %s)", run_id, run.attempts + 1)
        if run.attempts >= settings.RUN_MAX_ATTEMPTS:
            with translation.override(settings.LANGUAGE_CODE):
                message = _("The run was stopped: its worker died %(attempts)s times while training it. Check the worker's memory and logs, then queue a new run.") % {
                    "attempts": run.attempts
                }
            _run_fail(run_id, message)
            logger.error("run %s: failed after %s lost workers", run_id, run.attempts)
            return None

        dataset = run.experiment.dataset
        run.status = Run.Status.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or timezone.now()
        run.worker_hostname = worker_hostname
        run.hyperparameters = run.hyperparameters or run.experiment.hyperparameters
        run.seed = run.hyperparameters.get("seed")
        run.code_version = code_version()
        run.library_versions = library_versions()
        run.dataset_checksum = dataset.checksum
        run.save()
    return run


def run_execute(*, run_id: int, worker_hostname: str | None = None, verbose: int = 0) -> Run | None:
    """Train a run: the worker's side of ``run_queue``, also used by ``manage.py train``.

    Each epoch's metrics are written to the database as the epoch ends. A run
    that a worker had started before it died resumes from its last checkpoint.
    Errors a user can cause fail the run with a Spanish message; any other
    error fails it with the exception's text and is raised again.
    """
    from ml.datasets import load_arrays
    from ml.training import train_model

    run = _run_start(run_id=run_id, worker_hostname=worker_hostname or host_name())
    if run is None:
        return None

    def record_epoch(result) -> None:
        _epoch_store(run_id=run_id, result=result)
        Run.objects.filter(pk=run_id).update(epochs_run=result.epoch)
        logger.info(
            "run %s: epoch %s/%s accuracy=%.4f val_accuracy=%.4f loss=%.4f val_loss=%.4f %.1fs",
            run_id, result.epoch, run.hyperparameters.get("epochs"), result.accuracy,
            result.val_accuracy, result.loss, result.val_loss, result.seconds,
        )

    def is_cancelled() -> bool:
        return Run.objects.filter(pk=run_id, status=Run.Status.CANCELLED).exists()

    logger.info("run %s: training started on %s (attempt %s)", run_id, run.worker_hostname, run.attempts)
    try:
        arrays_path = run.experiment.dataset.arrays_path
        if not arrays_path.is_file():
            raise FileNotFoundError(arrays_path)
        result = train_model(
            family_config_from_dict(run.experiment.family, run.hyperparameters),
            load_arrays(arrays_path),
            work_dir=run.work_dir,
            on_epoch_end=record_epoch,
            should_cancel=is_cancelled,
            cancel_check_seconds=settings.RUN_CANCEL_CHECK_SECONDS,
            verbose=verbose,
            weights_path=settings.VGG16_WEIGHTS,
        )
    except FileNotFoundError:
        with translation.override(settings.LANGUAGE_CODE):
            _run_fail(run_id, _("The dataset's arrays file is missing. Import the dataset again, then queue a new run."))
        logger.error("run %s: arrays file of dataset %s missing", run_id, run.experiment.dataset_id)
        return Run.objects.get(pk=run_id)
    except MLError as error:
        with translation.override(settings.LANGUAGE_CODE):
            _run_fail(run_id, ml_error_message(error))
        logger.warning("run %s: failed: %s", run_id, error)
        return Run.objects.get(pk=run_id)
    except SoftTimeLimitExceeded:
        with translation.override(settings.LANGUAGE_CODE):
            _run_fail(
                run_id,
                _("The run exceeded the time limit of %(seconds)s seconds. Train fewer epochs or raise ETIQUETADO_RUN_TIME_LIMIT_SECONDS.")
                % {"seconds": settings.RUN_TIME_LIMIT_SECONDS},
            )
        logger.error("run %s: time limit exceeded", run_id)
        return Run.objects.get(pk=run_id)
    except Exception as error:
        _run_fail(run_id, f"{type(error).__name__}: {error}")
        logger.exception("run %s: failed", run_id)
        raise

    _run_finish(run_id=run_id, result=result)
    return Run.objects.get(pk=run_id)


def _epoch_store(*, run_id: int, result) -> None:
    EpochMetric.objects.update_or_create(
        run_id=run_id,
        epoch=result.epoch,
        defaults={
            "accuracy": result.accuracy,
            "loss": result.loss,
            "val_accuracy": result.val_accuracy,
            "val_loss": result.val_loss,
            "seconds": result.seconds,
        },
    )


def _run_finish(*, run_id: int, result) -> None:
    # A worker that died between an epoch's checkpoint and its database write
    # resumed after that epoch without reporting it; the history has it.
    stored = set(EpochMetric.objects.filter(run_id=run_id).values_list("epoch", flat=True))
    for epoch in result.history:
        if epoch.epoch not in stored:
            _epoch_store(run_id=run_id, result=epoch)

    fields = {
        "epochs_run": result.epochs_run,
        "stopped_early": result.stopped_early,
        "train_examples": result.train_examples,
        "validation_examples": result.validation_examples,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "seconds": result.seconds,
        "model_dir": str(result.model_dir.relative_to(settings.ARTIFACTS_ROOT)) if result.model_dir else "",
        "test_evaluation": result.test_evaluation,
        "finished_at": timezone.now(),
    }
    # A cancel that arrived after the last batch keeps the run cancelled.
    succeeded = Run.objects.filter(pk=run_id, status=Run.Status.RUNNING).update(status=Run.Status.SUCCEEDED, **fields)
    if not succeeded:
        Run.objects.filter(pk=run_id).update(**fields)
    logger.info(
        "run %s: %s after %s epochs in %.1fs, test_accuracy=%s",
        run_id, "succeeded" if succeeded else "cancelled", result.epochs_run, result.seconds, result.test_accuracy,
    )


def run_evaluation_queue(*, run: Run) -> Run:
    """Send a succeeded run without a cached test evaluation to a worker that computes it.

    Raises ``ConflictError`` when the run has no saved model.
    """
    broker_check()
    if run.status != Run.Status.SUCCEEDED or not run.model_dir:
        raise ConflictError(
            _("Run %(id)s has no trained model (%(status)s), so it cannot be evaluated. Queue a new run of its experiment.")
            % {"id": run.pk, "status": run.get_status_display()}
        )
    if run.test_evaluation is None:
        transaction.on_commit(lambda: celery_app.send_task("workers.tasks.evaluate_run", args=[run.pk]))
        logger.info("run %s: test evaluation queued", run.pk)
    return run


def run_evaluation_compute(*, run_id: int) -> Run | None:
    """Compute and cache a run's confusion matrix and per-class accuracy on its dataset's test split."""
    from ml.datasets import load_arrays
    from ml.inference import confusion, load_model

    run = Run.objects.select_related("experiment__dataset").filter(pk=run_id).first()
    if run is None or not run.model_dir:
        logger.warning("run %s: no saved model to evaluate", run_id)
        return run
    if run.test_evaluation is not None:
        return run

    arrays = load_arrays(run.experiment.dataset.arrays_path)
    evaluation = confusion(load_model(Path(settings.ARTIFACTS_ROOT) / run.model_dir), arrays.x_test, arrays.y_test)
    Run.objects.filter(pk=run_id).update(test_evaluation=evaluation)
    logger.info("run %s: test evaluation cached, accuracy %.4f", run_id, evaluation["accuracy"])
    return Run.objects.get(pk=run_id)
