"""With the broker down, queueing returns a Spanish error and creates no run that would wait forever."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from backend.experiments.models import Run
from backend.experiments.services import experiment_create
from workers.celery import app as celery_app

pytestmark = pytest.mark.django_db

BROKER_DOWN_MESSAGE = ("El broker de mensajes (Redis) no responde, así que no se encoló nada. "
                       "Revise que esté funcionando y vuelva a intentarlo.")


@pytest.fixture
def broker_down(monkeypatch):
    # Port 1 on the loopback refuses connections: a broker that is not running.
    monkeypatch.setitem(celery_app.conf, "broker_write_url", "redis://127.0.0.1:1/0")


def test_run_queue_answers_503_without_run(api_client, small_dataset, broker_down):
    experiment = experiment_create(name="sin-broker", dataset=small_dataset, hyperparameters={"epochs": 1})

    response = api_client.post(f"/api/experiments/{experiment.pk}/runs/")

    assert response.status_code == 503
    assert response.json() == {"detail": BROKER_DOWN_MESSAGE, "code": "unavailable"}
    assert not Run.objects.exists()


def test_run_queue_answers_in_english(api_client, small_dataset, broker_down):
    experiment = experiment_create(name="sin-broker", dataset=small_dataset, hyperparameters={"epochs": 1})

    response = api_client.post(f"/api/experiments/{experiment.pk}/runs/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("The message broker (Redis) does not respond")


def test_queue_study_fails_without_runs(small_dataset, broker_down):
    call_command("load_study", dataset=small_dataset.name)

    with translation.override(settings.LANGUAGE_CODE), pytest.raises(CommandError) as raised:
        call_command("queue_study", part="cnn", yes=True)

    assert str(raised.value) == BROKER_DOWN_MESSAGE
    assert not Run.objects.exists()
