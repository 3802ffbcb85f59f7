from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.experiments.models import Experiment, Run
from backend.experiments.services import run_create, run_execute, run_interrupt


class Command(BaseCommand):
    help = _("Train an experiment in this process, with a progress bar, without a worker.")

    def add_arguments(self, parser):
        parser.add_argument("experiment", help=_("Experiment name or id."))

    def handle(self, *args, experiment: str, **options):
        found = Experiment.objects.filter(name=experiment).first()
        if found is None and experiment.isdigit():
            found = Experiment.objects.filter(pk=int(experiment)).first()
        if found is None:
            raise CommandError(_("No experiment is named or numbered “%(value)s”. List them with the admin or GET /api/experiments/.") % {"value": experiment})

        try:
            run = run_create(experiment=found)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(_("Run %(id)s of “%(name)s” started.") % {"id": run.pk, "name": found.name})

        run_id = run.pk
        try:
            run = run_execute(run_id=run_id, verbose=1 if options["verbosity"] else 0)
        except KeyboardInterrupt:
            run_interrupt(run_id=run_id)
            raise CommandError(_("Run %(id)s was interrupted and is now cancelled.") % {"id": run_id}) from None

        if run is None:
            raise CommandError(_("Run %(id)s was not trained: see the log above.") % {"id": run_id})
        if run.status != Run.Status.SUCCEEDED:
            raise CommandError(_("Run %(id)s ended as %(status)s: %(error)s") % {"id": run.pk, "status": run.get_status_display(), "error": run.error})
        self.stdout.write(
            ngettext(
                "Run %(id)s succeeded: test accuracy %(accuracy).4f, %(epochs)d epoch in %(seconds).1f s.",
                "Run %(id)s succeeded: test accuracy %(accuracy).4f, %(epochs)d epochs in %(seconds).1f s.",
                run.epochs_run,
            )
            % {"id": run.pk, "accuracy": run.test_accuracy, "epochs": run.epochs_run, "seconds": run.seconds}
        )
