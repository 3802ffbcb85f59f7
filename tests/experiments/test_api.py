"""The REST API for experiments and runs, without a worker."""

import pytest
from rest_framework.test import APIClient

from backend.experiments.models import Experiment, Run

pytestmark = pytest.mark.django_db


def test_api_requires_token():
    response = APIClient().get("/api/experiments/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Las credenciales de autenticación no se proveyeron."


def test_api_rejects_unknown_token():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = client.get("/api/runs/")

    assert response.status_code == 401
    assert response.json()["detail"] == "Token inválido."


def test_api_answers_english_when_asked():
    response = APIClient().get("/api/experiments/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_api_rejects_non_staff_token(django_user_model):
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user(username="sitio-web", password="clave-de-prueba-9")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = client.get("/api/experiments/")

    assert response.status_code == 403


def test_experiment_create_fills_defaults(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/",
        {"name": "sgd-relu-3", "dataset": small_dataset.pk, "hyperparameters": {"epochs": 3, "optimizer": "sgd"}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["hyperparameters"]["epochs"] == 3
    assert body["hyperparameters"]["hidden_layers"] == 3
    assert body["hyperparameters"]["activation"] == "relu"
    assert Experiment.objects.get(pk=body["id"]).hyperparameters == body["hyperparameters"]


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"activation": "softplus"}, "activation"),
        ({"hidden_layers": 4}, "hidden_layers"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": "64"}, "batch_size"),
        ({"validation_fraction": 0.9}, "validation_fraction"),
        ({"momentum": 0.9}, "momentum"),
    ],
)
def test_experiment_create_rejects_bad_hyperparameters(api_client, small_dataset, hyperparameters, expected):
    response = api_client.post(
        "/api/experiments/",
        {"name": "mala", "dataset": small_dataset.pk, "hyperparameters": hyperparameters},
        format="json",
    )

    assert response.status_code == 400
    message = response.json()["hyperparameters"][0]
    assert expected in message
    assert "inválido" in message or "desconocido" in message
    assert not Experiment.objects.filter(name="mala").exists()


def test_experiment_create_rejects_duplicate_name(api_client, small_dataset):
    payload = {"name": "repetido", "dataset": small_dataset.pk}
    assert api_client.post("/api/experiments/", payload, format="json").status_code == 201

    response = api_client.post("/api/experiments/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["name"] == ["Ya existe un experimento llamado «repetido». Elija otro nombre."]
    assert Experiment.objects.filter(name="repetido").count() == 1


def test_run_queue_then_cancel(api_client, small_dataset):
    experiment = api_client.post("/api/experiments/", {"name": "cola", "dataset": small_dataset.pk}, format="json").json()

    queued = api_client.post(f"/api/experiments/{experiment['id']}/runs/")

    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    run_id = queued.json()["id"]

    cancelled = api_client.post(f"/api/runs/{run_id}/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert Run.objects.get(pk=run_id).finished_at is not None

    again = api_client.post(f"/api/runs/{run_id}/cancel/")

    assert again.status_code == 409
    assert again.json()["detail"] == f"La ejecución {run_id} ya terminó (cancelada) y no se puede cancelar."
    assert again.json()["code"] == "conflict"


def test_run_metrics_empty_before_training(api_client, small_dataset):
    experiment = api_client.post("/api/experiments/", {"name": "metricas", "dataset": small_dataset.pk}, format="json").json()
    run_id = api_client.post(f"/api/experiments/{experiment['id']}/runs/").json()["id"]

    response = api_client.get(f"/api/runs/{run_id}/metrics/")

    assert response.status_code == 200
    assert response.json() == []


def test_unknown_run_is_404_in_spanish(api_client):
    response = api_client.get("/api/runs/999999/")

    assert response.status_code == 404
    assert response.json()["detail"] == "No encontrado."


def test_openapi_schema_lists_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/experiments/" in paths
    assert "/api/experiments/{id}/runs/" in paths
    assert "/api/runs/{id}/cancel/" in paths
    assert "/api/runs/{id}/metrics/" in paths


def test_schema_requires_token():
    response = APIClient().get("/api/schema/")

    assert response.status_code == 401


def test_malformed_json_explained_in_spanish(api_client):
    response = api_client.post("/api/experiments/", data='{"name": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "No se pudo leer el cuerpo de la solicitud. Envíe JSON o datos de formulario válidos.",
        "code": "parse_error",
    }


def test_field_errors_carry_detail_and_code(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/", {"name": "x", "dataset": small_dataset.pk, "hyperparameters": []}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Algunos valores son inválidos. Cada campo indica qué corregir."
    assert body["code"] == "invalid"
    assert body["hyperparameters"] == ['Los hiperparámetros deben ser un objeto JSON, por ejemplo {"epochs": 10}.']


def test_unknown_dataset_id_explained(api_client):
    response = api_client.post("/api/experiments/", {"name": "sin-datos", "dataset": 999999}, format="json")

    assert response.status_code == 400
    assert response.json()["dataset"] == [
        "Ningún conjunto de datos tiene el id 999999. Véalos con GET /api/datasets/."
    ]


def test_run_filter_rejects_non_numeric_experiment(api_client):
    response = api_client.get("/api/runs/?experiment=abc")

    assert response.status_code == 400
    assert response.json()["experiment"] == ["El filtro de experimento debe ser un id numérico, por ejemplo ?experiment=3."]


def test_run_metrics_with_non_numeric_id_is_404(api_client):
    spanish = api_client.get("/api/runs/abc/metrics/")
    english = api_client.get("/api/runs/abc/metrics/", HTTP_ACCEPT_LANGUAGE="en")

    assert spanish.status_code == 404
    assert spanish.json() == {"detail": "No encontrado.", "code": "not_found"}
    assert english.status_code == 404
    assert english.json() == {"detail": "Not found.", "code": "not_found"}


def test_run_metrics_of_unknown_run_is_404(api_client):
    response = api_client.get("/api/runs/999999/metrics/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No encontrado.", "code": "not_found"}


ACCEPTED_EXPERIMENT_FIELDS = "name, description, dataset, family, hyperparameters"


def test_experiment_create_rejects_unknown_fields(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/",
        {"name": "con-extras", "dataset": small_dataset.pk, "foo": 1, "epochs": 5},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Algunos valores son inválidos. Cada campo indica qué corregir."
    assert body["code"] == "invalid"
    assert body["foo"] == [f"«foo» no es un campo conocido. Los campos aceptados son: {ACCEPTED_EXPERIMENT_FIELDS}."]
    assert body["epochs"] == [f"«epochs» no es un campo conocido. Los campos aceptados son: {ACCEPTED_EXPERIMENT_FIELDS}."]
    assert not Experiment.objects.filter(name="con-extras").exists()


def test_experiment_unknown_field_in_english(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/", {"name": "con-extras", "dataset": small_dataset.pk, "foo": 1},
        format="json", HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["foo"] == [f"“foo” is not a known field. The accepted fields are: {ACCEPTED_EXPERIMENT_FIELDS}."]


def test_experiment_unknown_field_reported_with_other_errors(api_client):
    response = api_client.post("/api/experiments/", {"foo": 1}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["name"] == ["Este campo es requerido."]
    assert body["dataset"] == ["Este campo es requerido."]
    assert body["foo"] == [f"«foo» no es un campo conocido. Los campos aceptados son: {ACCEPTED_EXPERIMENT_FIELDS}."]


def test_experiment_create_ignores_read_only_fields(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/",
        {"id": 999999, "created_at": "2020-01-01T00:00:00Z", "name": "copiado", "dataset": small_dataset.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["id"] != 999999
    assert Experiment.objects.get(name="copiado").created_at.year != 2020


def test_experiment_form_post_accepts_csrf_field(api_client, small_dataset):
    response = api_client.post(
        "/api/experiments/",
        {"name": "desde-formulario", "dataset": small_dataset.pk, "csrfmiddlewaretoken": "token-del-formulario"},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert Experiment.objects.filter(name="desde-formulario").exists()


def test_unknown_family_lists_valid_families(api_client, small_dataset):
    payload = {"name": "transformador", "dataset": small_dataset.pk, "family": "transformer"}

    spanish = api_client.post("/api/experiments/", payload, format="json")
    english = api_client.post("/api/experiments/", payload, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert spanish.status_code == 400
    assert spanish.json()["family"] == [
        "«transformer» no es una familia de modelos. Las familias válidas son: mlp, cnn, resnet50, vgg16_transfer, fast_cnn."
    ]
    assert english.status_code == 400
    assert english.json()["family"] == [
        "“transformer” is not a model family. The valid families are: mlp, cnn, resnet50, vgg16_transfer, fast_cnn."
    ]
    assert not Experiment.objects.filter(name="transformador").exists()


@pytest.mark.parametrize(
    ("field", "minimum", "maximum"),
    [("epochs", "1", "1000"), ("batch_size", "1", "8192"), ("early_stopping_patience", "0", "1000")],
)
def test_boolean_is_not_a_whole_number(api_client, small_dataset, field, minimum, maximum):
    response = api_client.post(
        "/api/experiments/",
        {"name": "booleano", "dataset": small_dataset.pk, "hyperparameters": {field: True}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["hyperparameters"] == [
        f"El valor True de {field} es inválido. Use un número entero de {minimum} a {maximum}."
    ]
    assert not Experiment.objects.filter(name="booleano").exists()


@pytest.mark.parametrize("family", Experiment.Family.values)
def test_boolean_epochs_rejected_for_every_family(api_client, small_dataset, family):
    response = api_client.post(
        "/api/experiments/",
        {"name": f"booleano-{family}", "dataset": small_dataset.pk, "family": family, "hyperparameters": {"epochs": True}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["hyperparameters"] == ["El valor True de epochs es inválido. Use un número entero de 1 a 1000."]
