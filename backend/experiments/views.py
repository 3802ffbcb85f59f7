"""Staff pages of the study report: the comparison table, its CSV, and one run's curves and confusion matrix."""

import csv

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from backend.common.classes import class_display_name
from backend.experiments.charts import curves_svg
from backend.experiments.models import Run
from backend.experiments.selectors import study_report, study_report_csv_rows


@staff_member_required
def report_page(request):
    """Render the study's rows beside ours, the oddities, and the awards."""
    context = {**admin.site.each_context(request), "report": study_report(), "title": _("Study report")}
    return render(request, "experiments/report.html", context)


@staff_member_required
def report_csv(request):
    """Send the report as CSV, one line per study row."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="informe-estudio.csv"'
    csv.writer(response).writerows(study_report_csv_rows(study_report()))
    return response


@staff_member_required
def run_page(request, run_id: int):
    """Render a run's per-epoch curves, and its confusion matrix and per-class accuracy on the test split."""
    run = get_object_or_404(Run.objects.select_related("experiment"), pk=run_id)
    epochs = list(run.epochs.order_by("epoch"))
    numbers = [epoch.epoch for epoch in epochs]
    loss_svg = curves_svg(_("Loss"), numbers, {"loss": [e.loss for e in epochs], "val_loss": [e.val_loss for e in epochs]})
    accuracy_svg = curves_svg(
        _("Accuracy"), numbers, {"accuracy": [e.accuracy for e in epochs], "val_accuracy": [e.val_accuracy for e in epochs]}
    )
    evaluation = run.test_evaluation
    language = translation.get_language() or settings.LANGUAGE_CODE
    matrix_rows = []
    column_names = []
    if evaluation:
        column_names = [class_display_name(name, language) for name in evaluation["class_names"]]
        matrix_rows = [
            {
                "name": class_display_name(name, language),
                "counts": counts,
                "accuracy": evaluation["per_class_accuracy"].get(name),
            }
            for name, counts in zip(evaluation["class_names"], evaluation["matrix"])
        ]
    context = {
        **admin.site.each_context(request),
        "title": _("Run %(id)s") % {"id": run.pk},
        "run": run,
        "epochs": epochs,
        # The SVG is built from numbers and escaped names only.
        "loss_svg": mark_safe(loss_svg),
        "accuracy_svg": mark_safe(accuracy_svg),
        "evaluation": evaluation,
        "matrix_rows": matrix_rows,
        "column_names": column_names,
    }
    return render(request, "experiments/run.html", context)
