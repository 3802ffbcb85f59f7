"""Reads of the labeling service: the model in service, job results, readiness."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backend.labeling.models import LabeledImage, LabelingJob, ModelVersion
from backend.labeling.results import class_display_name, error_message, not_sure_reason, scored_class

logger = logging.getLogger(__name__)


def model_version_serving() -> ModelVersion | None:
    """Return the model version in service, or None when none is."""
    return ModelVersion.objects.select_related("run").filter(is_serving=True).first()


def labeling_job_images(job: LabelingJob):
    """Return the job's images in order, without their bytes."""
    return job.images.defer("content").select_related("model_version").order_by("position")


def image_result(image: LabeledImage, *, threshold: float) -> dict:
    """Return one image's status and its labels or error, in the active language."""
    result = {
        "position": image.position,
        "name": image.name,
        "status": image.status,
        "model_version": image.model_version.version if image.model_version else None,
        "label": None,
        "label_name": None,
        "reason": None,
        "top": [],
        "error": None,
    }
    if image.status == LabeledImage.Status.FAILED:
        result["error"] = error_message(image.error, image.error_params)
    elif image.status == LabeledImage.Status.DONE:
        result["top"] = [scored_class(score["class_name"], score["confidence"]) for score in image.predictions]
        result["label"] = image.label
        if image.label:
            result["label_name"] = class_display_name(image.label, _language())
        else:
            result["reason"] = not_sure_reason(image.predictions, threshold=threshold)
    return result


def labeling_job_result(job: LabelingJob, *, url: str) -> dict:
    """Return a job's status and every image's result, as the API shows it."""
    return {
        "id": job.pk,
        "url": url,
        "status": job.status,
        "top_k": job.top_k,
        "threshold": job.threshold,
        "model_version": job.model_version.version if job.model_version else None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": error_message(job.error, job.error_params) if job.error else None,
        "images": [image_result(image, threshold=job.threshold) for image in labeling_job_images(job)],
    }


EXPORT_COLUMNS = (
    "job", "position", "name", "status", "model_version", "label", "label_es", "label_en",
    "confidence", "top", "message",
)


def labeling_job_export_rows(job: LabelingJob) -> list[dict]:
    """Return one flat row per image, with the columns of ``EXPORT_COLUMNS``, for CSV export."""
    rows = []
    for image in labeling_job_images(job):
        result = image_result(image, threshold=job.threshold)
        top = result["top"]
        rows.append({
            "job": job.pk,
            "position": image.position,
            "name": image.name,
            "status": image.status,
            "model_version": result["model_version"] or "",
            "label": image.label,
            "label_es": class_display_name(image.label, "es") if image.label else "",
            "label_en": class_display_name(image.label, "en") if image.label else "",
            "confidence": f"{top[0]['confidence']:.4f}" if top else "",
            "top": " ".join(f"{score['key']}:{score['confidence']:.4f}" for score in top),
            "message": result["error"] or result["reason"] or "",
        })
    return rows


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("health: database not ready: %s", error)
        return {"ready": False, "detail": _("The database does not respond.")}
    return {"ready": True, "detail": _("The database responds.")}


def _broker_status() -> dict:
    from workers.celery import app as celery_app

    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                     timeout=settings.LABELING_HEALTH_TIMEOUT_SECONDS)
    except Exception as error:
        # kombu raises the transport's own errors (redis, socket, filesystem) here.
        logger.warning("health: broker not ready: %s", error)
        return {"ready": False, "detail": _("The message broker does not respond.")}
    return {"ready": True, "detail": _("The message broker responds.")}


def _model_status() -> dict:
    model_version = model_version_serving()
    if model_version is None:
        return {"ready": False, "version": None, "detail": _("No model version is in service. Promote a trained run.")}
    if not model_version.path.is_dir():
        return {
            "ready": False,
            "version": model_version.version,
            "detail": _("The files of model version %(version)s are missing.") % {"version": model_version.version},
        }
    return {
        "ready": True,
        "version": model_version.version,
        "detail": _("Model version %(version)s is in service.") % {"version": model_version.version},
    }


def health_status() -> tuple[bool, dict]:
    """Return whether the database, the broker and a served model are all ready, and each one's status."""
    database = _database_status()
    components = {
        "database": database,
        "broker": _broker_status(),
        "model": _model_status() if database["ready"] else {"ready": False, "version": None, "detail": database["detail"]},
    }
    return all(component["ready"] for component in components.values()), components
