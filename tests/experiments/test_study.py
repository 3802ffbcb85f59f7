"""The reference study's catalog, its report beside our runs, and the awards computed from them."""

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.experiments.models import EpochMetric, Experiment, Run, StudyRow
from backend.experiments.selectors import study_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(small_dataset):
    call_command("load_study", dataset=small_dataset.name, stdout=io.StringIO())
    return small_dataset


def _succeeded_run(experiment_name: str, *, accuracy: float, val_accuracy: float, seconds: float = 60.0) -> Run:
    experiment = Experiment.objects.get(name=experiment_name)
    run = Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED, epochs_run=2, seconds=seconds,
                             test_accuracy=val_accuracy - 0.01, finished_at=timezone.now())
    EpochMetric.objects.create(run=run, epoch=1, accuracy=0.1, loss=2.0, val_accuracy=0.1, val_loss=2.0, seconds=seconds / 2)
    EpochMetric.objects.create(run=run, epoch=2, accuracy=accuracy, loss=1.0, val_accuracy=val_accuracy, val_loss=1.1,
                               seconds=seconds / 2)
    return run


def test_catalog_holds_51_experiments_with_published_figures(study):
    rows = StudyRow.objects.select_related("experiment")

    assert rows.count() == 51
    assert Experiment.objects.filter(study_row__isnull=False).count() == 51
    assert sorted(set(rows.values_list("table", flat=True))) == ["cnn", "dropout", "early_stopping", "mlp"]
    sgd_relu_3 = rows.get(table="mlp", optimizer="sgd", activation="relu", layers=3)
    assert (sgd_relu_3.accuracy, sgd_relu_3.val_accuracy, sgd_relu_3.seconds) == (0.59, 0.5802, 60)
    assert sgd_relu_3.epochs is None
    assert sgd_relu_3.experiment.hyperparameters["hidden_layers"] == 3
    cnn_improved = rows.get(model="cnn_improved")
    assert cnn_improved.accuracy is None
    assert cnn_improved.experiment.family == "cnn"
    assert cnn_improved.experiment.hyperparameters["conv_layers"] == 8
    assert cnn_improved.experiment.hyperparameters["early_stopping"] is True
    dropout_row = rows.get(table="dropout", optimizer="adam", activation="tanh")
    assert dropout_row.experiment.hyperparameters["dropout_rate"] == 0.2
    assert dropout_row.experiment.hyperparameters["hidden_layers"] == 1
    assert rows.get(model="vgg16_transfer_improved").experiment.hyperparameters["fine_tune_epochs"] == 30


def test_loading_the_study_twice_creates_nothing_new(study):
    output = io.StringIO()

    call_command("load_study", dataset=study.name, stdout=output)

    assert output.getvalue() == "El estudio ya estaba cargado en el conjunto de datos «cifar-small»: no se creó nada nuevo.\n"
    assert StudyRow.objects.count() == 51
    assert Experiment.objects.count() == 51


def test_report_points_out_published_oddities(study):
    rows = {row["position"]: row for row in study_report()["rows"]}

    rmsprop_sigmoid_1 = next(row for row in rows.values()
                             if row["table"] == "mlp" and row["optimizer"] == "rmsprop" and row["activation"] == "sigmoid" and row["layers"] == 1)
    assert "Repite exactamente las cifras publicadas de la fila 16 (MLP / Adam / sigmoide con 1 capa)." in (
        rmsprop_sigmoid_1["oddities"])
    resnet_improved = next(row for row in rows.values() if row["model"] == "resnet50_improved")
    assert "Informa la misma val_accuracy que la fila 48 (ResNet50 (base))." in resnet_improved["oddities"]


def _csv_blocks(text: str) -> tuple[list[dict], list[dict]]:
    """Split the report's CSV into its study rows and its awards, each read by its own header."""
    rows_part, awards_part = text.replace("\r\n", "\n").split("\n\n")
    return list(csv.DictReader(io.StringIO(rows_part))), list(csv.DictReader(io.StringIO(awards_part)))


def test_report_csv_shows_study_figure_beside_ours(study, client, staff_user):
    _succeeded_run("estudio-mlp-sgd-relu-3", accuracy=0.61, val_accuracy=0.5555)
    client.force_login(staff_user)

    response = client.get("/informe/estudio.csv")

    assert response.status_code == 200
    lines, awards = _csv_blocks(response.content.decode())
    assert len(lines) == 51
    row = next(line for line in lines if line["table"] == "mlp" and line["optimizer"] == "sgd"
               and line["activation"] == "relu" and line["layers"] == "3")
    assert row["study_val_accuracy"] == "0.5802"
    assert row["our_val_accuracy"] == "0.5555"
    assert row["our_accuracy"] == "0.61"
    assert row["our_epochs"] == "2"
    assert row["dataset"] == "cifar-small"
    assert [award["award"] for award in awards] == [
        "best_optimizer", "best_activation", "best_regularizer", "best_combination_sgd", "best_combination_adam",
        "best_combination_rmsprop", "mean_gap_mlp", "mean_gap_dropout", "mean_gap_early_stopping", "mean_gap_cnn",
        "widest_gap", "best_model",
    ]


# val_accuracy of each MLP-table row: the optimizer's base, plus the activation's, plus 0.01 per layer.
OPTIMIZER_BASE = {"sgd": 0.40, "adam": 0.45, "rmsprop": 0.30}
ACTIVATION_BONUS = {"relu": 0.10, "tanh": 0.05, "sigmoid": 0.0}


def _train_every_row() -> None:
    """Give every one of the 51 rows a succeeded run with figures that are easy to average by hand."""
    for row in StudyRow.objects.select_related("experiment"):
        if row.table == "cnn":
            continue
        val_accuracy = OPTIMIZER_BASE[row.optimizer] + ACTIVATION_BONUS[row.activation] + 0.01 * row.layers
        if row.table == "dropout":
            _succeeded_run(row.experiment.name, accuracy=0.40, val_accuracy=0.52)
        elif row.table == "early_stopping":
            _succeeded_run(row.experiment.name, accuracy=0.80, val_accuracy=0.48)
        else:
            _succeeded_run(row.experiment.name, accuracy=val_accuracy + 0.10, val_accuracy=val_accuracy)
    cnn_figures = {
        # model: (val_accuracy, seconds)
        "cnn_base": (0.60, 120), "cnn_improved": (0.66, 600), "resnet50_base": (0.35, 300),
        "resnet50_improved": (0.40, 1200), "vgg16_transfer_base": (0.62, 600), "vgg16_transfer_improved": (0.64, 1500),
    }
    for model, (val_accuracy, seconds) in cnn_figures.items():
        _succeeded_run(f"estudio-{model}", accuracy=val_accuracy + 0.05, val_accuracy=val_accuracy, seconds=seconds)


def test_awards_from_known_runs_match_hand_computation(study):
    _train_every_row()

    awards = study_report()["awards"]
    ours = awards["ours"]

    assert ours["missing"] == {}
    # Each optimizer's 9 rows average base + 0.05 (activations) + 0.02 (layers): adam 0.52.
    assert ours["best_optimizer"] == "adam"
    assert ours["best_optimizer_name"] == "Adam"
    assert ours["best_optimizer_val_accuracy"] == pytest.approx(0.52)
    # relu: mean of the bases (0.3833) + 0.10 + 0.02.
    assert ours["best_activation"] == "relu"
    assert ours["best_activation_val_accuracy"] == pytest.approx(0.38333 + 0.12, abs=1e-4)
    # none: mean of the 27 MLP rows = 0.38333 + 0.05 + 0.02 = 0.4533; dropout 0.52; early_stopping 0.48.
    assert ours["best_regularizer"] == "dropout"
    assert ours["best_regularizer_name"] == "Dropout"
    assert ours["best_combination"] == {
        "sgd": {"activation": "relu", "activation_name": "ReLU", "layers": 3, "val_accuracy": pytest.approx(0.53)},
        "adam": {"activation": "relu", "activation_name": "ReLU", "layers": 3, "val_accuracy": pytest.approx(0.58)},
        "rmsprop": {"activation": "relu", "activation_name": "ReLU", "layers": 3, "val_accuracy": pytest.approx(0.43)},
    }
    # Gaps: every MLP row 0.10, Dropout -0.12, EarlyStopping 0.32, CNN 0.05.
    assert ours["widest_gap"]["experiment"].startswith("estudio-early_stopping-")
    assert ours["widest_gap"]["gap"] == pytest.approx(0.32)
    assert ours["mean_gap_by_table"]["dropout"] == pytest.approx(-0.12)
    assert ours["mean_gap_by_table"]["cnn"] == pytest.approx(0.05)
    # Per minute: cnn_base 0.60 / 2 = 0.30 beats every other CNN-table row (cnn_improved 0.066).
    assert ours["best_model"]["model"] == "cnn_base"
    assert ours["best_model"]["val_accuracy_per_minute"] == pytest.approx(0.30)
    assert awards["study"]["best_optimizer"] == "sgd"
    assert awards["study"]["best_combination"]["rmsprop"]["quoted"] == "tanh + 3 layers (35% vs 41%)"


def test_report_api_and_page_are_for_staff_in_spanish(study, api_client, client, staff_user):
    response = api_client.get("/api/study/report/")
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 51

    assert client.get("/informe/").status_code == 302
    client.force_login(staff_user)
    page = client.get("/informe/")
    assert page.status_code == 200
    assert "Premios" in page.content.decode()


def test_run_page_draws_curves_and_confusion_matrix(study, client, staff_user):
    run = _succeeded_run("estudio-cnn_base", accuracy=0.7, val_accuracy=0.6)
    run.test_evaluation = {"class_names": ["cat", "dog"], "matrix": [[3, 1], [0, 4]],
                           "per_class_accuracy": {"cat": 0.75, "dog": 1.0}, "accuracy": 0.875, "images": 8}
    run.save()
    client.force_login(staff_user)

    content = client.get(f"/informe/ejecuciones/{run.pk}/").content.decode()

    assert 'aria-label="Pérdida"' in content
    assert 'aria-label="Exactitud"' in content
    assert content.count("<polyline") == 4
    assert "pérdida de entrenamiento (loss)</text>" in content
    assert "pérdida de validación (val_loss)</text>" in content
    assert "exactitud de validación (val_accuracy)</text>" in content
    # The accuracy axis runs from 0.1 to 0.7, written with the Spanish decimal comma.
    assert 'font-size="10">0,7</text>' in content
    assert 'font-size="10">0,1</text>' in content
    assert "0.7<" not in content
    assert "0,750" in content
    assert "<th>gato</th>" in content
    assert "<th>perro</th>" in content
    assert "<th>cat</th>" not in content


def test_run_page_marks_single_epoch(study, client, staff_user):
    experiment = Experiment.objects.get(name="estudio-cnn_base")
    run = Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED, epochs_run=1, seconds=5.0,
                             test_accuracy=0.3, finished_at=timezone.now())
    EpochMetric.objects.create(run=run, epoch=1, accuracy=0.25, loss=2.1, val_accuracy=0.3, val_loss=2.0, seconds=5.0)
    client.force_login(staff_user)

    content = client.get(f"/informe/ejecuciones/{run.pk}/").content.decode()

    # Four series of one point each: a line of one point draws nothing, so each has a marker.
    assert content.count("<circle") == 4
    assert "<title>exactitud de validación (val_accuracy), época 1: 0,3</title>" in content
    assert "<title>pérdida de entrenamiento (loss), época 1: 2,1</title>" in content


def test_queue_study_estimates_then_queues_a_part(study):
    output = io.StringIO()

    call_command("queue_study", part="cnn", yes=True, stdout=output)

    assert Run.objects.filter(status=Run.Status.QUEUED).count() == 6
    # No worker runs in this test, and no CNN-table run was measured: the study's
    # published seconds sum to 1001 + 3427 + 678 + 3094 + 3055 + 6240 = 17495 s.
    assert output.getvalue().splitlines() == [
        "6 ejecuciones, unas 4,9 horas de entrenamiento en total (medidas: 0, según el estudio: 6, por omisión: 0). "
        "Ahora no hay ningún worker atendiendo la cola de entrenamiento: las ejecuciones esperarán hasta que uno arranque.",
        "6 ejecuciones en cola.",
    ]


def test_admin_form_takes_json_hyperparameters_for_cnn(client, staff_user, small_dataset):
    client.force_login(staff_user)
    form = {"name": "cnn-desde-admin", "description": "", "dataset": small_dataset.pk, "family": "cnn"}

    rejected = client.post("/admin/experiments/experiment/add/", {**form, "hyperparameters_json": '{"conv_layers": 6}'})
    accepted = client.post("/admin/experiments/experiment/add/", {**form, "hyperparameters_json": '{"conv_layers": 8}'})

    assert "El valor 6 de conv_layers es inválido. Valores permitidos: 4, 8." in rejected.content.decode()
    assert accepted.status_code == 302
    experiment = Experiment.objects.get(name="cnn-desde-admin")
    assert experiment.hyperparameters["conv_layers"] == 8
    assert experiment.hyperparameters["epochs"] == 25


def test_failed_run_page_shows_its_error(study, client, staff_user):
    experiment = Experiment.objects.get(name="estudio-vgg16_transfer_base")
    run = Run.objects.create(experiment=experiment, status=Run.Status.FAILED, error="Los pesos no existen.",
                             finished_at=timezone.now())
    client.force_login(staff_user)

    content = client.get(f"/informe/ejecuciones/{run.pk}/").content.decode()

    assert '<p class="errornote">Los pesos no existen.</p>' in content
    assert "La ejecución terminó antes de completar su primera época." in content
    assert "Solo una ejecución que terminó bien tiene evaluación de prueba." in content
    assert "exactitud de prueba:" not in content
    assert "POST /api/runs/" not in content
