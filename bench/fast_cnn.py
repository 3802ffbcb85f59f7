"""Train the fast_cnn preset on CIFAR-10 and print its test accuracy and training time.

Goal: at least 0.91 accuracy on the 5,000 test images, trained in under 20 minutes on
2 CPU cores. Run it on a quiet machine; other processes on the cores change the time.

    .venv/bin/python bench/fast_cnn.py [--worker] [--archive PATH] [--epochs N]
                                       [--train-subset N] [--precision auto|float32]
                                       [--set NAME=VALUE ...]

By default it imports the archive into a new temporary folder, trains with
``ml.training.train_model`` (the path a worker takes, without the database), and
prints one line per epoch and a summary table. --train-subset and --epochs give
short proxy runs, --precision float32 turns off bfloat16 to compare, and --set
changes any other hyperparameter of the preset (VALUE as JSON, for example
--set learning_rate=0.8).

With --worker it takes the service's whole path instead, as ``bench/study_row.py``
does for the study's rows. The dataset is imported into a temporary data folder of
the service, the experiment is created and queued through the REST API, and a
Celery worker trains it and stores the run. --train-subset is not available there.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
TARGET_ACCURACY = 0.91
TARGET_SECONDS = 20 * 60
SUBSET_SEED = 0


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", action="store_true",
                        help="Train through the REST API and a Celery worker, storing the run.")
    parser.add_argument("--archive", type=Path, default=REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz",
                        help="CIFAR-10 archive (default: the shared JPEG archive beside the repository).")
    parser.add_argument("--epochs", type=int, default=None, help="Epochs (default: the preset's).")
    parser.add_argument("--train-subset", type=int, default=None, help="Train on only this many training images.")
    parser.add_argument("--precision", choices=("auto", "float32"), default="auto",
                        help="auto: bfloat16 where the CPU supports it; float32: never.")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="Hyperparameter to change, VALUE as JSON (repeatable).")
    arguments = parser.parse_args()
    if arguments.worker and arguments.train_subset:
        parser.error("--train-subset works only without --worker")
    return arguments


def _hyperparameters(arguments: argparse.Namespace) -> dict:
    overrides = {"mixed_precision": arguments.precision == "auto"}
    if arguments.epochs:
        overrides["epochs"] = arguments.epochs
    for assignment in arguments.set:
        name, _, text = assignment.partition("=")
        overrides[name] = json.loads(text)
    return overrides


def _print_summary(rows: list[tuple[str, object]], *, test_accuracy: float, wall_seconds: float) -> None:
    met = test_accuracy >= TARGET_ACCURACY and wall_seconds < TARGET_SECONDS
    print()
    print("| figure | value |")
    print("| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    print(f"| goal | accuracy >= {TARGET_ACCURACY} in < {TARGET_SECONDS} s: {'met' if met else 'not met'} |")


def _train_in_process(arguments: argparse.Namespace) -> int:
    from ml.config import family_config_from_dict
    from ml.datasets import import_dataset, load_arrays
    from ml.families import cpu_supports_bf16
    from ml.training import train_model

    work = Path(tempfile.mkdtemp(prefix="etiquetado-bench-fast-cnn-"))
    started = time.perf_counter()
    arrays = load_arrays(import_dataset(arguments.archive, work / "dataset").path)
    import_seconds = time.perf_counter() - started
    if arguments.train_subset:
        # A seeded random subset: the imported arrays are sorted by class.
        chosen = np.sort(np.random.default_rng(SUBSET_SEED).permutation(len(arrays.y_train))[: arguments.train_subset])
        arrays = dataclasses.replace(arrays, x_train=arrays.x_train[chosen], y_train=arrays.y_train[chosen])
    config = family_config_from_dict("fast_cnn", _hyperparameters(arguments))

    def report(epoch) -> None:
        print(f"epoch {epoch.epoch:3d}  accuracy {epoch.accuracy:.4f}  val_accuracy {epoch.val_accuracy:.4f}  "
              f"{epoch.seconds:6.1f} s", flush=True)

    started = time.perf_counter()
    result = train_model(config, arrays, work_dir=work / "run", on_epoch_end=report)
    wall_seconds = time.perf_counter() - started

    images = result.train_examples * result.epochs_run
    _print_summary([
        ("config", dataclasses.asdict(config)),
        ("CPU bfloat16", cpu_supports_bf16()),
        ("import", f"{len(arrays.y_train) + len(arrays.y_test)} images in {import_seconds:.1f} s"),
        ("training images x epochs", f"{result.train_examples} x {result.epochs_run}"),
        ("training seconds (epochs)", f"{result.seconds:.0f}"),
        ("wall seconds (with test evaluation and saving)", f"{wall_seconds:.0f}"),
        ("throughput", f"{images / result.seconds:.0f} images/s"),
        (f"test accuracy ({len(arrays.y_test)} images, with test-time augmentation)", f"{result.test_accuracy:.4f}"),
        ("saved model (for bench/label_throughput.py --model-dir)", result.model_dir),
    ], test_accuracy=result.test_accuracy, wall_seconds=wall_seconds)
    return 0


def _train_through_worker(arguments: argparse.Namespace) -> int:
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    from common import django_setup, staff_api_client, train_through_worker

    django_setup(None)
    from django.conf import settings

    from backend.datasets.services import dataset_import
    from backend.experiments.models import Experiment, Run
    from backend.experiments.services import experiment_create
    from ml.families import cpu_supports_bf16

    started = time.perf_counter()
    dataset = dataset_import(source=arguments.archive, name=f"cifar10-{int(time.time())}")
    import_seconds = time.perf_counter() - started
    experiment = experiment_create(name=f"fast-cnn-{int(time.time())}", dataset=dataset,
                                   family=Experiment.Family.FAST_CNN, hyperparameters=_hyperparameters(arguments))

    started = time.perf_counter()
    run = train_through_worker(staff_api_client(), experiment.pk)
    wall_seconds = time.perf_counter() - started
    if run.status != Run.Status.SUCCEEDED:
        print(f"run {run.pk} ended as {run.status}: {run.error}", file=sys.stderr)
        return 1

    _print_summary([
        ("config", run.hyperparameters),
        ("CPU bfloat16", cpu_supports_bf16()),
        ("import", f"{dataset.train_size + dataset.test_size} images in {import_seconds:.1f} s"),
        ("run", f"{run.pk} on {run.worker_hostname}"),
        ("training images x epochs", f"{run.train_examples} x {run.epochs_run}"),
        ("training seconds (epochs)", f"{run.seconds:.0f}"),
        ("wall seconds (queued to stored, with test evaluation and saving)", f"{wall_seconds:.0f}"),
        ("throughput", f"{run.train_examples * run.epochs_run / run.seconds:.0f} images/s"),
        (f"test accuracy ({dataset.test_size} images, with test-time augmentation)", f"{run.test_accuracy:.4f}"),
        ("saved model (for bench/label_throughput.py --model-dir)", settings.ARTIFACTS_ROOT / run.model_dir),
    ], test_accuracy=run.test_accuracy, wall_seconds=wall_seconds)
    return 0


def main() -> int:
    arguments = _parse_arguments()
    sys.path.insert(0, str(REPO_ROOT))
    if arguments.worker:
        return _train_through_worker(arguments)
    return _train_in_process(arguments)


if __name__ == "__main__":
    sys.exit(main())
