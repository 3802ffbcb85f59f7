from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.experiments.models import Run


class ModelVersion(models.Model):
    """A trained run's model promoted to label images; at most one version is in service."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="model_versions", verbose_name=_("run"))
    model_dir = models.CharField(_("model folder"), max_length=500, help_text=_("Relative to the artifacts folder."))
    class_names = models.JSONField(_("classes"), default=list)
    input_shape = models.JSONField(_("input shape"), default=list)
    test_accuracy = models.FloatField(_("test accuracy"), null=True, blank=True)
    is_serving = models.BooleanField(_("in service"), default=False)
    served_since = models.DateTimeField(_("in service since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("promoted by")
    )
    created_at = models.DateTimeField(_("promoted at"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["is_serving"], condition=Q(is_serving=True), name="one_model_version_in_service"),
            models.UniqueConstraint(fields=["run"], name="one_model_version_per_run"),
        ]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")

    def __str__(self) -> str:
        return f"v{self.version} ({self.run})"

    @property
    def path(self) -> Path:
        return Path(settings.ARTIFACTS_ROOT) / self.model_dir


class LabelingJob(models.Model):
    """Images sent together to be labeled, and how: top k and confidence threshold."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    FINISHED_STATUSES = (Status.DONE, Status.FAILED)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    top_k = models.PositiveSmallIntegerField(_("classes per image"))
    threshold = models.FloatField(_("confidence threshold"))
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs", verbose_name=_("model version")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, help_text=_("English message id, translated when shown."))
    error_params = models.JSONField(_("error values"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("sent by")
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("labeling job")
        verbose_name_plural = _("labeling jobs")

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES


class LabeledImage(models.Model):
    """One image of a job: its bytes, then its top classes and label, or its error."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    job = models.ForeignKey(LabelingJob, on_delete=models.CASCADE, related_name="images", verbose_name=_("job"))
    position = models.PositiveIntegerField(_("position"))
    name = models.CharField(_("file name"), max_length=255)
    # NOTE: image bytes stay in the database after labeling; nothing deletes old jobs
    # yet, so a busy service needs a retention rule before its database grows large.
    content = models.BinaryField(_("content"))
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="images", verbose_name=_("model version")
    )
    predictions = models.JSONField(
        _("top classes"), default=list, blank=True, help_text=_("[{class_name, confidence}], most probable first.")
    )
    label = models.CharField(_("label"), max_length=100, blank=True, help_text=_("Empty when the model is not sure."))
    error = models.TextField(_("error"), blank=True, help_text=_("English message id, translated when shown."))
    error_params = models.JSONField(_("error values"), default=dict, blank=True)
    labeled_at = models.DateTimeField(_("labeled at"), null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="unique_position_per_job")]
        verbose_name = _("labeled image")
        verbose_name_plural = _("labeled images")

    def __str__(self) -> str:
        return f"{self.job_id}/{self.position}: {self.name}"
