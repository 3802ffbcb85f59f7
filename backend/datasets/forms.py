from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from ml.datasets import MAX_IMAGE_SIZE

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


class DatasetImportForm(forms.Form):
    """An archive to upload, or a folder or archive already on the server."""

    name = forms.CharField(label=_("name"), max_length=100)
    upload = forms.FileField(
        label=_("archive"),
        required=False,
        help_text=_("A .zip, .tar or .tar.gz of class folders (optionally inside train/ and test/), or the CIFAR-10 python archive."),
    )
    server_path = forms.CharField(
        label=_("or a path on the server"),
        required=False,
        max_length=500,
        help_text=_("A folder or archive that the workers can read, for sets too large to upload."),
    )
    image_size = forms.IntegerField(
        label=_("image size (pixels)"),
        required=False,
        min_value=1,
        max_value=MAX_IMAGE_SIZE,
        help_text=_("Resize every image to this side. Leave empty when all images have the same size."),
    )

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return None
        name = upload.name.lower()
        if not name.endswith(ARCHIVE_SUFFIXES):
            raise forms.ValidationError(
                _("“%(name)s” is not a .zip, .tar or .tar.gz archive. Upload an archive of class folders.") % {"name": upload.name}
            )
        if upload.size > settings.DATASET_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The archive is %(size)s, over the upload limit of %(limit)s. Copy it to the server and give its path instead.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(settings.DATASET_UPLOAD_MAX_BYTES)}
            )
        return upload

    def clean_server_path(self):
        value = self.cleaned_data.get("server_path", "").strip()
        if value and not Path(value).exists():
            raise forms.ValidationError(_("Nothing exists at “%(path)s” on the server. Check the path.") % {"path": value})
        return value

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("upload") and not cleaned.get("server_path") and not self.errors:
            raise forms.ValidationError(_("Upload an archive or give a path on the server."))
        if cleaned.get("upload") and cleaned.get("server_path"):
            raise forms.ValidationError(_("Give either an archive or a path on the server, not both."))
        return cleaned
