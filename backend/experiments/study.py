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
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from kombu.exceptions import OperationalError as KombuOperationalError

from backend.common.errors import ConflictError
from backend.datasets.models import Dataset
from backend.experiments.models import Experiment, Run, StudyRow
from backend.experiments.services import hyperparameters_validate, runs_queue
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
# Replaces the English "source" of data/study-awards.json, so that it follows the request's language.
AWARDS_SOURCE = gettext_lazy("The reference study's conclusions, as published.")

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
    """Return the study's own conclusions, their source described in the active language."""
    awards = json.loads(AWARDS_JSON.read_text(encoding="utf-8"))
    awards["source"] = str(AWARDS_SOURCE)
    return awards


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


class StudyOnOtherDatasetError(ConflictError):
    """The catalog is loaded on another dataset, and moving it was not requested."""


class StudyRunsOnOtherDatasetError(ConflictError):
    """Moving the catalog was requested, but some of its experiments already have runs."""


@dataclass(frozen=True)
class StudyLoadResult:
    """Counts of the rows and experiments that ``study_load`` created and of the experiments it moved."""

    dataset: Dataset
    rows_created: int
    experiments_created: int
    experiments_moved: int
    moved_from: tuple[str, ...]
    """Names of the datasets that the moved experiments trained on before."""


def _catalog_move(*, experiments: list[Experiment], dataset: Dataset, move: bool) -> tuple[int, tuple[str, ...]]:
    """Point the catalog's experiments that train on another dataset at ``dataset``.

    Raises ``StudyOnOtherDatasetError`` when some are elsewhere and ``move`` is false,
    and ``StudyRunsOnOtherDatasetError`` when one of them has runs, because a run's
    figures belong to the dataset it trained on. Returns the count moved and the
    datasets they came from.
    """
    elsewhere = [experiment for experiment in experiments if experiment.dataset_id != dataset.pk]
    if not elsewhere:
        return 0, ()

    moved_from = tuple(sorted({experiment.dataset.name for experiment in elsewhere}))
    previous = ", ".join(moved_from)
    if not move:
        raise StudyOnOtherDatasetError(
            _("The study's catalog is already loaded on the dataset “%(current)s”, so nothing was created on "
              "“%(requested)s”. To train the catalog on “%(requested)s” instead, run manage.py load_study "
              "--dataset %(requested)s --move. Moving works only while none of the catalog's experiments has runs.")
            % {"current": previous, "requested": dataset.name}
        )
    with_runs = Run.objects.filter(experiment__in=elsewhere).values("experiment_id").distinct().count()
    if with_runs:
        raise StudyRunsOnOtherDatasetError(
            ngettext(
                "The catalog cannot be moved to “%(requested)s”: %(count)d of its experiments has runs on "
                "“%(current)s”, and those runs belong to that dataset. Nothing was changed. To keep them, leave the "
                "catalog on “%(current)s”. To start over on “%(requested)s”, first download the report "
                "(/informe/estudio.csv) to keep their figures, delete those runs in the admin (Runs), then run "
                "load_study with --move again.",
                "The catalog cannot be moved to “%(requested)s”: %(count)d of its experiments have runs on "
                "“%(current)s”, and those runs belong to that dataset. Nothing was changed. To keep them, leave the "
                "catalog on “%(current)s”. To start over on “%(requested)s”, first download the report "
                "(/informe/estudio.csv) to keep their figures, delete those runs in the admin (Runs), then run "
                "load_study with --move again.",
                with_runs,
            )
            % {"count": with_runs, "current": previous, "requested": dataset.name}
        )

    moved = Experiment.objects.filter(pk__in=[experiment.pk for experiment in elsewhere]).update(dataset=dataset)
    for experiment in elsewhere:
        logger.debug("experiment %s: moved from dataset %s to dataset %s", experiment.pk, experiment.dataset_id, dataset.pk)
    return moved, moved_from


def _validate_dataset_ready(dataset: Dataset) -> None:
    if dataset.status != Dataset.Status.READY:
        raise ValidationError(
            _("The dataset “%(name)s” is not ready (status: %(status)s). Wait for its import or import it again.")
            % {"name": dataset.name, "status": dataset.get_status_display()}
        )


@transaction.atomic
def study_load(*, dataset: Dataset, move: bool = False, created_by=None) -> StudyLoadResult:
    """Create every study row and its experiment on ``dataset``; rows already loaded are kept.

    Running it again on the same dataset creates nothing. When the catalog is on
    another dataset, ``move`` points its experiments at ``dataset`` (see
    ``_catalog_move`` for when that is rejected); nothing is created or moved otherwise.
    """
    _validate_dataset_ready(dataset)
    published_rows = study_rows_published()
    specs = {published["position"]: _experiment_spec(published) for published in published_rows}
    catalog = list(
        Experiment.objects.select_related("dataset")
        .filter(Q(study_row__isnull=False) | Q(name__in=[name for name, _family, _values in specs.values()]))
    )
    moved, moved_from = _catalog_move(experiments=catalog, dataset=dataset, move=move)
    by_name = {experiment.name: experiment for experiment in catalog}

    rows_created = experiments_created = 0
    for published in published_rows:
        row, created = StudyRow.objects.get_or_create(
            position=published["position"],
            defaults={key: ("" if value is None and key in ("optimizer", "activation", "regularizer") else value)
                      for key, value in published.items() if key != "position"},
        )
        rows_created += created
        if row.experiment_id:
            continue
        name, family, hyperparameters = specs[published["position"]]
        experiment = by_name.get(name)
        if experiment is None:
            # Not services.experiment_create: it logs one INFO line per experiment, and
            # the catalog logs one summary for its 51 instead.
            experiment = Experiment.objects.create(
                name=name, dataset=dataset, family=family,
                hyperparameters=hyperparameters_validate(family=family, hyperparameters=hyperparameters),
                description=_("Row %(position)s of the reference study.") % {"position": published["position"]},
                created_by=created_by,
            )
            experiments_created += 1
            logger.debug("study row %s: experiment %s created", published["position"], experiment.pk)
        row.experiment = experiment
        row.save(update_fields=["experiment"])

    logger.info("study: %s rows and %s experiments created, %s experiments moved, on dataset %s",
                rows_created, experiments_created, moved, dataset.pk)
    return StudyLoadResult(dataset=dataset, rows_created=rows_created, experiments_created=experiments_created,
                           experiments_moved=moved, moved_from=moved_from)


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
    except (OSError, NotImplementedError, KombuOperationalError) as error:
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


def measured_seconds_per_epoch_image() -> dict[str, float]:
    """Return, per family, the training seconds that past succeeded runs took per epoch and training image.

    It is their total seconds over their total epochs x training images, so long runs
    weigh more than short ones, whose fixed start-up cost would inflate the rate.
    """
    totals = (
        Run.objects.filter(status=Run.Status.SUCCEEDED, seconds__isnull=False, epochs_run__gt=0, train_examples__gt=0)
        .values("experiment__family")
        .annotate(seconds=Sum("seconds"), work=Sum(F("epochs_run") * F("train_examples")))
    )
    return {total["experiment__family"]: total["seconds"] / total["work"] for total in totals}


def planned_epochs(hyperparameters: dict) -> int:
    """Return the epochs a run of these hyperparameters trains at most, fine-tuning epochs included.

    For an EarlyStopping experiment this is its maximum, so its estimate is an upper bound.
    """
    return hyperparameters["epochs"] + hyperparameters.get("fine_tune_epochs", 0)


def training_images(experiment: Experiment) -> int:
    """Return the images a run of ``experiment`` trains on: its dataset's training split less the validation part.

    The validation part is ``round(images x validation_fraction)``, at least one image
    and at most all but one, as ``ml.training.validation_split_indices`` takes it.
    """
    images = experiment.dataset.train_size
    if images < 2:
        return images
    fraction = experiment.hyperparameters.get("validation_fraction", 0.0)
    return images - min(images - 1, max(1, round(images * fraction)))


def study_estimate(rows, *, workers: int) -> QueueEstimate:
    """Estimate the seconds the runs of ``rows`` take.

    A run counts its family's measured seconds per epoch and training image (see
    ``measured_seconds_per_epoch_image``) times its planned epochs times the training
    images of its experiment's dataset. Without a measured run of the family it counts
    the study's published seconds for its row, else ``DEFAULT_RUN_SECONDS``.
    """
    rates = measured_seconds_per_epoch_image()
    total = 0.0
    sources = {"measured": 0, "study": 0, "default": 0}
    count = 0
    for row in rows:
        experiment = row.experiment
        count += 1
        if experiment.family in rates:
            total += rates[experiment.family] * planned_epochs(experiment.hyperparameters) * training_images(experiment)
            sources["measured"] += 1
        elif row.seconds is not None:
            # NOTE: the study's seconds are for its CIFAR-10 runs on its own hardware,
            # whatever the catalog's dataset. A measured run of the family replaces them.
            total += row.seconds
            sources["study"] += 1
        else:
            total += DEFAULT_RUN_SECONDS[experiment.family]
            sources["default"] += 1
    return QueueEstimate(runs=count, total_seconds=total, workers=workers, sources=sources)


def duration_text(seconds: float) -> str:
    """Describe a duration in the active language: whole minutes under an hour, else tenths of an hour.

    Both are rounded up, so that a total and its share per worker read alike.
    """
    if seconds < 60:
        return _("less than a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return ngettext("about %(minutes)d minute", "about %(minutes)d minutes", minutes) % {"minutes": minutes}
    hours = math.ceil(seconds / 360) / 10
    return _("about %(hours)s hours") % {"hours": formats.number_format(hours, 1)}


def estimate_text(estimate: QueueEstimate) -> str:
    """Describe ``estimate`` in the active language."""
    text = ngettext(
        "%(runs)d run, %(duration)s of training in all (measured: %(measured)d, from the study: %(study)d, default: %(default)d).",
        "%(runs)d runs, %(duration)s of training in all (measured: %(measured)d, from the study: %(study)d, default: %(default)d).",
        estimate.runs,
    ) % {"runs": estimate.runs, "duration": duration_text(estimate.total_seconds), **estimate.sources}
    if estimate.workers == 0:
        return text + " " + _("No worker is consuming the training queue now: the runs wait until one starts.")
    return text + " " + ngettext(
        "With %(workers)d worker at hand, %(duration)s.",
        "With %(workers)d workers at hand, %(duration)s.",
        estimate.workers,
    ) % {"workers": estimate.workers, "duration": duration_text(estimate.wall_seconds)}


def study_queue(*, rows) -> list[Run]:
    """Queue one run of the experiment of each of ``rows``.

    Raises ``UnavailableError``, queueing nothing, when the broker does not respond.
    """
    runs = runs_queue(experiments=[row.experiment for row in rows])
    logger.info("study: %s runs queued", len(runs))
    return runs
