from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from backend.datasets.models import Dataset
from backend.experiments.study import study_load

DEFAULT_DATASET = "cifar10"


class Command(BaseCommand):
    help = _("Create the reference study's 51 configurations as experiments, with its published figures. Running it again creates nothing new.")

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default=DEFAULT_DATASET, help=_("Name of the imported dataset to train on (default: cifar10)."))

    def handle(self, *args, dataset: str, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(
                _("No dataset is named “%(name)s”. Import it first with manage.py import_dataset, or name another with --dataset.")
                % {"name": dataset}
            )
        try:
            rows, experiments = study_load(dataset=found)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(_("Study loaded: %(rows)s rows and %(experiments)s experiments created.") % {"rows": rows, "experiments": experiments})
