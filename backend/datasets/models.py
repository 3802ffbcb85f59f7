from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Dataset(models.Model):
    """A labelled image set, decoded once into an arrays file under DATASETS_ROOT."""

    class Status(models.TextChoices):
        IMPORTING = "importing", pgettext_lazy("dataset status", "importing")
        READY = "ready", pgettext_lazy("dataset status", "ready")
        FAILED = "failed", pgettext_lazy("dataset status", "failed")

    name = models.CharField(_("name"), max_length=100, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.IMPORTING)
    source = models.CharField(_("source"), max_length=500, help_text=_("Folder or archive the images came from."))
    image_size = models.PositiveSmallIntegerField(
        _("image size (pixels)"),
        null=True,
        blank=True,
        help_text=_("Side in pixels that every image is resized to. Empty: keep the size of the images, which must all match."),
    )
    arrays_file = models.CharField(_("arrays file"), max_length=500, blank=True, help_text=_("Relative to the datasets folder."))
    class_names = models.JSONField(_("classes"), default=list, blank=True)
    train_counts = models.JSONField(_("training images per class"), default=dict, blank=True)
    test_counts = models.JSONField(_("test images per class"), default=dict, blank=True)
    image_shape = models.JSONField(_("image shape"), default=list, blank=True)
    checksum = models.CharField(_("SHA-256 of the arrays file"), max_length=64, blank=True)
    test_split = models.CharField(_("test split"), max_length=16, blank=True)
    progress_done = models.PositiveIntegerField(_("images decoded"), default=0)
    progress_total = models.PositiveIntegerField(_("images in total"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

    def __str__(self) -> str:
        return self.name

    @property
    def arrays_path(self) -> Path:
        return Path(settings.DATASETS_ROOT) / self.arrays_file

    @property
    def train_size(self) -> int:
        return sum(self.train_counts.values())

    @property
    def test_size(self) -> int:
        return sum(self.test_counts.values())
