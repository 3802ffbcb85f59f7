from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.datasets.models import Dataset


class Experiment(models.Model):
    """A model family and its hyperparameters, trained on one dataset by its runs."""

    class Family(models.TextChoices):
        MLP = "mlp", _("multilayer perceptron")
        CNN = "cnn", _("custom CNN")
        RESNET50 = "resnet50", _("ResNet50 from scratch")
        VGG16_TRANSFER = "vgg16_transfer", _("VGG16 transfer learning")
        FAST_CNN = "fast_cnn", _("fast residual CNN")

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="experiments", verbose_name=_("dataset"))
    family = models.CharField(_("model family"), max_length=32, choices=Family.choices, default=Family.MLP)
    hyperparameters = models.JSONField(
        _("hyperparameters"),
        default=dict,
        help_text=_("Every hyperparameter of the family, defaults included, as validated when saved."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")

    def __str__(self) -> str:
        return self.name


class Run(models.Model):
    """One training of an experiment, with what makes it reproducible and its results."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs", verbose_name=_("experiment"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    worker_hostname = models.CharField(_("worker"), max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, help_text=_("Times a worker started this run; more than one means a worker died and the run resumed.")
    )

    # What makes the run reproducible, recorded when a worker starts it.
    hyperparameters = models.JSONField(_("hyperparameters"), default=dict, blank=True)
    seed = models.BigIntegerField(_("seed"), null=True, blank=True)
    code_version = models.CharField(_("code version"), max_length=64, blank=True)
    library_versions = models.JSONField(_("library versions"), default=dict, blank=True)
    dataset_checksum = models.CharField(_("dataset SHA-256"), max_length=64, blank=True)

    # Results.
    epochs_run = models.PositiveIntegerField(_("epochs run"), default=0)
    stopped_early = models.BooleanField(_("stopped early"), default=False)
    train_examples = models.PositiveIntegerField(_("training images"), null=True, blank=True)
    validation_examples = models.PositiveIntegerField(_("validation images"), null=True, blank=True)
    test_accuracy = models.FloatField(_("test accuracy"), null=True, blank=True)
    test_loss = models.FloatField(_("test loss"), null=True, blank=True)
    seconds = models.FloatField(_("training seconds"), null=True, blank=True)
    model_dir = models.CharField(_("model folder"), max_length=500, blank=True, help_text=_("Relative to the artifacts folder."))
    error = models.TextField(_("error"), blank=True)
    test_evaluation = models.JSONField(
        _("test evaluation"),
        null=True,
        blank=True,
        help_text=_("Confusion matrix and per-class accuracy on the test split, computed once from the trained model."),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")

    def __str__(self) -> str:
        return f"{self.experiment.name} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def work_dir(self) -> Path:
        """Folder for this run's checkpoint and saved model."""
        return Path(settings.ARTIFACTS_ROOT) / "runs" / str(self.pk)

    @property
    def epochs_planned(self) -> int | None:
        return (self.hyperparameters or self.experiment.hyperparameters).get("epochs")


class EpochMetric(models.Model):
    """Training and validation figures at the end of one epoch of a run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="epochs", verbose_name=_("run"))
    epoch = models.PositiveIntegerField(_("epoch"))
    accuracy = models.FloatField(_("accuracy"))
    loss = models.FloatField(_("loss"))
    val_accuracy = models.FloatField(_("validation accuracy"))
    val_loss = models.FloatField(_("validation loss"))
    seconds = models.FloatField(_("seconds"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["run", "epoch"]
        constraints = [models.UniqueConstraint(fields=["run", "epoch"], name="unique_epoch_per_run")]
        verbose_name = _("epoch metric")
        verbose_name_plural = _("epoch metrics")

    def __str__(self) -> str:
        return f"{self.run_id}: {self.epoch}"


class StudyRow(models.Model):
    """One published row of the reference study, and the experiment that reproduces it.

    Figures are stored exactly as published, oddities included; an empty cell is null.
    """

    class Table(models.TextChoices):
        MLP = "mlp", _("MLP")
        DROPOUT = "dropout", _("Dropout")
        EARLY_STOPPING = "early_stopping", _("EarlyStopping")
        CNN = "cnn", _("CNN")

    position = models.PositiveSmallIntegerField(_("position"), unique=True, help_text=_("Order of the row in the study."))
    table = models.CharField(_("table"), max_length=16, choices=Table.choices)
    model = models.CharField(_("model"), max_length=32)
    optimizer = models.CharField(_("optimizer"), max_length=16, blank=True)
    activation = models.CharField(_("activation"), max_length=16, blank=True)
    layers = models.PositiveSmallIntegerField(_("layers"), null=True, blank=True)
    regularizer = models.CharField(_("regularizer"), max_length=16, blank=True)
    epochs = models.PositiveIntegerField(_("epochs"), null=True, blank=True)
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    loss = models.FloatField(_("loss"), null=True, blank=True)
    val_accuracy = models.FloatField(_("validation accuracy"), null=True, blank=True)
    val_loss = models.FloatField(_("validation loss"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    experiment = models.OneToOneField(
        Experiment, on_delete=models.SET_NULL, null=True, blank=True, related_name="study_row", verbose_name=_("experiment")
    )

    class Meta:
        ordering = ["position"]
        verbose_name = _("study row")
        verbose_name_plural = _("study rows")

    def __str__(self) -> str:
        parts = [self.table, self.model, self.optimizer, self.activation, str(self.layers or "")]
        return " / ".join(part for part in parts if part)
