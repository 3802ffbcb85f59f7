from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabelingConfig(AppConfig):
    name = "backend.labeling"
    label = "labeling"
    verbose_name = _("Labeling")

    def ready(self) -> None:
        from django.conf import settings
        from PIL import Image

        # Pillow's own decompression bomb guard, which warns above this many pixels
        # and raises above twice as many, agrees with the labeling limit.
        Image.MAX_IMAGE_PIXELS = settings.LABELING_MAX_IMAGE_PIXELS
