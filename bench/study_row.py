"""Train one row of the reference study's catalog through a real worker, end to end.

The whole path in one go: import the real CIFAR-10 archive, load the study's
catalog, queue the chosen row's experiment through the REST API, let a Celery
worker train it on the full training split, and print its figures beside the
published ones.

    .venv/bin/python bench/study_row.py ROW [--set NAME=VALUE ...]

ROW is the experiment name without its prefix, as ``manage.py load_study``
names it: ``cnn_base``, ``cnn_improved``, ``resnet50_base``,
``vgg16_transfer_base``, ``mlp-sgd-relu-3``, ``dropout-adam-relu-3`` and so on.
``--set`` changes a hyperparameter in a copy of the experiment (for example
``--set weights=random`` for VGG16 where no ImageNet weights can be read).
By default it works in a new temporary data folder with its own SQLite
database and a broker kept in files there; set DATABASE_URL and
CELERY_BROKER_URL to use PostgreSQL and Redis.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from common import DEFAULT_ARCHIVE, django_setup, staff_api_client, train_through_worker

PUBLISHED_FIGURES = ("accuracy", "loss", "val_accuracy", "val_loss", "seconds", "epochs")


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("row", help="Study row, as its experiment is named without the prefix.")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="Hyperparameter to change, VALUE as JSON (repeatable).")
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="CIFAR-10 archive to import.")
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: a new temporary one).")
    return parser.parse_args()


def _overrides(assignments: list[str]) -> dict:
    values = {}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        try:
            values[name] = json.loads(text)
        except json.JSONDecodeError:
            values[name] = text
    return values


def main() -> int:
    arguments = _parse_arguments()
    django_setup(arguments.data_dir)

    from backend.datasets.services import dataset_import
    from backend.experiments.models import Experiment, Run, StudyRow
    from backend.experiments.services import experiment_create
    from backend.experiments.study import NAME_PREFIX, study_load

    dataset = dataset_import(source=arguments.archive, name=f"cifar10-{int(time.time())}")
    study_load(dataset=dataset)
    experiment = Experiment.objects.filter(name=f"{NAME_PREFIX}-{arguments.row}").first()
    if experiment is None:
        print(f"no study row is named {arguments.row}", file=sys.stderr)
        return 2
    published = StudyRow.objects.get(experiment=experiment)
    overrides = _overrides(arguments.set)
    if overrides:
        experiment = experiment_create(
            name=f"{experiment.name}-{int(time.time())}",
            dataset=dataset,
            family=experiment.family,
            hyperparameters={**experiment.hyperparameters, **overrides},
        )

    client = staff_api_client()
    run = train_through_worker(client, experiment.pk)

    if run.status != Run.Status.SUCCEEDED:
        print(f"run {run.pk} ended as {run.status}: {run.error}", file=sys.stderr)
        return 1

    last = run.epochs.order_by("-epoch").first()
    ours = {
        "accuracy": last.accuracy, "loss": last.loss, "val_accuracy": last.val_accuracy,
        "val_loss": last.val_loss, "seconds": run.seconds, "epochs": run.epochs_run,
    }
    print()
    print(f"run {run.pk} of {experiment.name} ({experiment.family}) on {run.worker_hostname}: "
          f"{run.train_examples} training, {run.validation_examples} validation, {dataset.test_size} test images")
    print(f"hyperparameters: {json.dumps(run.hyperparameters)}")
    print("| figure | this run | study |")
    print("| --- | --- | --- |")
    for name in PUBLISHED_FIGURES:
        value = getattr(published, name)
        shown = "not published" if value is None else f"{value:g}"
        print(f"| {name} | {ours[name]:.4f} | {shown} |" if name not in ("seconds", "epochs")
              else f"| {name} | {ours[name]:.0f} | {shown} |")
    print(f"| test accuracy ({dataset.test_size} test images) | {run.test_accuracy:.4f} | not published |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
