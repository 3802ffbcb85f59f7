"""The 404 and 500 responses: JSON under /api/, HTML pages elsewhere, in the request's language."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.common.urls import FAILURE_MESSAGE

pytestmark = pytest.mark.django_db

SPANISH_API_NOT_FOUND = (
    "La dirección /api/runs/1.5/metrics/ no existe en la API. Revise la dirección y el id que contiene. "
    "GET /api/schema/ describe todas las direcciones."
)


@pytest.fixture
def failing_urls(settings):
    """The service's URLs plus /fallo/ and /api/fallo/, which raise an error."""
    settings.ROOT_URLCONF = "tests.common.urls"


def test_unknown_api_path_is_json_404_in_spanish(api_client):
    response = api_client.get("/api/runs/1.5/metrics/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": SPANISH_API_NOT_FOUND, "code": "not_found"}


def test_unknown_api_path_in_english(api_client):
    response = api_client.get("/api/runs/1.5/metrics/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "The address /api/runs/1.5/metrics/ does not exist in the API. Check the address and the id in it. "
        "GET /api/schema/ describes every address.",
        "code": "not_found",
    }


def test_unknown_api_path_without_token_is_json_404():
    response = Client().get("/api/nada/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"].startswith("La dirección /api/nada/ no existe en la API.")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/runs/abc/"),
        ("get", "/api/runs/abc/metrics/"),
        ("get", "/api/runs/abc/evaluation/"),
        ("post", "/api/runs/abc/evaluation/"),
        ("post", "/api/runs/abc/cancel/"),
        ("get", "/api/experiments/abc/"),
        ("post", "/api/experiments/abc/runs/"),
        ("get", "/api/datasets/abc/"),
        ("get", "/api/labels/abc/"),
        ("get", "/api/labels/abc/export/"),
        ("get", "/api/model-versions/abc/"),
        ("post", "/api/model-versions/abc/serve/"),
    ],
)
def test_non_numeric_id_is_404(api_client, method, url):
    response = getattr(api_client, method)(url)

    assert response.status_code == 404
    assert response.json() == {"detail": "No encontrado.", "code": "not_found"}


def test_unknown_page_is_spanish_html_404():
    response = Client().get("/informe/nada/")

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert '<html lang="es-cl">' in page
    assert "<h1>Página no encontrada</h1>" in page
    assert "<p>La página /informe/nada/ no existe. Revise la dirección.</p>" in page
    assert '<a href="/">Ir a la página de inicio</a>' in page
    assert "Not Found" not in page


def test_unknown_run_page_is_spanish_html_404(client, staff_user):
    client.force_login(staff_user)

    response = client.get("/informe/ejecuciones/999/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Página no encontrada</h1>" in page
    assert "<p>La página /informe/ejecuciones/999/ no existe. Revise la dirección.</p>" in page


def test_unknown_page_in_chosen_english():
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/informe/nada/")

    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Page not found</h1>" in page
    assert "<p>The page /informe/nada/ does not exist. Check the address.</p>" in page
    assert '<a href="/">Go to the start page</a>' in page


def test_unknown_page_escapes_its_address():
    response = Client().get("/informe/<b>nada</b>/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "<b>nada</b>" not in page
    assert "La página /informe/%3Cb%3Enada%3C/b%3E/ no existe." in page


def test_server_error_page_is_spanish_without_traceback(failing_urls):
    response = Client(raise_request_exception=False).get("/fallo/")

    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="es-cl">' in page
    assert "<h1>Error del servidor</h1>" in page
    assert (
        "<p>El servidor no pudo mostrar esta página. Inténtelo de nuevo más tarde y, si vuelve a fallar, "
        "avise a los administradores del servicio.</p>"
    ) in page
    assert FAILURE_MESSAGE not in page
    assert "Traceback" not in page


def test_server_error_in_api_is_json(failing_urls):
    spanish = Client(raise_request_exception=False).get("/api/fallo/")
    english = Client(raise_request_exception=False).get("/api/fallo/", HTTP_ACCEPT_LANGUAGE="en")

    assert spanish.status_code == 500
    assert spanish.json() == {
        "detail": "El servidor no pudo procesar la solicitud. Inténtelo de nuevo más tarde y, si vuelve a fallar, "
        "avise a los administradores del servicio.",
        "code": "server_error",
    }
    assert english.status_code == 500
    assert english.json() == {
        "detail": "The server failed to process the request. Try again later, and if it fails again, "
        "tell the service administrators.",
        "code": "server_error",
    }


def test_debug_keeps_django_technical_404(settings):
    settings.DEBUG = True

    response = Client().get("/informe/nada/")

    assert response.status_code == 404
    assert "Using the URLconf defined in" in response.content.decode()
