from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from backend.common.errors import ServiceError, ml_error_message
from backend.datasets.services import dataset_import
from ml.errors import MLError


class Command(BaseCommand):
    help = _(
        "Import a labelled image set: a folder, .zip or .tar(.gz) of class folders, optionally "
        "split into train/ and test/, or the CIFAR-10 python archive or its cifar-10-batches-py folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help=_("Folder or archive to import."))
        parser.add_argument("--name", help=_("Dataset name; by default the file name without its extension."))
        parser.add_argument(
            "--image-size",
            type=int,
            help=_("Resize every image to this side, in pixels. Needed when the images have different sizes."),
        )

    def handle(self, *args, path: Path, name: str | None, image_size: int | None, **options):
        name = name or path.name.split(".")[0]
        bar = tqdm(total=0, unit=" img", desc=_("Decoding"), disable=options["verbosity"] == 0, file=self.stderr)

        def show_progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            dataset = dataset_import(source=path, name=name, image_size=image_size, progress=show_progress)
        except MLError as error:
            raise CommandError(ml_error_message(error)) from error
        except ServiceError as error:
            raise CommandError(error.message) from error
        finally:
            bar.close()

        self.stdout.write(
            _("Dataset “%(name)s” (id %(id)s): %(classes)d classes, %(train)d training and %(test)d test images of %(shape)s.")
            % {
                "name": dataset.name,
                "id": dataset.pk,
                "classes": len(dataset.class_names),
                "train": dataset.train_size,
                "test": dataset.test_size,
                "shape": "x".join(str(side) for side in dataset.image_shape),
            }
        )
