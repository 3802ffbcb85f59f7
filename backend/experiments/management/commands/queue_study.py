from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.common.errors import ServiceError
from backend.experiments.study import PARTS, estimate_text, study_estimate, study_queue, study_rows_of_part, workers_at_hand


class Command(BaseCommand):
    help = _("Queue one run of each experiment of the reference study, or of one part of it, after showing an estimate of how long it takes.")

    def add_arguments(self, parser):
        parser.add_argument("--part", choices=PARTS, help=_("Only the rows of this table of the study."))
        parser.add_argument("--yes", action="store_true", help=_("Queue without asking for confirmation."))

    def handle(self, *args, part: str | None, yes: bool, **options):
        rows = list(study_rows_of_part(part))
        if not rows:
            raise CommandError(_("The study is not loaded. Load it first with manage.py load_study."))

        self.stdout.write(estimate_text(study_estimate(rows, workers=workers_at_hand())))
        if not yes:
            answer = input(_("Queue these runs? [y/N] "))
            if answer.strip().lower() not in ("y", "s", "yes", "si", "sí"):
                self.stdout.write(_("Nothing queued."))
                return
        try:
            runs = study_queue(rows=rows)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except ServiceError as error:
            raise CommandError(error.message) from error
        self.stdout.write(ngettext("%(count)d run queued.", "%(count)d runs queued.", len(runs)) % {"count": len(runs)})
