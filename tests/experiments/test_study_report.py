"""The study's catalog on a second dataset, the queue estimate, awards with missing runs, and the report's CSV."""

import csv
import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from rest_framework.test import APIClient

from backend.experiments.models import EpochMetric, Experiment, Run, StudyRow
from backend.experiments.selectors import study_report
from backend.experiments.study import duration_text, estimate_text, study_estimate, study_rows_of_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(small_dataset):
    call_command("load_study", dataset=small_dataset.name, stdout=io.StringIO())
    return small_dataset


@pytest.fixture
def second_dataset(db, small_archive):
    from backend.datasets.services import dataset_import

    return dataset_import(source=small_archive, name="cifar-small-2")


def _succeeded_run(experiment_name: str, *, accuracy: float, val_accuracy: float, seconds: float = 60.0,
                   epochs: int = 2, train_examples: int | None = None) -> Run:
    experiment = Experiment.objects.get(name=experiment_name)
    run = Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED, epochs_run=epochs, seconds=seconds,
                             train_examples=train_examples, test_accuracy=val_accuracy - 0.01, finished_at=timezone.now())
    for epoch in range(1, epochs + 1):
        EpochMetric.objects.create(run=run, epoch=epoch, accuracy=accuracy, loss=1.0, val_accuracy=val_accuracy,
                                   val_loss=1.1, seconds=seconds / epochs)
    return run


# Loading the catalog


def test_load_study_prints_one_summary_line(small_dataset, caplog):
    output = io.StringIO()

    with caplog.at_level(logging.INFO):
        call_command("load_study", dataset=small_dataset.name, stdout=output)

    assert output.getvalue() == "Estudio cargado en el conjunto de datos «cifar-small». Filas nuevas: 51. Experimentos nuevos: 51.\n"
    study_records = [record for record in caplog.records if record.name.startswith("backend.experiments")]
    assert [record.getMessage() for record in study_records] == [
        f"study: 51 rows and 51 experiments created, 0 experiments moved, on dataset {small_dataset.pk}",
    ]


def test_load_study_on_other_dataset_is_rejected(study, second_dataset):
    with pytest.raises(CommandError) as raised:
        call_command("load_study", dataset=second_dataset.name, stdout=io.StringIO())

    assert str(raised.value) == (
        "El catálogo del estudio ya está cargado en el conjunto de datos «cifar-small», por lo que no se creó nada "
        "en «cifar-small-2». Para entrenar el catálogo con «cifar-small-2», ejecute manage.py load_study "
        "--dataset cifar-small-2 --move. Solo se puede mover mientras ningún experimento del catálogo tenga ejecuciones."
    )
    assert set(Experiment.objects.values_list("dataset__name", flat=True)) == {"cifar-small"}


def test_load_study_move_points_catalog_at_new_dataset(study, second_dataset):
    output = io.StringIO()

    call_command("load_study", dataset=second_dataset.name, move=True, stdout=output)

    assert output.getvalue() == "Se movieron 51 experimentos del catálogo de «cifar-small» a «cifar-small-2».\n"
    assert Experiment.objects.count() == 51
    assert set(Experiment.objects.values_list("dataset__name", flat=True)) == {"cifar-small-2"}
    assert study_report()["datasets"] == [{"id": second_dataset.pk, "name": "cifar-small-2", "train_images": 300}]


def test_load_study_move_rejected_when_runs_exist(study, second_dataset):
    _succeeded_run("estudio-cnn_base", accuracy=0.7, val_accuracy=0.6)
    Run.objects.create(experiment=Experiment.objects.get(name="estudio-mlp-sgd-relu-1"), status=Run.Status.QUEUED)

    with pytest.raises(CommandError) as raised:
        call_command("load_study", dataset=second_dataset.name, move=True, stdout=io.StringIO())

    assert str(raised.value) == (
        "No se puede mover el catálogo a «cifar-small-2»: 2 de sus experimentos tienen ejecuciones en «cifar-small», "
        "y esas ejecuciones pertenecen a ese conjunto de datos. No se cambió nada. Para conservarlas, mantenga el "
        "catálogo en «cifar-small». Para empezar de nuevo en «cifar-small-2», descargue primero el informe "
        "(/informe/estudio.csv) para guardar sus cifras, elimine esas ejecuciones en el administrador (Ejecuciones) "
        "y vuelva a ejecutar load_study con --move."
    )
    assert set(Experiment.objects.values_list("dataset__name", flat=True)) == {"cifar-small"}
    assert Run.objects.count() == 2


def test_report_page_names_dataset_of_our_figures(study, client, staff_user):
    client.force_login(staff_user)

    content = client.get("/informe/").content.decode()

    assert "Nuestras cifras provienen de ejecuciones en el conjunto de datos «cifar-small», con 300 imágenes de entrenamiento." in content


# The queue estimate


def test_estimate_scales_measured_run_to_row_work(study):
    # A 2-epoch run of the custom CNN on 270 training images took 54 s: 0.1 s per epoch and image.
    _succeeded_run("estudio-cnn_base", accuracy=0.5, val_accuracy=0.4, seconds=54, epochs=2, train_examples=270)
    rows = [row for row in study_rows_of_part("cnn") if row.model in ("cnn_improved", "resnet50_base")]

    estimate = study_estimate(rows, workers=2)

    # cnn_improved: 0.1 s x 50 planned epochs x 270 training images (300 less 30 for validation) = 1350 s;
    # resnet50_base has no measured run, so it counts the study's 678 s.
    assert estimate.total_seconds == pytest.approx(1350 + 678)
    assert estimate.sources == {"measured": 1, "study": 1, "default": 0}
    assert estimate.wall_seconds == pytest.approx(1014)
    with translation.override("es-cl"):
        assert estimate_text(estimate) == (
            "2 ejecuciones, unos 34 minutos de entrenamiento en total (medidas: 1, según el estudio: 1, por omisión: 0). "
            "Con 2 workers disponibles, unos 17 minutos."
        )


def test_estimate_counts_fine_tuning_epochs(study):
    _succeeded_run("estudio-vgg16_transfer_base", accuracy=0.5, val_accuracy=0.4, seconds=27, epochs=1, train_examples=270)
    rows = [row for row in study_rows_of_part("cnn") if row.model == "vgg16_transfer_improved"]

    estimate = study_estimate(rows, workers=1)

    # 0.1 s x (20 head + 30 fine-tuning epochs) x 270 images.
    assert estimate.total_seconds == pytest.approx(1350)
    with translation.override("es-cl"):
        assert estimate_text(estimate).endswith("Con 1 worker disponible, unos 23 minutos.")


def test_estimate_total_and_share_round_alike():
    with translation.override("es-cl"):
        assert duration_text(30) == "menos de un minuto"
        assert duration_text(60) == "cerca de 1 minuto"
        assert duration_text(3540) == "unos 59 minutos"
        assert duration_text(3600) == "unas 1,0 horas"
        assert duration_text(3601) == "unas 1,1 horas"
        assert duration_text(17495) == "unas 4,9 horas"
    with translation.override("en"):
        assert duration_text(5400) == "about 1.5 hours"


# Awards with missing runs


def test_award_with_one_regularizer_trained_names_missing(study, client, staff_user, api_client):
    for row in StudyRow.objects.filter(table="early_stopping").select_related("experiment"):
        _succeeded_run(row.experiment.name, accuracy=0.2, val_accuracy=0.1519)
    expected = "faltan ejecuciones: sin regularización (27 de 27 filas), Dropout (9 de 9 filas)"

    ours = study_report()["awards"]["ours"]
    client.force_login(staff_user)
    page = client.get("/informe/").content.decode()
    api = api_client.get("/api/study/report/").json()["awards"]["ours"]
    awards_csv = client.get("/informe/estudio.csv").content.decode().replace("\r\n", "\n").split("\n\n")[1]

    assert ours["best_regularizer"] is None
    assert ours["missing"]["best_regularizer"] == expected
    assert f"<td>{expected}</td>" in page
    assert "early_stopping (0,1519)" not in page
    assert api["best_regularizer"] is None
    assert api["missing"]["best_regularizer"] == expected
    regularizer_line = next(line for line in csv.DictReader(io.StringIO(awards_csv)) if line["award"] == "best_regularizer")
    assert regularizer_line == {"award": "best_regularizer", "study": "dropout", "ours": "", "our_value": "", "missing": expected}


def test_best_model_with_one_cnn_trained_names_missing(study):
    _succeeded_run("estudio-cnn_base", accuracy=0.7, val_accuracy=0.6)

    ours = study_report()["awards"]["ours"]

    assert ours["best_model"] is None
    assert ours["missing"]["best_model"] == (
        "faltan ejecuciones: CNN propia (mejorada), ResNet50 (base), ResNet50 (mejorada), "
        "VGG16 con transferencia de aprendizaje (base), VGG16 con transferencia de aprendizaje (mejorada)"
    )
    assert ours["mean_gap_by_table"] == {}
    assert ours["missing"]["mean_gap_by_table"]["cnn"] == "faltan ejecuciones: CNN (5 de 6 filas)"


def test_best_combination_names_missing_rows(study):
    for activation in ("relu", "tanh", "sigmoid"):
        for layers in (1, 2, 3):
            if (activation, layers) != ("tanh", 2):
                _succeeded_run(f"estudio-mlp-sgd-{activation}-{layers}", accuracy=0.6, val_accuracy=0.5)
    for layers in (1, 2, 3):
        _succeeded_run(f"estudio-mlp-adam-relu-{layers}", accuracy=0.6, val_accuracy=0.4 + 0.01 * layers)

    ours = study_report()["awards"]["ours"]

    assert ours["best_combination"] == {}
    assert ours["missing"]["best_combination"]["sgd"] == "faltan ejecuciones: tanh con 2 capas"
    assert ours["missing"]["best_combination"]["adam"] == (
        "faltan ejecuciones: tanh con 1 capa, tanh con 2 capas, tanh con 3 capas, "
        "sigmoide con 1 capa, sigmoide con 2 capas, sigmoide con 3 capas"
    )
    assert ours["missing"]["best_optimizer"] == (
        "faltan ejecuciones: SGD (1 de 9 filas), Adam (6 de 9 filas), RMSprop (9 de 9 filas)"
    )


# Language and CSV for API clients


def test_report_api_source_follows_language(study, api_client):
    spanish = api_client.get("/api/study/report/").json()
    english = api_client.get("/api/study/report/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert spanish["awards"]["study"]["source"] == "Las conclusiones del estudio de referencia, tal como se publicaron."
    assert english["awards"]["study"]["source"] == "The reference study's conclusions, as published."
    assert spanish["awards"]["study"]["best_regularizer_name"] == "Dropout"
    assert english["awards"]["study"]["best_model_name"] == "custom CNN (improved)"


def test_report_page_shows_readable_names(study, client, staff_user):
    client.force_login(staff_user)

    content = client.get("/informe/").content.decode()

    assert "<td>sin regularización</td>" in content
    assert "<td>EarlyStopping</td>" in content
    assert "<td>SGD</td>" in content
    assert "<td>CNN propia (mejorada)</td>" in content
    assert "Mejor combinación con RMSprop" in content
    assert "exactitud de validación (val_accuracy)" in content
    assert "<td>none</td>" not in content
    assert "<td>early_stopping</td>" not in content
    assert "val_accuracy del estudio" not in content


def test_report_csv_through_api_token(study, api_client):
    _succeeded_run("estudio-mlp-sgd-relu-3", accuracy=0.61, val_accuracy=0.5555)

    response = api_client.get("/api/study/report/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="informe-estudio.csv"'
    rows_part = response.content.decode().replace("\r\n", "\n").split("\n\n")[0]
    lines = list(csv.DictReader(io.StringIO(rows_part)))
    assert len(lines) == 51
    row = next(line for line in lines if line["experiment"] == "estudio-mlp-sgd-relu-3")
    assert row["our_val_accuracy"] == "0.5555"
    assert row["study_val_accuracy"] == "0.5802"


def test_report_csv_without_token_is_json_401(study):
    response = APIClient().get("/api/study/report/?format=csv")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == "Las credenciales de autenticación no se proveyeron."
