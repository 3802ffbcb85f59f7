import os
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from backend.common.errors import ml_error_message
from backend.labeling.results import class_display_name, label_for, not_sure_reason
from backend.labeling.selectors import model_version_serving
from ml.decoding import decode_for_model, expand_zip, is_zip
from ml.errors import MLError


class Command(BaseCommand):
    help = _(
        "Label image files with the model in service, in this process (no worker), and print each file's top classes."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help=_("Image files to label."))
        parser.add_argument("--k", type=int, default=settings.LABELING_DEFAULT_TOP_K,
                            help=_("Number of most probable classes to print per file."))
        parser.add_argument("--threshold", type=float, default=settings.LABELING_DEFAULT_THRESHOLD,
                            help=_("Confidence, from 0 to 1, above which the top class becomes the label."))
        parser.add_argument("--language", default=settings.LANGUAGE_CODE,
                            help=_("Language of the output and class names: es-cl or en."))

    def handle(self, *args, **options):
        # TensorFlow's start-up notices would mix with the labels on the terminal.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with translation.override(options["language"]):
            failed = self._label(options["files"], k=options["k"], threshold=options["threshold"])
            if failed:
                raise CommandError(_("%(count)s files or images could not be labeled.") % {"count": failed})

    def _read(self, path: Path) -> list[tuple[str, bytes]]:
        """Return (name, bytes) of the file, or of each file of a .zip."""
        content = path.read_bytes()
        if not is_zip(content[:4]):
            return [(str(path), content)]
        with path.open("rb") as handle:
            files = list(
                expand_zip(
                    handle, name=path.name, max_images=settings.LABELING_MAX_IMAGES,
                    max_image_bytes=settings.LABELING_MAX_IMAGE_BYTES,
                    max_expanded_bytes=settings.LABELING_MAX_ZIP_EXPANDED_BYTES,
                )
            )
        for image_file in files:
            if image_file.error:
                raise image_file.error
        return [(f"{path}/{image_file.name}", image_file.content) for image_file in files]

    def _label(self, files: list[Path], *, k: int, threshold: float) -> int:
        """Print each file's labels; return how many files could not be labeled."""
        from ml.inference import load_model

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
        failed = 0
        for path in files:
            try:
                named_contents = self._read(path)
            except FileNotFoundError:
                self.stdout.write(f"{path}: " + _("file not found. Check the path."))
                failed += 1
                continue
            except OSError:
                self.stdout.write(f"{path}: " + _("the file could not be read. Check its permissions."))
                failed += 1
                continue
            except MLError as error:
                self.stdout.write(f"{path}: {ml_error_message(error)}")
                failed += 1
                continue
            for name, content in named_contents:
                failed += not self._label_one(name, content, loaded=loaded, k=k, threshold=threshold, language=language)
        return failed

    def _label_one(self, name: str, content: bytes, *, loaded, k: int, threshold: float, language: str) -> bool:
        """Print one image's labels, or its error; return whether it was labeled."""
        from ml.prediction import predict_top_k

        try:
            pixels = decode_for_model(
                content, name=Path(name).name, input_shape=loaded.input_shape,
                max_pixels=settings.LABELING_MAX_IMAGE_PIXELS, max_bytes=settings.LABELING_MAX_IMAGE_BYTES,
            )
        except MLError as error:
            self.stdout.write(f"{name}: {ml_error_message(error)}")
            return False

        scores = predict_top_k(loaded, np.expand_dims(pixels, 0), k=k, batch_size=1)[0]
        predictions = [{"class_name": score.class_name, "confidence": score.confidence} for score in scores]
        label = label_for(predictions, threshold=threshold)
        if label:
            self.stdout.write(f"{name}: {class_display_name(label, language)}")
        else:
            self.stdout.write(f"{name}: {not_sure_reason(predictions, threshold=threshold)}")
        for rank, score in enumerate(scores, start=1):
            display_name = class_display_name(score.class_name, language)
            self.stdout.write(f"  {rank}. {display_name:<12} {score.confidence:.4f}")
        return True
