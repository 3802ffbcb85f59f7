"""Train the reference study's SGD + ReLU + 3-layer MLP through a real worker, end to end.

The whole path in one go: import the real CIFAR-10 archive, define the
experiment through the REST API, let a Celery worker train it on the 50,000
training images (less the validation fraction), and print its figures beside
the study's row for it.

    .venv/bin/python bench/train_mlp.py [--archive PATH] [--epochs N]

By default it works in a new temporary data folder with its own SQLite
database, so it touches no service data; set DATABASE_URL to use PostgreSQL.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STUDY_ROW = {"val_accuracy": 0.5802, "seconds": 60, "accuracy": 0.5900}


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--archive",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz",
        help="CIFAR-10 archive to import (default: the shared JPEG archive beside the repository).",
    )
    parser.add_argument("--epochs", type=int, default=None, help="Epochs to train (default: the MLP default).")
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: a new temporary one).")
    return parser.parse_args()


def main() -> int:
    arguments = _parse_arguments()
    data_dir = arguments.data_dir or Path(tempfile.mkdtemp(prefix="etiquetado-bench-"))
    os.environ["ETIQUETADO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    sys.path.insert(0, str(REPO_ROOT))

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from backend.datasets.services import dataset_import
    from backend.experiments.models import Run

    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    dataset = dataset_import(source=arguments.archive, name=f"cifar10-{int(time.time())}")
    import_seconds = time.perf_counter() - started
    images = dataset.train_size + dataset.test_size
    print(f"import: {images} images in {import_seconds:.1f} s ({images / import_seconds:.0f} images/s)")

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    hyperparameters = {"optimizer": "sgd", "activation": "relu", "hidden_layers": 3}
    if arguments.epochs:
        hyperparameters["epochs"] = arguments.epochs
    experiment = client.post(
        "/api/experiments/",
        {"name": f"sgd-relu-3-{dataset.pk}", "dataset": dataset.pk, "hyperparameters": hyperparameters},
        format="json",
    ).json()

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "--queues", "training",
         "--concurrency", "1", "--hostname", f"bench-{os.getpid()}@%h", "--loglevel", "WARNING"],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
    )
    try:
        run_id = client.post(f"/api/experiments/{experiment['id']}/runs/").json()["id"]
        seen_epochs = 0
        while True:
            run = Run.objects.get(pk=run_id)
            for row in run.epochs.filter(epoch__gt=seen_epochs):
                print(
                    f"epoch {row.epoch:3d}: accuracy {row.accuracy:.4f} loss {row.loss:.4f} "
                    f"val_accuracy {row.val_accuracy:.4f} val_loss {row.val_loss:.4f} {row.seconds:.1f} s"
                )
                seen_epochs = row.epoch
            if run.is_finished and run.finished_at:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(timeout=60)

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
