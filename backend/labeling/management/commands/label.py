from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.common.errors import ml_error_message
from backend.labeling.results import class_display_name, label_for, not_sure_reason
from backend.labeling.selectors import model_version_serving
from ml.decoding import decode_for_model
from ml.errors import MLError


class Command(BaseCommand):
    help = gettext_lazy(
        "Label image files with the model in service, in this process (no worker), and print each file's top classes."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help=gettext_lazy("Image files to label."))
        parser.add_argument("--k", type=int, default=settings.LABELING_DEFAULT_TOP_K,
                            help=gettext_lazy("Number of most probable classes to print per file."))
        parser.add_argument("--threshold", type=float, default=settings.LABELING_DEFAULT_THRESHOLD,
                            help=gettext_lazy("Confidence, from 0 to 1, above which the top class becomes the label."))
        parser.add_argument("--language", default=settings.LANGUAGE_CODE,
                            help=gettext_lazy("Language of the output and class names: es-cl or en."))

    def handle(self, *args, **options):
        with translation.override(options["language"]):
            self._label(options["files"], k=options["k"], threshold=options["threshold"])

    def _label(self, files: list[Path], *, k: int, threshold: float) -> None:
        from ml.inference import load_model
        from ml.prediction import predict_top_k

        if not 1 <= k <= settings.LABELING_MAX_TOP_K:
            raise CommandError(_("--k must be between 1 and %(limit)s.") % {"limit": settings.LABELING_MAX_TOP_K})
        if not 0.0 <= threshold <= 1.0:
            raise CommandError(_("--threshold must be between 0 and 1."))
        model_version = model_version_serving()
        if model_version is None:
            raise CommandError(_("No model is in service. Promote a trained run in the admin (Model versions) first."))
        loaded = load_model(model_version.path)
        language = translation.get_language() or settings.LANGUAGE_CODE

        self.stdout.write(_("Model version %(version)s") % {"version": model_version.version})
        for path in files:
            try:
                content = path.read_bytes()
                pixels = decode_for_model(
                    content, name=path.name, input_shape=loaded.input_shape,
                    max_pixels=settings.LABELING_MAX_IMAGE_PIXELS, max_bytes=settings.LABELING_MAX_IMAGE_BYTES,
                )
            except OSError as error:
                self.stdout.write(f"{path}: " + _("could not be read (%(reason)s).") % {"reason": error.strerror})
                continue
            except MLError as error:
                self.stdout.write(f"{path}: {ml_error_message(error)}")
                continue

            scores = predict_top_k(loaded, np.expand_dims(pixels, 0), k=k, batch_size=1)[0]
            predictions = [{"class_name": score.class_name, "confidence": score.confidence} for score in scores]
            label = label_for(predictions, threshold=threshold)
            if label:
                self.stdout.write(f"{path}: {class_display_name(label, language)}")
            else:
                self.stdout.write(f"{path}: {not_sure_reason(predictions, threshold=threshold)}")
            for rank, score in enumerate(scores, start=1):
                name = class_display_name(score.class_name, language)
                self.stdout.write(f"  {rank}. {name:<12} {score.confidence:.4f}")
