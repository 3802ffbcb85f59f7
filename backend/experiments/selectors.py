"""Reads for the study report: each published row beside our figures, the oddities and the awards."""

from collections import defaultdict
from statistics import mean

from django.utils.translation import gettext as _

from backend.experiments.models import EpochMetric, Run, StudyRow
from backend.experiments.study import study_awards_published
from ml.config import ACTIVATIONS, OPTIMIZERS

OUR_FIGURES = ("accuracy", "loss", "val_accuracy", "val_loss", "test_accuracy", "seconds", "epochs")
STUDY_FIGURES = ("epochs", "accuracy", "loss", "val_accuracy", "val_loss", "seconds")
# Rows whose four published figures agree to this many decimals count as repeats.
FIGURE_DECIMALS = 4


def run_latest_succeeded(experiment_id: int) -> Run | None:
    """Return the most recent succeeded run of an experiment."""
    return Run.objects.filter(experiment_id=experiment_id, status=Run.Status.SUCCEEDED).order_by("-finished_at", "-pk").first()


def run_figures(run: Run | None) -> dict | None:
    """Our figures for a run: last epoch's training and validation metrics, test accuracy, seconds, epochs."""
    if run is None:
        return None
    last = EpochMetric.objects.filter(run=run).order_by("-epoch").first()
    return {
        "run_id": run.pk,
        "accuracy": last.accuracy if last else None,
        "loss": last.loss if last else None,
        "val_accuracy": last.val_accuracy if last else None,
        "val_loss": last.val_loss if last else None,
        "test_accuracy": run.test_accuracy,
        "seconds": run.seconds,
        "epochs": run.epochs_run,
    }


def _published_key(row: StudyRow) -> tuple:
    return tuple(None if value is None else round(value, FIGURE_DECIMALS)
                 for value in (row.accuracy, row.loss, row.val_accuracy, row.val_loss))


def study_oddities(rows: list[StudyRow]) -> dict[int, list[str]]:
    """Point out, per row position, what looks odd in the published figures (they stay as published)."""
    notes: dict[int, list[str]] = defaultdict(list)
    seen_figures: dict[tuple, StudyRow] = {}
    seen_val_accuracy: dict[tuple, StudyRow] = {}
    for row in rows:
        key = _published_key(row)
        if any(value is not None for value in key):
            earlier = seen_figures.get(key)
            if earlier is not None:
                notes[row.position].append(_("Repeats the published figures of row %(position)s (%(row)s) exactly.")
                                           % {"position": earlier.position, "row": str(earlier)})
            else:
                seen_figures[key] = row
        family = row.model.rsplit("_", 1)[0]
        if row.table == StudyRow.Table.CNN and row.val_accuracy is not None:
            val_key = (family, round(row.val_accuracy, FIGURE_DECIMALS))
            earlier = seen_val_accuracy.get(val_key)
            if earlier is not None:
                notes[row.position].append(_("Reports the same val_accuracy as row %(position)s (%(row)s).")
                                           % {"position": earlier.position, "row": str(earlier)})
            else:
                seen_val_accuracy[val_key] = row
        if row.accuracy is not None and row.val_accuracy is not None and row.val_accuracy > row.accuracy:
            if row.regularizer == "dropout":
                notes[row.position].append(_("Validation accuracy above training accuracy: expected, Dropout is active only while training."))
            else:
                notes[row.position].append(_("Validation accuracy above training accuracy."))
    return notes


def study_report() -> dict:
    """Return every loaded study row with its published figures, ours, its oddities, and the awards."""
    rows = list(StudyRow.objects.select_related("experiment").order_by("position"))
    oddities = study_oddities(rows)
    report_rows = []
    for row in rows:
        ours = run_figures(run_latest_succeeded(row.experiment_id)) if row.experiment_id else None
        report_rows.append({
            "position": row.position,
            "table": row.table,
            "model": row.model,
            "optimizer": row.optimizer,
            "activation": row.activation,
            "layers": row.layers,
            "regularizer": row.regularizer,
            "experiment_id": row.experiment_id,
            "experiment": row.experiment.name if row.experiment else None,
            "study": {name: getattr(row, name) for name in STUDY_FIGURES},
            "ours": ours,
            "oddities": oddities.get(row.position, []),
        })
    return {"rows": report_rows, "awards": study_awards(report_rows)}


def _best(groups: dict, order: tuple) -> tuple[str | None, float | None]:
    """Return the key with the highest mean, earlier keys of ``order`` winning ties."""
    means = {key: mean(values) for key, values in groups.items() if values}
    if not means:
        return None, None
    best = max(sorted(means, key=lambda key: order.index(key) if key in order else len(order)),
               key=lambda key: means[key])
    return best, means[best]


def study_awards(report_rows: list[dict]) -> dict:
    """Compute the study's awards from our figures (final val_accuracy), beside the study's own.

    - best optimizer and best activation: the highest mean val_accuracy over the MLP table's rows;
    - best regularizer: the highest mean val_accuracy of the MLP (none), Dropout and EarlyStopping tables;
    - best combination per optimizer: its MLP-table row with the highest val_accuracy;
    - gap: training minus validation accuracy, per table on average and the widest row;
    - best model: the CNN-table row with the most val_accuracy per minute of training.
    """
    with_ours = [row for row in report_rows if row["ours"] and row["ours"]["val_accuracy"] is not None]
    mlp_rows = [row for row in with_ours if row["table"] == "mlp"]

    by_optimizer, by_activation, by_regularizer = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in mlp_rows:
        by_optimizer[row["optimizer"]].append(row["ours"]["val_accuracy"])
        by_activation[row["activation"]].append(row["ours"]["val_accuracy"])
    regularizer_of_table = {"mlp": "none", "dropout": "dropout", "early_stopping": "early_stopping"}
    for row in with_ours:
        if row["table"] in regularizer_of_table:
            by_regularizer[regularizer_of_table[row["table"]]].append(row["ours"]["val_accuracy"])

    best_optimizer, optimizer_mean = _best(by_optimizer, OPTIMIZERS)
    best_activation, activation_mean = _best(by_activation, ACTIVATIONS)
    best_regularizer, regularizer_mean = _best(by_regularizer, ("none", "dropout", "early_stopping"))

    combinations = {}
    for optimizer in OPTIMIZERS:
        candidates = [row for row in mlp_rows if row["optimizer"] == optimizer]
        if candidates:
            top = max(candidates, key=lambda row: row["ours"]["val_accuracy"])
            combinations[optimizer] = {"activation": top["activation"], "layers": top["layers"],
                                       "val_accuracy": top["ours"]["val_accuracy"]}

    gaps = defaultdict(list)
    widest = None
    for row in with_ours:
        if row["ours"]["accuracy"] is None:
            continue
        gap = row["ours"]["accuracy"] - row["ours"]["val_accuracy"]
        gaps[row["table"]].append(gap)
        if widest is None or gap > widest["gap"]:
            widest = {"position": row["position"], "experiment": row["experiment"], "gap": gap}

    per_minute = [row for row in with_ours if row["table"] == "cnn" and row["ours"]["seconds"]]
    best_model = None
    if per_minute:
        top = max(per_minute, key=lambda row: row["ours"]["val_accuracy"] / (row["ours"]["seconds"] / 60))
        best_model = {"model": top["model"],
                      "val_accuracy_per_minute": top["ours"]["val_accuracy"] / (top["ours"]["seconds"] / 60)}

    return {
        "ours": {
            "best_optimizer": best_optimizer,
            "best_optimizer_val_accuracy": optimizer_mean,
            "best_activation": best_activation,
            "best_activation_val_accuracy": activation_mean,
            "best_regularizer": best_regularizer,
            "best_regularizer_val_accuracy": regularizer_mean,
            "best_combination": combinations,
            "mean_gap_by_table": {table: mean(values) for table, values in gaps.items()},
            "widest_gap": widest,
            "best_model": best_model,
        },
        "study": study_awards_published(),
    }


def study_report_csv_rows(report: dict) -> list[list]:
    """Return the report as CSV rows: a header, then one line per study row, the study's figures beside ours."""
    header = ["position", "table", "model", "optimizer", "activation", "layers", "regularizer", "experiment",
              *(f"study_{name}" for name in STUDY_FIGURES), "run_id", *(f"our_{name}" for name in OUR_FIGURES),
              "oddities"]
    lines = [header]
    for row in report["rows"]:
        ours = row["ours"] or {}
        lines.append([
            row["position"], row["table"], row["model"], row["optimizer"], row["activation"], row["layers"],
            row["regularizer"], row["experiment"] or "",
            *("" if row["study"][name] is None else row["study"][name] for name in STUDY_FIGURES),
            ours.get("run_id", ""),
            *("" if ours.get(name) is None else ours[name] for name in OUR_FIGURES),
            " | ".join(row["oddities"]),
        ])
    return lines
