"""Input checks shared by the API's serializers."""

import pytest

pytestmark = pytest.mark.django_db


def test_model_version_create_rejects_unknown_field(api_client):
    response = api_client.post("/api/model-versions/", {"run": 999999, "foo": 3}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["foo"] == ["«foo» no es un campo conocido. Los campos aceptados son: run."]
    assert body["run"] == ['Clave primaria "999999" inválida - objeto no existe.']
