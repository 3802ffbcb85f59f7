"""Reads for the study report: each published row beside our figures, the oddities and the awards."""

from collections import defaultdict
from statistics import mean

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backend.experiments.models import EpochMetric, Run, StudyRow
from backend.experiments.study import study_awards_published
from ml.config import ACTIVATIONS, OPTIMIZERS

OUR_FIGURES = ("accuracy", "loss", "val_accuracy", "val_loss", "test_accuracy", "seconds", "epochs")
STUDY_FIGURES = ("epochs", "accuracy", "loss", "val_accuracy", "val_loss", "seconds")
# Rows whose four published figures agree to this many decimals count as repeats.
FIGURE_DECIMALS = 4
REGULARIZERS = ("none", "dropout", "early_stopping")
# The awards' regularizer candidates: the plain MLP table counts as "none".
REGULARIZER_OF_TABLE = {"mlp": "none", "dropout": "dropout", "early_stopping": "early_stopping"}


def study_code_names() -> dict[str, dict[str, str]]:
    """Return the readable name of each code of the study's rows, per column, in the active language."""
    return {
        "table": {value: str(label) for value, label in StudyRow.Table.choices},
        "model": {
            "mlp": _("MLP"),
            "cnn_base": _("custom CNN (base)"),
            "cnn_improved": _("custom CNN (improved)"),
            "resnet50_base": _("ResNet50 (base)"),
            "resnet50_improved": _("ResNet50 (improved)"),
            "vgg16_transfer_base": _("VGG16 transfer learning (base)"),
            "vgg16_transfer_improved": _("VGG16 transfer learning (improved)"),
        },
        # Optimizer and activation names as Keras documents them; only "sigmoid" has a Spanish name.
        "optimizer": {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop"},
        "activation": {"relu": "ReLU", "tanh": "tanh", "sigmoid": _("sigmoid")},
        "regularizer": {"none": _("no regularization"), "dropout": "Dropout", "early_stopping": "EarlyStopping"},
    }


def _code_name(names: dict[str, dict[str, str]], column: str, code: str | None) -> str:
    """Return the readable name of ``code``; an unknown code is shown as it is, an empty one as ""."""
    return names[column].get(code, code) if code else ""


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


def _row_label(row: StudyRow, names: dict[str, dict[str, str]]) -> str:
    """Return a study row's readable name: its model for a CNN row, else table / optimizer / activation and layers."""
    if row.table == StudyRow.Table.CNN:
        return _code_name(names, "model", row.model)
    layers = ngettext("%(activation)s with %(layers)d layer", "%(activation)s with %(layers)d layers",
                      row.layers) % {"activation": _code_name(names, "activation", row.activation), "layers": row.layers}
    return " / ".join((_code_name(names, "table", row.table), _code_name(names, "optimizer", row.optimizer), layers))


def study_oddities(rows: list[StudyRow]) -> dict[int, list[str]]:
    """Point out, per row position, what looks odd in the published figures (they stay as published)."""
    names = study_code_names()
    notes: dict[int, list[str]] = defaultdict(list)
    seen_figures: dict[tuple, StudyRow] = {}
    seen_val_accuracy: dict[tuple, StudyRow] = {}
    for row in rows:
        key = _published_key(row)
        if any(value is not None for value in key):
            earlier = seen_figures.get(key)
            if earlier is not None:
                notes[row.position].append(_("Repeats the published figures of row %(position)s (%(row)s) exactly.")
                                           % {"position": earlier.position, "row": _row_label(earlier, names)})
            else:
                seen_figures[key] = row
        family = row.model.rsplit("_", 1)[0]
        if row.table == StudyRow.Table.CNN and row.val_accuracy is not None:
            val_key = (family, round(row.val_accuracy, FIGURE_DECIMALS))
            earlier = seen_val_accuracy.get(val_key)
            if earlier is not None:
                notes[row.position].append(_("Reports the same val_accuracy as row %(position)s (%(row)s).")
                                           % {"position": earlier.position, "row": _row_label(earlier, names)})
            else:
                seen_val_accuracy[val_key] = row
        if row.accuracy is not None and row.val_accuracy is not None and row.val_accuracy > row.accuracy:
            if row.regularizer == "dropout":
                notes[row.position].append(_("Validation accuracy above training accuracy: expected, Dropout is active only while training."))
            else:
                notes[row.position].append(_("Validation accuracy above training accuracy."))
    return notes


def study_report() -> dict:
    """Return every loaded study row with its published figures, ours, its oddities, and the awards.

    ``datasets`` names the datasets that the catalog's experiments train on, which is
    where our figures come from: one, unless the catalog was loaded partly by hand.
    """
    rows = list(StudyRow.objects.select_related("experiment__dataset").order_by("position"))
    oddities = study_oddities(rows)
    names = study_code_names()
    report_rows = []
    datasets = {}
    for row in rows:
        ours = run_figures(run_latest_succeeded(row.experiment_id)) if row.experiment_id else None
        dataset = row.experiment.dataset if row.experiment else None
        if dataset is not None:
            datasets[dataset.pk] = {"id": dataset.pk, "name": dataset.name, "train_images": dataset.train_size}
        report_rows.append({
            "position": row.position,
            "table": row.table,
            "model": row.model,
            "optimizer": row.optimizer,
            "activation": row.activation,
            "layers": row.layers,
            "regularizer": row.regularizer,
            "names": {column: _code_name(names, column, getattr(row, column)) for column in names},
            "experiment_id": row.experiment_id,
            "experiment": row.experiment.name if row.experiment else None,
            "dataset": dataset.name if dataset else None,
            "study": {name: getattr(row, name) for name in STUDY_FIGURES},
            "ours": ours,
            "oddities": oddities.get(row.position, []),
        })
    return {"datasets": list(datasets.values()), "rows": report_rows, "awards": study_awards(report_rows)}


def _best(groups: dict, order: tuple) -> tuple[str | None, float | None]:
    """Return the key with the highest mean, earlier keys of ``order`` winning ties."""
    means = {key: mean(values) for key, values in groups.items() if values}
    if not means:
        return None, None
    best = max(sorted(means, key=lambda key: order.index(key) if key in order else len(order)),
               key=lambda key: means[key])
    return best, means[best]


def _has_val_accuracy(row: dict) -> bool:
    return bool(row["ours"]) and row["ours"]["val_accuracy"] is not None


def _has_gap(row: dict) -> bool:
    return _has_val_accuracy(row) and row["ours"]["accuracy"] is not None


def _has_speed(row: dict) -> bool:
    return _has_val_accuracy(row) and bool(row["ours"]["seconds"])


def _missing_text(candidates: dict[str, list[dict]], has_result, names: dict[str, str]) -> str | None:
    """Describe which of ``candidates`` (name -> its rows) lack a result, or return None when none does.

    A candidate of one row is named alone, one of several rows with how many lack a result.
    """
    parts = []
    for key, rows in candidates.items():
        missing = sum(1 for row in rows if not has_result(row))
        if not missing:
            continue
        if len(rows) == 1:
            parts.append(names.get(key, key))
        else:
            parts.append(ngettext("%(name)s (%(missing)d of %(total)d row)", "%(name)s (%(missing)d of %(total)d rows)",
                                  len(rows)) % {"name": names.get(key, key), "missing": missing, "total": len(rows)})
    if not parts:
        return None
    return _("runs missing: %(missing)s") % {"missing": ", ".join(parts)}


def _grouped(rows: list[dict], key, order: tuple) -> dict[str, list[dict]]:
    groups = {name: [] for name in order}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {name: members for name, members in groups.items() if members}


def _mean_award(candidates: dict[str, list[dict]], order: tuple, names: dict[str, str]) -> dict:
    """Return the candidate with the highest mean val_accuracy, or what is missing when a candidate lacks results."""
    missing = _missing_text(candidates, _has_val_accuracy, names)
    if missing or not candidates:
        return {"winner": None, "val_accuracy": None, "missing": missing}
    groups = {key: [row["ours"]["val_accuracy"] for row in rows] for key, rows in candidates.items()}
    winner, value = _best(groups, order)
    return {"winner": winner, "val_accuracy": value, "missing": None}


def _combination_name(row: dict) -> str:
    return ngettext("%(activation)s with %(layers)d layer", "%(activation)s with %(layers)d layers",
                    row["layers"]) % {"activation": row["names"]["activation"], "layers": row["layers"]}


def study_awards(report_rows: list[dict]) -> dict:
    """Compute the study's awards from our figures (final val_accuracy), beside the study's own.

    - best optimizer and best activation: the highest mean val_accuracy over the MLP table's rows;
    - best regularizer: the highest mean val_accuracy of the MLP (none), Dropout and EarlyStopping tables;
    - best combination per optimizer: its MLP-table row with the highest val_accuracy;
    - gap: training minus validation accuracy, per table on average and the widest row;
    - best model: the CNN-table row with the most val_accuracy per minute of training.

    An award is computed only when every row it compares has our result. Until then
    its value is None, and ``missing`` contains, under the award's key, the rows that lack one.
    """
    names = study_code_names()
    mlp_rows = [row for row in report_rows if row["table"] == "mlp"]
    missing = {}

    optimizer = _mean_award(_grouped(mlp_rows, lambda row: row["optimizer"], OPTIMIZERS), OPTIMIZERS, names["optimizer"])
    activation = _mean_award(_grouped(mlp_rows, lambda row: row["activation"], ACTIVATIONS), ACTIVATIONS,
                             names["activation"])
    regularized = [row for row in report_rows if row["table"] in REGULARIZER_OF_TABLE]
    regularizer = _mean_award(_grouped(regularized, lambda row: REGULARIZER_OF_TABLE[row["table"]], REGULARIZERS),
                              REGULARIZERS, names["regularizer"])
    for key, award in (("best_optimizer", optimizer), ("best_activation", activation), ("best_regularizer", regularizer)):
        if award["missing"]:
            missing[key] = award["missing"]

    combinations, combinations_missing = {}, {}
    for name, candidates in _grouped(mlp_rows, lambda row: row["optimizer"], OPTIMIZERS).items():
        text = _missing_text({_combination_name(row): [row] for row in candidates}, _has_val_accuracy, {})
        if text:
            combinations_missing[name] = text
            continue
        top = max(candidates, key=lambda row: row["ours"]["val_accuracy"])
        combinations[name] = {"activation": top["activation"], "activation_name": top["names"]["activation"],
                              "layers": top["layers"], "val_accuracy": top["ours"]["val_accuracy"]}
    if combinations_missing:
        missing["best_combination"] = combinations_missing

    tables = _grouped(report_rows, lambda row: row["table"], tuple(StudyRow.Table.values))
    mean_gaps, gaps_missing = {}, {}
    for table, rows in tables.items():
        text = _missing_text({table: rows}, _has_gap, names["table"])
        if text:
            gaps_missing[table] = text
        else:
            mean_gaps[table] = mean(row["ours"]["accuracy"] - row["ours"]["val_accuracy"] for row in rows)
    if gaps_missing:
        missing["mean_gap_by_table"] = gaps_missing

    widest = None
    widest_missing = _missing_text(tables, _has_gap, names["table"])
    if widest_missing:
        missing["widest_gap"] = widest_missing
    elif report_rows:
        top = max(report_rows, key=lambda row: row["ours"]["accuracy"] - row["ours"]["val_accuracy"])
        widest = {"position": top["position"], "experiment": top["experiment"],
                  "gap": top["ours"]["accuracy"] - top["ours"]["val_accuracy"]}

    cnn_rows = [row for row in report_rows if row["table"] == "cnn"]
    best_model = None
    model_missing = _missing_text({row["model"]: [row] for row in cnn_rows}, _has_speed, names["model"])
    if model_missing:
        missing["best_model"] = model_missing
    elif cnn_rows:
        top = max(cnn_rows, key=lambda row: row["ours"]["val_accuracy"] / (row["ours"]["seconds"] / 60))
        best_model = {"model": top["model"], "name": top["names"]["model"],
                      "val_accuracy_per_minute": top["ours"]["val_accuracy"] / (top["ours"]["seconds"] / 60)}

    return {
        "ours": {
            "best_optimizer": optimizer["winner"],
            "best_optimizer_name": _code_name(names, "optimizer", optimizer["winner"]) or None,
            "best_optimizer_val_accuracy": optimizer["val_accuracy"],
            "best_activation": activation["winner"],
            "best_activation_name": _code_name(names, "activation", activation["winner"]) or None,
            "best_activation_val_accuracy": activation["val_accuracy"],
            "best_regularizer": regularizer["winner"],
            "best_regularizer_name": _code_name(names, "regularizer", regularizer["winner"]) or None,
            "best_regularizer_val_accuracy": regularizer["val_accuracy"],
            "best_combination": combinations,
            "mean_gap_by_table": mean_gaps,
            "widest_gap": widest,
            "best_model": best_model,
            "missing": missing,
        },
        "study": _study_awards_named(names),
    }


def _study_awards_named(names: dict[str, dict[str, str]]) -> dict:
    """Return the study's own awards with the readable name beside each code."""
    study = study_awards_published()
    for key, column in (("best_optimizer", "optimizer"), ("best_activation", "activation"),
                        ("best_regularizer", "regularizer"), ("best_model", "model")):
        study[f"{key}_name"] = _code_name(names, column, study.get(key))
    for optimizer, combination in study["best_combination"].items():
        combination["optimizer_name"] = _code_name(names, "optimizer", optimizer)
        combination["activation_name"] = _code_name(names, "activation", combination["activation"])
    return study


def study_report_csv_rows(report: dict) -> list[list]:
    """Return the report as CSV rows: a header, then one line per study row, the study's figures beside ours.

    An empty line follows, then the awards: a header, then one line per award with the
    study's choice, ours, our figure, and the runs missing when ours is not computed.
    """
    header = ["position", "table", "model", "optimizer", "activation", "layers", "regularizer", "experiment", "dataset",
              *(f"study_{name}" for name in STUDY_FIGURES), "run_id", *(f"our_{name}" for name in OUR_FIGURES),
              "oddities"]
    lines = [header]
    for row in report["rows"]:
        ours = row["ours"] or {}
        lines.append([
            row["position"], row["table"], row["model"], row["optimizer"], row["activation"], row["layers"],
            row["regularizer"], row["experiment"] or "", row["dataset"] or "",
            *("" if row["study"][name] is None else row["study"][name] for name in STUDY_FIGURES),
            ours.get("run_id", ""),
            *("" if ours.get(name) is None else ours[name] for name in OUR_FIGURES),
            " | ".join(row["oddities"]),
        ])
    lines.append([])
    lines.extend(study_awards_csv_rows(report["awards"]))
    return lines


def _combination_code(combination: dict | None) -> str:
    return f"{combination['activation']} + {combination['layers']}" if combination else ""


def study_awards_csv_rows(awards: dict) -> list[list]:
    """Return the awards as CSV rows: award, the study's choice, ours, our figure, runs missing."""
    ours, study, missing = awards["ours"], awards["study"], awards["ours"]["missing"]

    def value(number) -> object:
        return "" if number is None else number

    lines = [["award", "study", "ours", "our_value", "missing"]]
    for key in ("best_optimizer", "best_activation", "best_regularizer"):
        lines.append([key, study.get(key, ""), ours[key] or "", value(ours[f"{key}_val_accuracy"]), missing.get(key, "")])
    for optimizer in OPTIMIZERS:
        combination = ours["best_combination"].get(optimizer)
        lines.append([f"best_combination_{optimizer}", _combination_code(study["best_combination"].get(optimizer)),
                      _combination_code(combination), value(combination and combination["val_accuracy"]),
                      missing.get("best_combination", {}).get(optimizer, "")])
    for table in StudyRow.Table.values:
        lines.append([f"mean_gap_{table}", "", "", value(ours["mean_gap_by_table"].get(table)),
                      missing.get("mean_gap_by_table", {}).get(table, "")])
    widest = ours["widest_gap"]
    lines.append(["widest_gap", "", widest["experiment"] if widest else "", value(widest and widest["gap"]),
                  missing.get("widest_gap", "")])
    model = ours["best_model"]
    lines.append(["best_model", study.get("best_model", ""), model["model"] if model else "",
                  value(model and model["val_accuracy_per_minute"]), missing.get("best_model", "")])
    return lines
