from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.common.errors import ServiceError
from backend.datasets.models import Dataset
from backend.experiments.study import study_load

DEFAULT_DATASET = "cifar10"


class Command(BaseCommand):
    help = _("Create the reference study's 51 configurations as experiments, with its published figures. Running it again creates nothing new.")

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default=DEFAULT_DATASET, help=_("Name of the imported dataset to train on (default: cifar10)."))
        parser.add_argument(
            "--move",
            action="store_true",
            help=_("When the catalog is loaded on another dataset, point its experiments at this one. Rejected when one of them has runs."),
        )

    def handle(self, *args, dataset: str, move: bool, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(
                _("No dataset is named “%(name)s”. Import it first with manage.py import_dataset, or name another with --dataset.")
                % {"name": dataset}
            )
        try:
            result = study_load(dataset=found, move=move)
        except ServiceError as error:
            raise CommandError(error.message) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

        if result.experiments_moved:
            self.stdout.write(
                ngettext(
                    "%(count)d experiment of the catalog moved from “%(previous)s” to “%(dataset)s”.",
                    "%(count)d experiments of the catalog moved from “%(previous)s” to “%(dataset)s”.",
                    result.experiments_moved,
                )
                % {"count": result.experiments_moved, "previous": ", ".join(result.moved_from), "dataset": found.name}
            )
        if result.rows_created or result.experiments_created:
            self.stdout.write(
                _("Study loaded on the dataset “%(dataset)s”. New rows: %(rows)d. New experiments: %(experiments)d.")
                % {"dataset": found.name, "rows": result.rows_created, "experiments": result.experiments_created}
            )
        elif not result.experiments_moved:
            self.stdout.write(_("The study was already loaded on the dataset “%(dataset)s”: nothing new was created.") % {"dataset": found.name})
