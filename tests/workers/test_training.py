"""Training through a real Celery worker, on real CIFAR-10 images, in PostgreSQL."""

import json
import os
import signal
from pathlib import Path

import pytest
from django.conf import settings

from backend.datasets.services import dataset_import
from backend.experiments.models import EpochMetric, Run
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING_SECONDS = 240


def _queue(api_client, dataset, name: str, hyperparameters: dict) -> int:
    created = api_client.post(
        "/api/experiments/", {"name": name, "dataset": dataset.pk, "hyperparameters": hyperparameters}, format="json"
    )
    assert created.status_code == 201, created.json()
    queued = api_client.post(f"/api/experiments/{created.json()['id']}/runs/")
    assert queued.status_code == 202
    return queued.json()["id"]


def _finished(run_id: int) -> Run | None:
    run = Run.objects.get(pk=run_id)
    return run if run.is_finished and run.finished_at else None


def _worker_children(worker) -> list[int]:
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_worker_trains_mlp_and_stores_metrics(celery_worker, api_client, small_archive):
    from ml.datasets import load_arrays
    from ml.inference import evaluate, load_model

    dataset = dataset_import(source=small_archive, name="cifar-small")
    run_id = _queue(api_client, dataset, "mlp-1-epoca", {"epochs": 1, "batch_size": 32, "seed": 3})

    run = wait_for(lambda: _finished(run_id), seconds=TRAINING_SECONDS, message=f"run {run_id} did not finish")

    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.epochs_run == 1
    assert run.attempts == 1
    assert run.worker_hostname.startswith("tests-")
    assert run.dataset_checksum == dataset.checksum
    assert run.seed == 3
    assert run.code_version
    assert set(run.library_versions) >= {"python", "tensorflow", "keras", "numpy"}
    assert run.train_examples == 270
    assert run.validation_examples == 30

    metadata = json.loads((Path(settings.ARTIFACTS_ROOT) / run.model_dir / "metadata.json").read_text())
    stored = list(EpochMetric.objects.filter(run_id=run_id).values("epoch", "accuracy", "loss", "val_accuracy", "val_loss"))
    history = [
        {key: epoch[key] for key in ("epoch", "accuracy", "loss", "val_accuracy", "val_loss")}
        for epoch in metadata["history"]
    ]
    assert stored == history

    arrays = load_arrays(dataset.arrays_path)
    loss, accuracy = evaluate(load_model(Path(settings.ARTIFACTS_ROOT) / run.model_dir), arrays.x_test, arrays.y_test)
    assert run.test_accuracy == pytest.approx(accuracy, abs=1e-6)
    assert run.test_loss == pytest.approx(loss, rel=1e-5)

    metrics = api_client.get(f"/api/runs/{run_id}/metrics/").json()
    assert [row["epoch"] for row in metrics] == [1]
    assert metrics[0]["val_accuracy"] == history[0]["val_accuracy"]


def test_worker_stops_cancelled_run(celery_worker, api_client, small_archive):
    dataset = dataset_import(source=small_archive, name="cifar-small")
    run_id = _queue(api_client, dataset, "mlp-cancelar", {"epochs": 500, "batch_size": 8})

    wait_for(lambda: EpochMetric.objects.filter(run_id=run_id).exists(), seconds=TRAINING_SECONDS, message="no epoch ended")
    response = api_client.post(f"/api/runs/{run_id}/cancel/")
    assert response.status_code == 200

    run = wait_for(lambda: _finished(run_id), seconds=60, message=f"run {run_id} did not stop")

    assert run.status == Run.Status.CANCELLED
    assert 1 <= run.epochs_run < 500
    assert run.test_accuracy is None
    assert EpochMetric.objects.filter(run_id=run_id).count() == run.epochs_run


def test_worker_lost_mid_run_resumes(celery_worker, api_client, medium_archive):
    dataset = dataset_import(source=medium_archive, name="cifar-medium")
    run_id = _queue(api_client, dataset, "mlp-reanudar", {"epochs": 3, "batch_size": 2, "hidden_layers": 1})

    first = wait_for(
        lambda: EpochMetric.objects.filter(run_id=run_id, epoch=1).first(),
        seconds=TRAINING_SECONDS,
        message="epoch 1 did not end",
    )
    assert EpochMetric.objects.filter(run_id=run_id).count() == 1, "epochs are too short to kill the worker during epoch 2"
    for child in _worker_children(celery_worker):
        os.kill(child, signal.SIGKILL)

    run = wait_for(lambda: _finished(run_id), seconds=TRAINING_SECONDS, message=f"run {run_id} was not redelivered")

    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert list(EpochMetric.objects.filter(run_id=run_id).values_list("epoch", flat=True)) == [1, 2, 3]
    resumed_first = EpochMetric.objects.get(run_id=run_id, epoch=1)
    assert resumed_first.val_accuracy == first.val_accuracy
    assert resumed_first.recorded_at == first.recorded_at
    assert "redelivered" in celery_worker.log_path.read_text()


def test_worker_parent_never_loads_tensorflow(celery_worker, api_client, small_archive):
    dataset = dataset_import(source=small_archive, name="cifar-small")
    run_id = _queue(api_client, dataset, "mlp-fork", {"epochs": 1})
    wait_for(lambda: _finished(run_id), seconds=TRAINING_SECONDS, message=f"run {run_id} did not finish")

    parent_libraries = Path(f"/proc/{celery_worker.pid}/maps").read_text()
    child_libraries = "".join(Path(f"/proc/{pid}/maps").read_text() for pid in _worker_children(celery_worker))

    assert "tensorflow" not in parent_libraries
    assert "tensorflow" in child_libraries
