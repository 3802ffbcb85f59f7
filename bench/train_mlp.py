"""Train the reference study's SGD + ReLU + 3-layer MLP through a real worker, end to end.

The whole path in one go: import the real CIFAR-10 archive, define the
experiment through the REST API, let a Celery worker train it on the 50,000
training images (less the validation fraction), and print its figures beside
the study's row for it.

    .venv/bin/python bench/train_mlp.py [--archive PATH] [--epochs N]

By default it works in a new temporary data folder with its own SQLite
database and a broker kept in files there, so it touches no service data;
set DATABASE_URL and CELERY_BROKER_URL to use PostgreSQL and Redis.
"""

import argparse
import sys
import time
from pathlib import Path

from common import DEFAULT_ARCHIVE, django_setup, staff_api_client, train_through_worker

STUDY_ROW = {"val_accuracy": 0.5802, "seconds": 60, "accuracy": 0.5900}


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--archive",
        type=Path,
        default=DEFAULT_ARCHIVE,
        help="CIFAR-10 archive to import (default: the shared JPEG archive beside the repository).",
    )
    parser.add_argument("--epochs", type=int, default=None, help="Epochs to train (default: the MLP default).")
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: a new temporary one).")
    return parser.parse_args()


def main() -> int:
    arguments = _parse_arguments()
    django_setup(arguments.data_dir)

    from backend.datasets.services import dataset_import
    from backend.experiments.models import Run

    started = time.perf_counter()
    dataset = dataset_import(source=arguments.archive, name=f"cifar10-{int(time.time())}")
    import_seconds = time.perf_counter() - started
    images = dataset.train_size + dataset.test_size
    print(f"import: {images} images in {import_seconds:.1f} s ({images / import_seconds:.0f} images/s)")

    client = staff_api_client()
    hyperparameters = {"optimizer": "sgd", "activation": "relu", "hidden_layers": 3}
    if arguments.epochs:
        hyperparameters["epochs"] = arguments.epochs
    experiment = client.post(
        "/api/experiments/",
        {"name": f"sgd-relu-3-{dataset.pk}", "dataset": dataset.pk, "hyperparameters": hyperparameters},
        format="json",
    ).json()

    run = train_through_worker(client, experiment["id"])

    if run.status != Run.Status.SUCCEEDED:
        print(f"run {run.pk} ended as {run.status}: {run.error}", file=sys.stderr)
        return 1

    last = run.epochs.order_by("-epoch").first()
    images_per_second = run.train_examples * run.epochs_run / run.seconds
    print()
    print(f"run {run.pk} on {run.worker_hostname}: {run.train_examples} training, {run.validation_examples} validation, "
          f"{dataset.test_size} test images, {run.epochs_run} epochs, batch {run.hyperparameters['batch_size']}")
    print("| figure | this run | study |")
    print("| --- | --- | --- |")
    print(f"| accuracy (training, last epoch) | {last.accuracy:.4f} | {STUDY_ROW['accuracy']:.4f} |")
    print(f"| val_accuracy (last epoch) | {last.val_accuracy:.4f} | {STUDY_ROW['val_accuracy']:.4f} |")
    print(f"| test accuracy (5,000 test images) | {run.test_accuracy:.4f} | not published |")
    print(f"| training seconds | {run.seconds:.0f} | {STUDY_ROW['seconds']} |")
    print(f"training throughput: {images_per_second:.0f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
