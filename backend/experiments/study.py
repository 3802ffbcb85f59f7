"""The reference study's catalog: load its rows as experiments, estimate and queue their runs.

The published figures live in ``data/study-results.csv`` (a copy of the study's own
file, oddities included) and its conclusions in ``data/study-awards.json``.
"""

import csv
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Avg
from django.utils.translation import gettext as _

from backend.datasets.models import Dataset
from backend.experiments.models import Experiment, Run, StudyRow
from backend.experiments.services import experiment_create, run_queue
from ml.config import DEFAULT_DROPOUT_RATE
from workers.celery import app as celery_app

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
RESULTS_CSV = DATA_DIR / "study-results.csv"
AWARDS_JSON = DATA_DIR / "study-awards.json"
NAME_PREFIX = "estudio"
PARTS = ("mlp", "dropout", "early_stopping", "cnn")
TRAINING_QUEUE = "training"
FIGURES = ("epochs", "accuracy", "loss", "val_accuracy", "val_loss", "seconds")

# Maximum epochs of the EarlyStopping rows: the study's longest such row ran 50.
EARLY_STOPPING_MAX_EPOCHS = 50

# Hyperparameters of the study's CNN-table models, by the study's model name.
# The VGG16 "improved" row ran 50 epochs: 20 of the head alone, as in the base row,
# then 30 more fine-tuning VGG16's last block.
CNN_TABLE_MODELS: dict[str, tuple[str, dict]] = {
    "cnn_base": ("cnn", {"conv_layers": 4, "epochs": 25}),
    "cnn_improved": ("cnn", {"conv_layers": 8, "epochs": 50, "early_stopping": True}),
    "resnet50_base": ("resnet50", {"epochs": 10}),
    "resnet50_improved": ("resnet50", {"epochs": 50}),
    "vgg16_transfer_base": ("vgg16_transfer", {"epochs": 20}),
    "vgg16_transfer_improved": ("vgg16_transfer", {"epochs": 20, "fine_tune_epochs": 30}),
}

# Seconds one run takes when neither a past run of the family nor the study gives a
# figure. The MLP's is measured (168 s on 2 CPU cores, docs/benchmarks.md).
# NOTE: the others are estimates of the order of the study's rows, not measurements;
# past runs of the family replace them as soon as one succeeds.
DEFAULT_RUN_SECONDS = {"mlp": 170, "cnn": 1500, "resnet50": 3000, "vgg16_transfer": 3000, "fast_cnn": 1200}


def _number(text: str, kind=float):
    return kind(text) if text.strip() else None


def study_rows_published() -> list[dict]:
    """Return the study's rows as published, in order, numbers parsed and empty cells None."""
    with RESULTS_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    parsed = []
    for position, row in enumerate(rows, start=1):
        parsed.append({
            "position": position,
            "table": row["table"],
            "model": row["model"],
            "optimizer": row["optimizer"],
            "activation": row["activation"],
            "layers": _number(row["layers"], int),
            "regularizer": row["regularizer"],
            "epochs": _number(row["epochs"], int),
            **{name: _number(row[name]) for name in ("accuracy", "loss", "val_accuracy", "val_loss", "seconds")},
        })
    return parsed


def study_awards_published() -> dict:
    """Return the study's own conclusions."""
    return json.loads(AWARDS_JSON.read_text(encoding="utf-8"))


def _experiment_spec(row: dict) -> tuple[str, str, dict]:
    """Return the experiment name, family and hyperparameters that reproduce ``row``."""
    if row["table"] == "cnn":
        family, hyperparameters = CNN_TABLE_MODELS[row["model"]]
        return f"{NAME_PREFIX}-{row['model']}", family, dict(hyperparameters)

    hyperparameters = {"optimizer": row["optimizer"], "activation": row["activation"], "hidden_layers": row["layers"]}
    if row["regularizer"] == "dropout":
        hyperparameters["dropout_rate"] = DEFAULT_DROPOUT_RATE
    if row["regularizer"] == "early_stopping":
        hyperparameters.update(early_stopping=True, epochs=EARLY_STOPPING_MAX_EPOCHS)
    name = f"{NAME_PREFIX}-{row['table']}-{row['optimizer']}-{row['activation']}-{row['layers']}"
    return name, Experiment.Family.MLP, hyperparameters


@transaction.atomic
def study_load(*, dataset: Dataset, created_by=None) -> tuple[int, int]:
    """Create every study row and its experiment on ``dataset``; rows already loaded are kept.

    Returns ``(rows_created, experiments_created)``. Running it again creates nothing.
    """
    rows_created = experiments_created = 0
    for published in study_rows_published():
        row, created = StudyRow.objects.get_or_create(
            position=published["position"],
            defaults={key: ("" if value is None and key in ("optimizer", "activation", "regularizer") else value)
                      for key, value in published.items() if key != "position"},
        )
        rows_created += created
        if row.experiment_id:
            continue
        name, family, hyperparameters = _experiment_spec(published)
        experiment = Experiment.objects.filter(name=name).first()
        if experiment is None:
            experiment = experiment_create(
                name=name, dataset=dataset, family=family, hyperparameters=hyperparameters,
                description=_("Row %(position)s of the reference study.") % {"position": published["position"]},
                created_by=created_by,
            )
            experiments_created += 1
        row.experiment = experiment
        row.save(update_fields=["experiment"])
    logger.info("study: %s rows and %s experiments created on dataset %s", rows_created, experiments_created, dataset.pk)
    return rows_created, experiments_created


def study_rows_of_part(part: str | None):
    """Return the loaded study rows of one part (a study table), or all of them, with their experiments."""
    rows = StudyRow.objects.select_related("experiment__dataset").filter(experiment__isnull=False)
    return rows.filter(table=part) if part else rows


def workers_at_hand(*, timeout: float | None = None) -> int:
    """Count the workers that consume the training queue, asking them over the broker.

    Returns 0 when none answers within ``timeout`` seconds or the broker cannot
    broadcast (the file transport).
    """
    timeout = settings.WORKER_INSPECT_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        replies = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    except (OSError, NotImplementedError) as error:
        logger.warning("study: workers could not be asked for their queues: %s", error)
        return 0
    return sum(1 for queues in replies.values() if any(queue.get("name") == TRAINING_QUEUE for queue in queues or ()))


@dataclass(frozen=True)
class QueueEstimate:
    """How long a set of runs should take: the sum of their seconds, shared among the workers."""

    runs: int
    total_seconds: float
    workers: int
    sources: dict
    """How many runs each estimate source covered: measured, study, default."""

    @property
    def wall_seconds(self) -> float | None:
        return None if self.workers == 0 else self.total_seconds / self.workers


def study_estimate(rows, *, workers: int) -> QueueEstimate:
    """Estimate the seconds the runs of ``rows`` take.

    Each run counts the mean seconds of past succeeded runs of the same family,
    else the study's published seconds for its row, else ``DEFAULT_RUN_SECONDS``.
    """
    measured = {
        family: seconds
        for family, seconds in Run.objects.filter(status=Run.Status.SUCCEEDED, seconds__isnull=False)
        .values_list("experiment__family").annotate(Avg("seconds"))
    }
    total = 0.0
    sources = {"measured": 0, "study": 0, "default": 0}
    count = 0
    for row in rows:
        family = row.experiment.family
        count += 1
        if family in measured:
            total += measured[family]
            sources["measured"] += 1
        elif row.seconds is not None:
            total += row.seconds
            sources["study"] += 1
        else:
            total += DEFAULT_RUN_SECONDS[family]
            sources["default"] += 1
    return QueueEstimate(runs=count, total_seconds=total, workers=workers, sources=sources)


def estimate_text(estimate: QueueEstimate) -> str:
    """Describe ``estimate`` in the active language."""
    hours = estimate.total_seconds / 3600
    text = _("%(runs)s runs, about %(hours).1f hours of training in all (measured: %(measured)s, from the study: %(study)s, default: %(default)s).") % {
        "runs": estimate.runs, "hours": hours, **estimate.sources,
    }
    if estimate.workers == 0:
        return text + " " + _("No worker is consuming the training queue now: the runs wait until one starts.")
    wall_hours = math.ceil(estimate.wall_seconds / 360) / 10
    return text + " " + _("With %(workers)s workers at hand, about %(hours).1f hours.") % {"workers": estimate.workers, "hours": wall_hours}


def study_queue(*, rows) -> list[Run]:
    """Queue one run of the experiment of each of ``rows``."""
    with transaction.atomic():
        runs = [run_queue(experiment=row.experiment) for row in rows]
    logger.info("study: %s runs queued", len(runs))
    return runs
