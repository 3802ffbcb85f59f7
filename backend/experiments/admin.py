import logging

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from backend.common.errors import ServiceError
from backend.experiments.forms import ExperimentAdminForm, ExperimentGridForm
from backend.experiments.models import EpochMetric, Experiment, Run, StudyRow
from backend.experiments.services import experiment_grid_create, run_cancel, run_queue
from backend.experiments.study import estimate_text, study_estimate, study_queue, workers_at_hand
from ml.config import MLP_FIELDS

logger = logging.getLogger(__name__)


def _queue_runs(request, experiments) -> int:
    queued = 0
    for experiment in experiments:
        try:
            run_queue(experiment=experiment)
            queued += 1
        except ValidationError as error:
            messages.error(request, f"{experiment.name}: {' '.join(error.messages)}")
        except ServiceError as error:
            messages.error(request, error.message)
            break
    return queued


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentAdminForm
    list_display = ["name", "family", "dataset", "summary", "run_count", "created_at"]
    list_filter = ["family", "dataset"]
    search_fields = ["name", "description"]
    readonly_fields = ["hyperparameters", "created_by", "created_at"]
    actions = ["queue_runs"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "description", "dataset", "family"]}),
            (_("MLP hyperparameters"), {"fields": [description.name for description in MLP_FIELDS]}),
            (_("Other families"), {"fields": ["hyperparameters_json"]}),
            (_("Record"), {"fields": self.get_readonly_fields(request, obj)}),
        ]

    @admin.display(description=_("hyperparameters"))
    def summary(self, experiment: Experiment) -> str:
        values = experiment.hyperparameters
        if experiment.family != Experiment.Family.MLP:
            shown = ("conv_layers", "width", "image_size", "fine_tune_epochs", "early_stopping")
            details = " / ".join(f"{name}={values[name]}" for name in shown if name in values)
            return f"{details} · {values.get('epochs')} ep."
        return f"{values.get('optimizer')} / {values.get('activation')} / {values.get('hidden_layers')} · {values.get('epochs')} ep."

    @admin.display(description=_("runs"))
    def run_count(self, experiment: Experiment) -> int:
        return experiment.runs.count()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Queue a run of the selected experiments"))
    def queue_runs(self, request, queryset):
        with transaction.atomic():
            queued = _queue_runs(request, queryset.select_related("dataset"))
        if queued:
            messages.success(request, ngettext("%(count)d run queued.", "%(count)d runs queued.", queued) % {"count": queued})

    def get_urls(self):
        grid = path("grid/", self.admin_site.admin_view(self.grid_view), name="experiments_experiment_grid")
        return [grid, *super().get_urls()]

    def grid_view(self, request):
        """Create one experiment per combination chosen in ``ExperimentGridForm``."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ExperimentGridForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    experiments = experiment_grid_create(
                        name_prefix=data["name_prefix"],
                        dataset=data["dataset"],
                        optimizers=data["optimizers"],
                        activations=data["activations"],
                        depths=data["depths"],
                        regularizers=data["regularizers"],
                        base_hyperparameters=form.base_hyperparameters(),
                        created_by=request.user,
                    )
                    queued = _queue_runs(request, experiments) if data["queue_runs"] else 0
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(
                    request,
                    _("%(created)d experiments created, %(queued)d runs queued.") % {"created": len(experiments), "queued": queued},
                )
                return redirect("admin:experiments_experiment_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Create a grid of MLP experiments"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/experiments/experiment/grid.html", context)


class EpochMetricInline(admin.TabularInline):
    model = EpochMetric
    fields = ["epoch", "accuracy_shown", "loss_shown", "val_accuracy_shown", "val_loss_shown", "seconds_shown"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    class Media:
        # Hides the caption that tabular inlines print above each saved row.
        css = {"all": ["experiments/admin.css"]}

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("accuracy"))
    def accuracy_shown(self, metric: EpochMetric) -> str:
        return f"{metric.accuracy:.4f}"

    @admin.display(description=_("loss"))
    def loss_shown(self, metric: EpochMetric) -> str:
        return f"{metric.loss:.4f}"

    @admin.display(description=_("validation accuracy"))
    def val_accuracy_shown(self, metric: EpochMetric) -> str:
        return f"{metric.val_accuracy:.4f}"

    @admin.display(description=_("validation loss"))
    def val_loss_shown(self, metric: EpochMetric) -> str:
        return f"{metric.val_loss:.4f}"

    @admin.display(description=_("seconds"))
    def seconds_shown(self, metric: EpochMetric) -> str:
        return f"{metric.seconds:.1f}"


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "experiment", "status", "progress", "last_val_accuracy", "test_accuracy_shown", "seconds_shown", "worker_hostname", "created_at"]
    list_filter = ["status", "experiment__family"]
    search_fields = ["experiment__name", "worker_hostname"]
    inlines = [EpochMetricInline]
    actions = ["cancel_runs", "queue_again"]
    readonly_fields = [
        "experiment", "status", "created_at", "started_at", "finished_at", "worker_hostname", "attempts",
        "hyperparameters", "seed", "code_version", "library_versions", "dataset_checksum",
        "epochs_run", "stopped_early", "train_examples", "validation_examples",
        "test_accuracy", "test_loss", "seconds", "model_dir", "error",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # A run is a record of what a worker did: its page shows it without a
        # Save button, and the actions change it through the services.
        return False

    @admin.display(description=_("test accuracy"), ordering="test_accuracy")
    def test_accuracy_shown(self, run: Run) -> str:
        return "—" if run.test_accuracy is None else f"{run.test_accuracy:.4f}"

    @admin.display(description=_("training seconds"), ordering="seconds")
    def seconds_shown(self, run: Run) -> str:
        return "—" if run.seconds is None else f"{run.seconds:.1f}"

    @admin.display(description=_("epochs"))
    def progress(self, run: Run) -> str:
        return f"{run.epochs_run}/{run.epochs_planned or '?'}"

    @admin.display(description=_("last val_accuracy"))
    def last_val_accuracy(self, run: Run):
        last = run.epochs.order_by("-epoch").first()
        return "—" if last is None else f"{last.val_accuracy:.4f}"

    @admin.action(description=_("Cancel the selected runs"))
    def cancel_runs(self, request, queryset):
        cancelled = 0
        for run in queryset:
            try:
                run_cancel(run=run)
                cancelled += 1
            except ServiceError as error:
                messages.warning(request, error.message)
        if cancelled:
            messages.success(request, ngettext("%(count)d run cancelled.", "%(count)d runs cancelled.", cancelled) % {"count": cancelled})

    @admin.action(description=_("Queue a new run of the same experiments"))
    def queue_again(self, request, queryset):
        experiments = {run.experiment_id: run.experiment for run in queryset.select_related("experiment__dataset")}
        with transaction.atomic():
            queued = _queue_runs(request, experiments.values())
        if queued:
            messages.success(request, ngettext("%(count)d run queued.", "%(count)d runs queued.", queued) % {"count": queued})


@admin.register(StudyRow)
class StudyRowAdmin(admin.ModelAdmin):
    """The reference study's published rows; the action queues a run of each selected row's experiment."""

    list_display = ["position", "table", "model", "optimizer", "activation", "layers", "regularizer", "epochs",
                    "accuracy", "val_accuracy", "seconds", "experiment"]
    list_filter = ["table", "model"]
    readonly_fields = ["position", "table", "model", "optimizer", "activation", "layers", "regularizer", "epochs",
                       "accuracy", "loss", "val_accuracy", "val_loss", "seconds", "experiment"]
    actions = ["queue_study_runs"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Queue a run of the selected study rows (shows an estimate first)"))
    def queue_study_runs(self, request, queryset):
        rows = list(queryset.filter(experiment__isnull=False).select_related("experiment__dataset"))
        if not rows:
            messages.warning(request, _("None of the selected rows has an experiment. Load the study with manage.py load_study."))
            return None
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Queue the study's runs"),
                "estimate": estimate_text(study_estimate(rows, workers=workers_at_hand())),
                "rows": rows,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/experiments/studyrow/queue_confirm.html", context)
        try:
            runs = study_queue(rows=rows)
        except ValidationError as error:
            logger.warning("study: queueing %s rows failed: %s", len(rows), error.messages)
            messages.error(request, " ".join(error.messages))
            return None
        except ServiceError as error:
            messages.error(request, error.message)
            return None
        messages.success(request, ngettext("%(count)d run queued.", "%(count)d runs queued.", len(runs)) % {"count": len(runs)})
        return None
