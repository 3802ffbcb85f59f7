"""Each model family trains one epoch through a real Celery worker on real CIFAR-10 images."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from backend.datasets.services import dataset_import
from backend.experiments.models import EpochMetric, Run
from backend.experiments.services import experiment_create, run_create, run_execute
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRAINING_SECONDS = 300

# Small widths keep each epoch to seconds; ResNet50 and VGG16 have fixed layouts.
ONE_EPOCH = {
    "cnn": {"epochs": 1, "conv_layers": 4, "filters": 8, "dense_units": 16},
    "resnet50": {"epochs": 1, "batch_size": 32},
    "vgg16_transfer": {"epochs": 1, "dense_units": 16},
    "fast_cnn": {"epochs": 1, "width": 8, "batch_size": 64},
}


def _write_vgg16_weights() -> None:
    """Write the weights file that tests/settings.py names, as the ImageNet file would be installed."""
    import keras

    path = Path(settings.VGG16_WEIGHTS)
    if not path.exists():
        vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
        vgg.save_weights(path)


@pytest.mark.parametrize("family", sorted(ONE_EPOCH))
def test_worker_trains_each_family(celery_worker, api_client, small_archive, family):
    from ml.datasets import load_arrays
    from ml.inference import evaluate, load_model

    if family == "vgg16_transfer":
        _write_vgg16_weights()
    dataset = dataset_import(source=small_archive, name="cifar-small")
    created = api_client.post(
        "/api/experiments/",
        {"name": f"{family}-1-epoca", "dataset": dataset.pk, "family": family, "hyperparameters": ONE_EPOCH[family]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    run_id = api_client.post(f"/api/experiments/{created.json()['id']}/runs/").json()["id"]

    run = wait_for(lambda: Run.objects.filter(pk=run_id, finished_at__isnull=False).first(),
                   seconds=TRAINING_SECONDS, message=f"run {run_id} did not finish")

    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.epochs_run == 1
    assert EpochMetric.objects.filter(run=run).count() == 1
    model_dir = Path(settings.ARTIFACTS_ROOT) / run.model_dir
    metadata = json.loads((model_dir / "metadata.json").read_text())
    assert metadata["family"] == family
    assert metadata["input_shape"] == [32, 32, 3]
    assert set(metadata) >= {"class_names", "preprocessing", "history", "test_accuracy"}
    arrays = load_arrays(dataset.arrays_path)
    loss, accuracy = evaluate(load_model(model_dir), arrays.x_test, arrays.y_test)
    assert run.test_accuracy == pytest.approx(accuracy, abs=1e-6)
    assert sum(sum(row) for row in run.test_evaluation["matrix"]) == 100
    assert set(run.test_evaluation["per_class_accuracy"]) == set(arrays.class_names)


def test_vgg16_without_weights_fails_with_spanish_message(small_dataset, tmp_path):
    experiment = experiment_create(name="vgg16-sin-pesos", dataset=small_dataset, family="vgg16_transfer",
                                   hyperparameters={"epochs": 1})
    run = run_create(experiment=experiment)

    with override_settings(VGG16_WEIGHTS=tmp_path / "no-existe.weights.h5"):
        run = run_execute(run_id=run.pk)

    assert run.status == Run.Status.FAILED
    assert run.error.startswith("El archivo de pesos de VGG16")
    assert "no-existe.weights.h5" in run.error
    assert "ETIQUETADO_VGG16_WEIGHTS" in run.error
