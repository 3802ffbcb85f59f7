from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from backend.common.errors import ServiceError
from backend.experiments.models import Run
from backend.labeling.models import LabeledImage, LabelingJob, ModelVersion
from backend.labeling.services import model_version_promote, model_version_serve, run_model_metadata


class ModelVersionPromoteForm(forms.ModelForm):
    """Choose a succeeded run whose model is promoted to the next version."""

    run = forms.ModelChoiceField(
        label=_("run"),
        queryset=Run.objects.filter(status=Run.Status.SUCCEEDED).exclude(model_dir="").select_related("experiment"),
        help_text=_("A succeeded run. Its model gets the next version number and labels images from the next job on."),
    )

    class Meta:
        model = ModelVersion
        fields = ["run"]

    def clean_run(self):
        run = self.cleaned_data["run"]
        if ModelVersion.objects.filter(run=run).exists():
            raise forms.ValidationError(_("This run's model is already a version. Put that version in service instead."))
        try:
            run_model_metadata(run=run)
        except ServiceError as error:
            raise forms.ValidationError(error.message) from error
        return run


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "run", "is_serving", "test_accuracy", "class_count", "served_since", "created_at"]
    list_display_links = ["version"]
    readonly_fields = ["version", "run", "model_dir", "class_names", "input_shape", "test_accuracy", "is_serving",
                       "served_since", "created_by", "created_at"]
    actions = ["serve"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ModelVersionPromoteForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["run"] if obj is None else self.readonly_fields

    @admin.display(description=_("classes"))
    def class_count(self, model_version: ModelVersion) -> int:
        return len(model_version.class_names)

    def save_model(self, request, obj, form, change):
        if change:
            return
        promoted = model_version_promote(run=form.cleaned_data["run"], promoted_by=request.user)
        obj.pk = promoted.pk
        obj.version = promoted.version
        messages.success(request, _("Version %(version)s is now in service.") % {"version": promoted.version})

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Put the selected version in service"))
    def serve(self, request, queryset):
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one version to put in service."))
            return
        try:
            model_version = model_version_serve(model_version=queryset.get())
        except ServiceError as error:
            messages.error(request, error.message)
            return
        messages.success(request, _("Version %(version)s is now in service.") % {"version": model_version.version})


class LabeledImageInline(admin.TabularInline):
    model = LabeledImage
    fields = ["position", "name", "status", "label", "predictions", "model_version", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")


@admin.register(LabelingJob)
class LabelingJobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "image_count", "model_version", "top_k", "threshold", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "model_version"]
    readonly_fields = ["status", "top_k", "threshold", "model_version", "attempts", "error", "error_params",
                       "created_by", "created_at", "started_at", "finished_at"]
    inlines = [LabeledImageInline]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("images"))
    def image_count(self, job: LabelingJob) -> int:
        return job.images.count()
