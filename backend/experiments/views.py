"""Staff pages of the study report: the comparison table, its CSV, and one run's curves and confusion matrix."""

import csv
import io

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from rest_framework.renderers import BaseRenderer

from backend.common.classes import class_display_name
from backend.experiments.charts import curves_svg
from backend.experiments.models import Run
from backend.experiments.selectors import study_report, study_report_csv_rows


REPORT_CSV_FILENAME = "informe-estudio.csv"


class StudyReportCSVRenderer(BaseRenderer):
    """Renders ``study_report()`` as the report's CSV, for ``GET /api/study/report/?format=csv``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(study_report_csv_rows(data))
        return buffer.getvalue().encode(self.charset)


@staff_member_required
def report_page(request):
    """Render the study's rows beside ours, the oddities, and the awards."""
    report = study_report()
    awards = report["awards"]
    missing = awards["ours"]["missing"].get("best_combination", {})
    # One line per optimizer that the study awarded, with ours or the runs it lacks.
    combinations = [
        {**combination, "ours": awards["ours"]["best_combination"].get(optimizer), "missing": missing.get(optimizer)}
        for optimizer, combination in awards["study"]["best_combination"].items()
    ]
    context = {
        **admin.site.each_context(request),
        "report": report,
        "combinations": combinations,
        "title": _("Study report"),
    }
    return render(request, "experiments/report.html", context)


@staff_member_required
def report_csv(request):
    """Send the report as CSV: one line per study row, then the awards."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{REPORT_CSV_FILENAME}"'
    csv.writer(response).writerows(study_report_csv_rows(study_report()))
    return response


@staff_member_required
def run_page(request, run_id: int):
    """Render a run's per-epoch curves, and its confusion matrix and per-class accuracy on the test split."""
    run = get_object_or_404(Run.objects.select_related("experiment"), pk=run_id)
    epochs = list(run.epochs.order_by("epoch"))
    numbers = [epoch.epoch for epoch in epochs]
    loss_svg = curves_svg(_("Loss"), numbers, {
        _("training loss (loss)"): [e.loss for e in epochs],
        _("validation loss (val_loss)"): [e.val_loss for e in epochs],
    })
    accuracy_svg = curves_svg(_("Accuracy"), numbers, {
        _("training accuracy (accuracy)"): [e.accuracy for e in epochs],
        _("validation accuracy (val_accuracy)"): [e.val_accuracy for e in epochs],
    })
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
