"""Model versions and labeling jobs: promote and serve models, store images, label them in a worker."""

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from backend.common.errors import ConflictError, ServiceError, UnavailableError
from backend.experiments.models import Run
from backend.labeling.models import LabeledImage, LabelingJob, ModelVersion
from backend.labeling.results import label_for
from backend.labeling.selectors import model_version_serving
from ml.decoding import (
    ImageFile,
    ImageTooLargeError,
    TooManyImagesError,
    ZipUnreadableError,
    decode_for_model,
    expand_zip,
    is_zip,
)
from ml.errors import MLError
from ml.inference import LoadedModel
from ml.prediction import ModelCache, predict_top_k
from ml.training import METADATA_FILE_NAME, MODEL_FILE_NAME
from workers.celery import app as celery_app

logger = logging.getLogger(__name__)

NO_SERVING_MODEL_MESSAGE = gettext_noop(
    "No model is in service, so the images could not be labeled. Promote a trained run in the "
    "admin (Model versions) and send the images again."
)
MODEL_NOT_LOADED_MESSAGE = gettext_noop(
    "The model version %(version)s in service could not be loaded from its files. Put another "
    "version in service, or promote the run again, and send the images again."
)
TIME_LIMIT_MESSAGE = gettext_noop(
    "Labeling took longer than the limit of %(seconds)s seconds. Send fewer images per request."
)
MAX_ATTEMPTS_MESSAGE = gettext_noop(
    "Labeling was stopped: the worker died %(attempts)s times while labeling these images. "
    "Send them again in smaller groups; if it happens again, tell the administrator."
)
INTERNAL_ERROR_MESSAGE = gettext_noop(
    "Labeling failed because of an internal error. Send the images again; if it fails again, "
    "tell the administrator."
)
IMAGE_INTERNAL_ERROR_MESSAGE = gettext_noop(
    "The image %(name)s could not be labeled because of an internal error. Send it again; if it "
    "fails again, tell the administrator."
)

# Models loaded by this worker process, keyed by version number.
_model_cache = ModelCache(max_models=settings.LABELING_MODEL_CACHE_SIZE)


def _read_model_metadata(model_dir: Path) -> dict:
    """Return the saved model's metadata, or raise ServiceError when its files are missing."""
    metadata_path = model_dir / METADATA_FILE_NAME
    if not (model_dir / MODEL_FILE_NAME).is_file() or not metadata_path.is_file():
        raise ServiceError(
            _("The model files are missing from %(folder)s. Train the experiment again and promote the new run.")
            % {"folder": model_dir.name}
        )
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    if not metadata.get("class_names") or len(metadata.get("input_shape") or ()) != 3:
        raise ServiceError(
            _("The model's metadata lacks its class names or input shape. Train the experiment again and promote the new run.")
        )
    return metadata


def run_model_metadata(*, run: Run) -> dict:
    """Return the metadata of a run's saved model; raise ServiceError when the run has no usable model."""
    if run.status != Run.Status.SUCCEEDED or not run.model_dir:
        raise ServiceError(
            _("Run %(id)s has no trained model (status: %(status)s). Promote a run that succeeded.")
            % {"id": run.pk, "status": run.get_status_display()}
        )
    return _read_model_metadata(Path(settings.ARTIFACTS_ROOT) / run.model_dir)


def model_version_promote(*, run: Run, promoted_by=None) -> ModelVersion:
    """Give a succeeded run's model the next version number and put it in service."""
    metadata = run_model_metadata(run=run)

    try:
        with transaction.atomic():
            existing = ModelVersion.objects.filter(run=run).first()
            if existing is not None:
                raise ConflictError(
                    _("Run %(id)s is already model version %(version)s. Put that version in service instead.")
                    % {"id": run.pk, "version": existing.version}
                )
            number = (ModelVersion.objects.aggregate(highest=Max("version"))["highest"] or 0) + 1
            ModelVersion.objects.filter(is_serving=True).update(is_serving=False)
            model_version = ModelVersion.objects.create(
                version=number,
                run=run,
                model_dir=run.model_dir,
                class_names=list(metadata["class_names"]),
                input_shape=list(metadata["input_shape"]),
                test_accuracy=run.test_accuracy,
                is_serving=True,
                served_since=timezone.now(),
                created_by=promoted_by,
            )
    except IntegrityError as error:
        # Another promotion took the same version number, or served another version, at the same time.
        raise ConflictError(_("Another model was promoted at the same moment. Try again.")) from error

    logger.info("model version %s: promoted from run %s and put in service", model_version.version, run.pk)
    return model_version


def model_version_serve(*, model_version: ModelVersion) -> ModelVersion:
    """Put ``model_version`` in service instead of the current one; workers use it from their next job."""
    _read_model_metadata(model_version.path)

    try:
        with transaction.atomic():
            ModelVersion.objects.filter(is_serving=True).exclude(pk=model_version.pk).update(is_serving=False)
            ModelVersion.objects.filter(pk=model_version.pk).update(is_serving=True, served_since=timezone.now())
    except IntegrityError as error:
        raise ConflictError(_("Another model was put in service at the same moment. Try again.")) from error

    logger.info("model version %s: put in service", model_version.version)
    model_version.refresh_from_db()
    return model_version


def _read_upload(upload) -> ImageFile:
    name = Path(upload.name or "imagen").name
    if upload.size > settings.LABELING_MAX_IMAGE_BYTES:
        return ImageFile(name, b"", ImageTooLargeError(name=name, size=upload.size, limit=settings.LABELING_MAX_IMAGE_BYTES))
    return ImageFile(name, upload.read(settings.LABELING_MAX_IMAGE_BYTES + 1))


def _zip_files(upload) -> list[ImageFile]:
    """Return the files of an uploaded .zip, or the .zip itself with its error when it cannot be read.

    An unreadable .zip is one bad file among the others, which are still labeled;
    a zip bomb or too many images still reject the whole request.
    """
    name = Path(upload.name or "archivo.zip").name
    try:
        return list(
            expand_zip(
                upload,
                name=name,
                max_images=settings.LABELING_MAX_IMAGES,
                max_image_bytes=settings.LABELING_MAX_IMAGE_BYTES,
                max_expanded_bytes=settings.LABELING_MAX_ZIP_EXPANDED_BYTES,
            )
        )
    except ZipUnreadableError as error:
        logger.info("labeling upload %s: unreadable .zip stored with its error", name)
        return [ImageFile(name, b"", error)]


def _expand_uploads(uploads: Iterable) -> Iterator[ImageFile]:
    """Yield every image of the uploaded files, the images of each .zip in its place."""
    count = 0
    for upload in uploads:
        upload.seek(0)
        starts_as_zip = is_zip(upload.read(4))
        upload.seek(0)
        if starts_as_zip:
            files = _zip_files(upload)
        else:
            files = [_read_upload(upload)]
        for image_file in files:
            count += 1
            if count > settings.LABELING_MAX_IMAGES:
                raise TooManyImagesError(count=count, limit=settings.LABELING_MAX_IMAGES)
            yield image_file


def labeling_job_create(*, uploads: Iterable, top_k: int, threshold: float, created_by=None) -> LabelingJob:
    """Store the uploaded images (a .zip counts as its images) and queue them on the ``labeling`` queue.

    The job and every image's bytes are committed before the job is sent. An image
    that is too large is stored with its error, without its bytes. Raises an
    ``UploadError`` (too many images, a zip bomb, an unreadable .zip) or a
    ``ServiceError`` (no images), and then stores nothing.
    """
    uploads = list(uploads)
    if not uploads:
        raise ServiceError(
            _("The request contains no images. Attach one or more image files, or a .zip of images, in the field “images”.")
        )
    if model_version_serving() is None:
        raise UnavailableError(
            _("No model is in service, so no image can be labeled. Ask an administrator to promote a trained run (Model versions in the admin), then send the images again.")
        )
    image_files = list(_expand_uploads(uploads))
    if not image_files:
        raise ServiceError(_("The .zip archives contain no files. Put the images in the archive and send it again."))

    with transaction.atomic():
        job = LabelingJob.objects.create(top_k=top_k, threshold=threshold, created_by=created_by)
        LabeledImage.objects.bulk_create(
            LabeledImage(
                job=job,
                position=position,
                name=image_file.name[-255:],
                content=image_file.content,
                size_bytes=len(image_file.content),
                status=LabeledImage.Status.FAILED if image_file.error else LabeledImage.Status.QUEUED,
                error=image_file.error.message if image_file.error else "",
                error_params=image_file.error.params if image_file.error else {},
            )
            for position, image_file in enumerate(image_files)
        )
        # NOTE: unlike runs and imports, a job is not checked against the broker before it
        # is stored, which keeps one connection off each request. With the broker down,
        # the request fails after the job is stored, and the job stays queued.
        transaction.on_commit(lambda: celery_app.send_task("workers.tasks.label_job", args=[job.pk]))

    logger.info("labeling job %s: queued with %s images", job.pk, len(image_files))
    return job


def _job_fail(job_id: int, message_id: str, params: dict | None = None) -> None:
    """Fail the job and, with the same error, every image of it not labeled yet."""
    LabelingJob.objects.filter(pk=job_id).update(
        status=LabelingJob.Status.FAILED, error=message_id, error_params=params or {}, finished_at=timezone.now()
    )
    LabeledImage.objects.filter(job_id=job_id, status=LabeledImage.Status.QUEUED).update(
        status=LabeledImage.Status.FAILED, error=message_id, error_params=params or {}
    )


def _job_start(job_id: int) -> LabelingJob | None:
    """Mark the job as running; return None when it must not run (missing, finished, too many attempts)."""
    with transaction.atomic():
        job = LabelingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("labeling job %s: not found, message dropped", job_id)
            return None
        if job.is_finished:
            logger.info("labeling job %s: already %s, not labeled again", job_id, job.status)
            return None
        if job.status == LabelingJob.Status.RUNNING:
            logger.warning("labeling job %s: redelivered after its worker stopped (attempt %s)", job_id, job.attempts + 1)
        if job.attempts >= settings.LABELING_MAX_ATTEMPTS:
            _job_fail(job_id, MAX_ATTEMPTS_MESSAGE, {"attempts": job.attempts})
            logger.error("labeling job %s: failed after %s lost workers", job_id, job.attempts)
            return None

        job.status = LabelingJob.Status.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    return job


def _decode(image: LabeledImage, input_shape: tuple[int, ...]) -> np.ndarray | None:
    """Decode one stored image, or record its error on it and return None."""
    try:
        return decode_for_model(
            bytes(image.content), name=image.name, input_shape=input_shape,
            max_pixels=settings.LABELING_MAX_IMAGE_PIXELS, max_bytes=settings.LABELING_MAX_IMAGE_BYTES,
        )
    except MLError as error:
        image.error, image.error_params = error.message, error.params
    except Exception:
        # One image must never fail the others: the error is logged with its trace
        # and the image gets a message without it.
        logger.exception("labeling job %s: image %s (%s) could not be decoded", image.job_id, image.position, image.name)
        image.error, image.error_params = IMAGE_INTERNAL_ERROR_MESSAGE, {"name": image.name}
    image.status = LabeledImage.Status.FAILED
    return None


def _label_batch(images: list[LabeledImage], *, loaded: LoadedModel, model_version: ModelVersion, job: LabelingJob) -> None:
    """Decode and label ``images`` with one model call, and store each result or error."""
    decoded = [(image, _decode(image, loaded.input_shape)) for image in images]
    ready = [(image, pixels) for image, pixels in decoded if pixels is not None]

    if ready:
        scores = predict_top_k(
            loaded, np.stack([pixels for _, pixels in ready]), k=job.top_k, batch_size=settings.LABELING_BATCH_SIZE
        )
        labeled_at = timezone.now()
        for (image, _), image_scores in zip(ready, scores, strict=True):
            image.predictions = [{"class_name": score.class_name, "confidence": score.confidence} for score in image_scores]
            image.label = label_for(image.predictions, threshold=job.threshold)
            image.status = LabeledImage.Status.DONE
            image.model_version = model_version
            image.labeled_at = labeled_at

    LabeledImage.objects.bulk_update(
        images, ["status", "predictions", "label", "error", "error_params", "model_version", "labeled_at"]
    )


def labeling_job_execute(*, job_id: int) -> LabelingJob | None:
    """Label a job's images with the model in service: the worker's side of ``labeling_job_create``.

    The version in service is read from the database for every job, so a newly
    promoted model is used from the next job on, without restarting the worker. The
    model itself is loaded once per process and version. Images are decoded and
    labeled ``LABELING_BATCH_SIZE`` at a time; an image that cannot be decoded gets
    its own error and the others are labeled. A job that a dead worker left running
    is resumed with the images it had not labeled.
    """
    job = _job_start(job_id)
    if job is None:
        return None

    model_version = model_version_serving()
    if model_version is None:
        _job_fail(job_id, NO_SERVING_MODEL_MESSAGE)
        logger.warning("labeling job %s: failed, no model version in service", job_id)
        return LabelingJob.objects.get(pk=job_id)

    try:
        loaded = _model_cache.get(model_version.version, model_version.path)
    except (OSError, ValueError, KeyError) as error:
        _job_fail(job_id, MODEL_NOT_LOADED_MESSAGE, {"version": model_version.version})
        logger.error("labeling job %s: model version %s could not be loaded: %s", job_id, model_version.version, error)
        return LabelingJob.objects.get(pk=job_id)

    LabelingJob.objects.filter(pk=job_id).update(model_version=model_version)
    pending = list(job.images.filter(status=LabeledImage.Status.QUEUED).order_by("position").values_list("pk", flat=True))
    batch_size = settings.LABELING_BATCH_SIZE
    try:
        for start in range(0, len(pending), batch_size):
            images = list(LabeledImage.objects.filter(pk__in=pending[start:start + batch_size]).order_by("position"))
            _label_batch(images, loaded=loaded, model_version=model_version, job=job)
    except SoftTimeLimitExceeded:
        _job_fail(job_id, TIME_LIMIT_MESSAGE, {"seconds": settings.LABELING_JOB_TIME_LIMIT_SECONDS})
        logger.error("labeling job %s: time limit exceeded", job_id)
        return LabelingJob.objects.get(pk=job_id)
    except Exception:
        _job_fail(job_id, INTERNAL_ERROR_MESSAGE)
        logger.exception("labeling job %s: failed", job_id)
        raise

    LabelingJob.objects.filter(pk=job_id).update(status=LabelingJob.Status.DONE, finished_at=timezone.now())
    logger.info("labeling job %s: %s images labeled with model version %s", job_id, len(pending), model_version.version)
    return LabelingJob.objects.get(pk=job_id)
