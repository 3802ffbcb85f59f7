"""Dataset imports: decode a labelled image set once and record what it holds."""

import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from backend.common.broker import broker_check
from backend.common.errors import ServiceError, ml_error_message
from backend.datasets.models import Dataset
from ml.datasets import ImportSummary, import_dataset
from ml.errors import MLError
from workers.celery import app as celery_app

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]


def uploads_folder() -> Path:
    """Folder for archives uploaded through the admin; each is deleted after its import."""
    return Path(settings.MEDIA_ROOT) / "dataset-uploads"


def _validate_new_name(name: str) -> str:
    """Return the stripped name, freeing it first when it belongs to a failed import."""
    name = name.strip()
    if not name:
        raise ServiceError(_("The dataset name is empty. Give the dataset a name."))
    # A failed import keeps its row only to show its error; it has no files and
    # no experiment can use it, so importing again under its name replaces it.
    Dataset.objects.filter(name=name, status=Dataset.Status.FAILED).delete()
    if Dataset.objects.filter(name=name).exists():
        raise ServiceError(
            _("A dataset named “%(name)s” already exists. Choose another name.") % {"name": name}
        )
    return name


def _new_dataset_folder() -> Path:
    return Path(settings.DATASETS_ROOT) / uuid.uuid4().hex


def _summary_fields(summary: ImportSummary) -> dict:
    image_count = sum(summary.train_counts.values()) + sum(summary.test_counts.values())
    return {
        "arrays_file": str(summary.path.relative_to(settings.DATASETS_ROOT)),
        "class_names": list(summary.class_names),
        "train_counts": dict(summary.train_counts),
        "test_counts": dict(summary.test_counts),
        "image_shape": list(summary.image_shape),
        "checksum": summary.checksum,
        "test_split": summary.test_split,
        "progress_done": image_count,
        "progress_total": image_count,
        "imported_at": timezone.now(),
        "status": Dataset.Status.READY,
        "error": "",
    }


def dataset_import(
    *,
    source: Path,
    name: str,
    image_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> Dataset:
    """Import ``source`` in this process and store it as a ready dataset.

    Raises ``ServiceError`` or ``ml.errors.MLError`` when the source is
    rejected; then nothing is stored and no file is left behind.
    """
    name = _validate_new_name(name)
    folder = _new_dataset_folder()

    summary = import_dataset(Path(source), folder, image_size=image_size, progress=progress)

    try:
        dataset = Dataset.objects.create(
            name=name, source=str(source), image_size=image_size, **_summary_fields(summary)
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    logger.info("dataset %s: imported %s images from %s", dataset.pk, dataset.progress_total, source)
    return dataset


def dataset_upload_save(*, upload: UploadedFile) -> Path:
    """Store an uploaded archive in a folder of its own, under the user's file name.

    Keeping the name lets error messages name the file the user sent.
    """
    path = uploads_folder() / uuid.uuid4().hex / get_valid_filename(Path(upload.name).name)
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return path


def dataset_import_queue(*, source: Path, name: str, image_size: int | None = None) -> Dataset:
    """Record a dataset as importing and hand the import to a worker after commit.

    Raises ``UnavailableError``, recording nothing, when the broker does not respond.
    """
    name = _validate_new_name(name)
    broker_check()

    dataset = Dataset.objects.create(name=name, source=str(source), image_size=image_size)

    transaction.on_commit(lambda: celery_app.send_task("workers.tasks.import_dataset", args=[dataset.pk]))
    logger.info("dataset %s: import of %s queued", dataset.pk, source)
    return dataset


def dataset_import_execute(*, dataset_id: int) -> Dataset | None:
    """Run a queued import: the worker's side of ``dataset_import_queue``.

    A failed import keeps its dataset row with the error, in Spanish, so that
    staff can read why; its files are removed.
    """
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None or dataset.status != Dataset.Status.IMPORTING:
        logger.warning("dataset %s: not waiting for an import, skipped", dataset_id)
        return dataset

    source = Path(dataset.source)
    folder = _new_dataset_folder()

    def record_progress(done: int, total: int) -> None:
        Dataset.objects.filter(pk=dataset_id).update(progress_done=done, progress_total=total)

    try:
        summary = import_dataset(source, folder, image_size=dataset.image_size, progress=record_progress)
    except MLError as error:
        with translation.override(settings.LANGUAGE_CODE):
            message = ml_error_message(error)
        Dataset.objects.filter(pk=dataset_id).update(status=Dataset.Status.FAILED, error=message)
        logger.warning("dataset %s: import from %s rejected: %s (%s)", dataset_id, source, error, error.params)
        return Dataset.objects.get(pk=dataset_id)
    except Exception as error:
        # A bug, not bad input: record it so the dataset does not stay
        # "importing" forever, then let Celery log the traceback.
        Dataset.objects.filter(pk=dataset_id).update(
            status=Dataset.Status.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise
    finally:
        if source.parent.parent == uploads_folder():
            shutil.rmtree(source.parent, ignore_errors=True)

    Dataset.objects.filter(pk=dataset_id).update(**_summary_fields(summary))
    logger.info("dataset %s: imported %s", dataset_id, source)
    return Dataset.objects.get(pk=dataset_id)
