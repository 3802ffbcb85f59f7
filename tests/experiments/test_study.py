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

    assert "0" in output.getvalue()
    assert StudyRow.objects.count() == 51
    assert Experiment.objects.count() == 51


def test_report_points_out_published_oddities(study):
    rows = {row["position"]: row for row in study_report()["rows"]}

    rmsprop_sigmoid_1 = next(row for row in rows.values()
                             if row["table"] == "mlp" and row["optimizer"] == "rmsprop" and row["activation"] == "sigmoid" and row["layers"] == 1)
    assert any("fila 16" in note or "row 16" in note for note in rmsprop_sigmoid_1["oddities"])
    resnet_improved = next(row for row in rows.values() if row["model"] == "resnet50_improved")
    assert any("val_accuracy" in note for note in resnet_improved["oddities"])


def test_report_csv_shows_study_figure_beside_ours(study, client, staff_user):
    _succeeded_run("estudio-mlp-sgd-relu-3", accuracy=0.61, val_accuracy=0.5555)
    client.force_login(staff_user)

    response = client.get("/informe/estudio.csv")

    assert response.status_code == 200
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(lines) == 51
    row = next(line for line in lines if line["table"] == "mlp" and line["optimizer"] == "sgd"
               and line["activation"] == "relu" and line["layers"] == "3")
    assert row["study_val_accuracy"] == "0.5802"
    assert row["our_val_accuracy"] == "0.5555"
    assert row["our_accuracy"] == "0.61"
    assert row["our_epochs"] == "2"


def test_awards_from_known_runs_match_hand_computation(study):
    figures = {
        # (optimizer, activation, layers): val_accuracy
        ("sgd", "relu", 3): 0.60, ("sgd", "tanh", 1): 0.40,
        ("adam", "relu", 2): 0.50, ("adam", "sigmoid", 1): 0.56,
        ("rmsprop", "tanh", 3): 0.45,
    }
    for (optimizer, activation, layers), val_accuracy in figures.items():
        _succeeded_run(f"estudio-mlp-{optimizer}-{activation}-{layers}", accuracy=val_accuracy + 0.1, val_accuracy=val_accuracy)
    _succeeded_run("estudio-dropout-sgd-relu-3", accuracy=0.40, val_accuracy=0.52)
    _succeeded_run("estudio-early_stopping-sgd-relu-3", accuracy=0.70, val_accuracy=0.48)
    _succeeded_run("estudio-cnn_base", accuracy=0.70, val_accuracy=0.60, seconds=120)
    _succeeded_run("estudio-cnn_improved", accuracy=0.75, val_accuracy=0.66, seconds=600)

    awards = study_report()["awards"]
    ours = awards["ours"]

    # sgd (0.60 + 0.40) / 2 = 0.50; adam (0.50 + 0.56) / 2 = 0.53; rmsprop 0.45.
    assert ours["best_optimizer"] == "adam"
    assert ours["best_optimizer_val_accuracy"] == pytest.approx(0.53)
    # relu (0.60 + 0.50) / 2 = 0.55; tanh (0.40 + 0.45) / 2 = 0.425; sigmoid 0.56.
    assert ours["best_activation"] == "sigmoid"
    # none: mean of the five MLP rows = 2.51 / 5 = 0.502; dropout 0.52; early_stopping 0.48.
    assert ours["best_regularizer"] == "dropout"
    assert ours["best_combination"] == {
        "sgd": {"activation": "relu", "layers": 3, "val_accuracy": 0.60},
        "adam": {"activation": "sigmoid", "layers": 1, "val_accuracy": 0.56},
        "rmsprop": {"activation": "tanh", "layers": 3, "val_accuracy": 0.45},
    }
    # Gaps: every MLP row 0.10, Dropout -0.12, EarlyStopping 0.22, CNN 0.10 and 0.09.
    assert ours["widest_gap"]["experiment"] == "estudio-early_stopping-sgd-relu-3"
    assert ours["widest_gap"]["gap"] == pytest.approx(0.22)
    assert ours["mean_gap_by_table"]["dropout"] == pytest.approx(-0.12)
    # Per minute: base 0.60 / 2 = 0.30; improved 0.66 / 10 = 0.066.
    assert ours["best_model"]["model"] == "cnn_base"
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
    assert "0,750" in content or "0.750" in content
    assert "<th>gato</th>" in content
    assert "<th>perro</th>" in content
    assert "<th>cat</th>" not in content


def test_queue_study_estimates_then_queues_a_part(study):
    output = io.StringIO()

    call_command("queue_study", part="cnn", yes=True, stdout=output)

    assert Run.objects.filter(status=Run.Status.QUEUED).count() == 6
    assert "6" in output.getvalue()


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
