"""Fixtures of the labeling tests: small MLPs trained on real CIFAR-10 images, promoted to serve."""

from pathlib import Path

import pytest
from django.conf import settings

from tests import datafiles

SAMPLES_DIR = datafiles.shared_dir() / "samples"
# Two models that differ in depth and seed, so that switching versions changes the labels' source.
MODEL_HYPERPARAMETERS = {
    "first": {"epochs": 2, "batch_size": 32, "hidden_layers": 1, "seed": 1},
    "second": {"epochs": 2, "batch_size": 32, "hidden_layers": 2, "seed": 2},
}


@pytest.fixture(scope="session")
def trained_models(small_archive, tmp_path_factory) -> dict[str, Path]:
    """Train each MLP of MODEL_HYPERPARAMETERS for 2 epochs on 300 real images; return its model folder."""
    from ml.config import mlp_config_from_dict
    from ml.datasets import import_dataset, load_arrays
    from ml.training import train_mlp

    summary = import_dataset(small_archive, tmp_path_factory.mktemp("labeling") / "arrays")
    arrays = load_arrays(summary.path)
    model_dirs = {}
    for name, hyperparameters in MODEL_HYPERPARAMETERS.items():
        work_dir = Path(settings.ARTIFACTS_ROOT) / "runs" / f"labeling-{name}"
        result = train_mlp(mlp_config_from_dict(hyperparameters), arrays, work_dir=work_dir)
        model_dirs[name] = result.model_dir
    return model_dirs


@pytest.fixture
def succeeded_runs(db, trained_models) -> dict:
    """A succeeded Run row for each trained model, as a worker would have left it."""
    from backend.datasets.models import Dataset
    from backend.experiments.models import Experiment, Run

    dataset = Dataset.objects.create(name="cifar-etiquetado", source="tests", status=Dataset.Status.READY)
    runs = {}
    for name, model_dir in trained_models.items():
        experiment = Experiment.objects.create(name=f"mlp-{name}", dataset=dataset, hyperparameters=MODEL_HYPERPARAMETERS[name])
        runs[name] = Run.objects.create(
            experiment=experiment,
            status=Run.Status.SUCCEEDED,
            hyperparameters=MODEL_HYPERPARAMETERS[name],
            model_dir=str(model_dir.relative_to(settings.ARTIFACTS_ROOT)),
            test_accuracy=0.25,
        )
    return runs


@pytest.fixture
def served_version(succeeded_runs):
    """The "first" model promoted to version 1 and in service."""
    from backend.labeling.services import model_version_promote

    return model_version_promote(run=succeeded_runs["first"])


def sample_bytes(name: str) -> bytes:
    return (SAMPLES_DIR / name).read_bytes()
