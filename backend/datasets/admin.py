import shutil
from pathlib import Path

from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from backend.common.errors import ServiceError
from backend.datasets.forms import DatasetImportForm
from backend.datasets.models import Dataset
from backend.datasets.services import dataset_import_queue, dataset_upload_save


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "progress", "class_count", "train_size", "test_size", "image_shape", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "source"]
    readonly_fields = [
        "status", "source", "image_size", "arrays_file", "class_names", "train_counts", "test_counts",
        "image_shape", "checksum", "test_split", "progress_done", "progress_total", "error", "created_at", "imported_at",
    ]
    fields = ["name", *readonly_fields]

    def has_add_permission(self, request):
        # Datasets are added through the import view, which decodes the images.
        return False

    @admin.display(description=_("progress"))
    def progress(self, dataset: Dataset) -> str:
        if not dataset.progress_total:
            return "—"
        return f"{100 * dataset.progress_done // dataset.progress_total} % ({dataset.progress_done}/{dataset.progress_total})"

    @admin.display(description=_("classes"))
    def class_count(self, dataset: Dataset) -> int:
        return len(dataset.class_names)

    @admin.display(description=_("training images"))
    def train_size(self, dataset: Dataset) -> int:
        return dataset.train_size

    @admin.display(description=_("test images"))
    def test_size(self, dataset: Dataset) -> int:
        return dataset.test_size

    def get_urls(self):
        view = path("import/", self.admin_site.admin_view(self.import_view), name="datasets_dataset_import")
        return [view, *super().get_urls()]

    def import_view(self, request):
        """Queue the import of an uploaded archive or a path on the server."""
        if not self.has_view_permission(request) or not request.user.has_perm("datasets.change_dataset"):
            return redirect("admin:index")
        form = DatasetImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            source = dataset_upload_save(upload=data["upload"]) if data["upload"] else Path(data["server_path"])
            try:
                with transaction.atomic():
                    dataset = dataset_import_queue(source=source, name=data["name"], image_size=data["image_size"])
            except ServiceError as error:
                if data["upload"]:
                    shutil.rmtree(source.parent, ignore_errors=True)
                form.add_error("name", error.message)
            else:
                messages.success(request, _("Import of “%(name)s” queued. Its progress shows in the list.") % {"name": dataset.name})
                return redirect("admin:datasets_dataset_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a dataset"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/datasets/dataset/import.html", context)
