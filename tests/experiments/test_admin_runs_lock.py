"""The experiment admin form: family and dataset locks under runs and the catalog, and its JSON message."""

import pytest

from backend.experiments.models import Experiment, Run
from backend.experiments.services import experiment_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _change_data(staff_client, experiment, **changes) -> dict:
    form = staff_client.get(f"/admin/experiments/experiment/{experiment.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["dataset"] = experiment.dataset_id
    data["hyperparameters_json"] = "{}"
    data.update(changes)
    return {name: value for name, value in data.items() if value is not False}


def _post_change(staff_client, experiment, **changes):
    return staff_client.post(f"/admin/experiments/experiment/{experiment.pk}/change/",
                             _change_data(staff_client, experiment, **changes))


def test_family_change_rejected_with_runs(staff_client, small_dataset):
    experiment = experiment_create(name="con-ejecucion", dataset=small_dataset, family="cnn",
                                   hyperparameters={"epochs": 1})
    Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED, epochs_run=1)

    response = _post_change(staff_client, experiment, family="resnet50")

    assert response.status_code == 200
    assert ("El experimento ya tiene ejecuciones entrenadas con esta familia. "
            "Para entrenar otra familia, cree un experimento nuevo.") in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.family == Experiment.Family.CNN


def test_dataset_change_rejected_with_runs(staff_client, small_dataset, small_archive):
    from backend.datasets.services import dataset_import

    other = dataset_import(source=small_archive, name="otro-conjunto")
    experiment = experiment_create(name="con-ejecucion", dataset=small_dataset, family="cnn",
                                   hyperparameters={"epochs": 1})
    Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED, epochs_run=1)

    response = _post_change(staff_client, experiment, dataset=other.pk)

    assert response.status_code == 200
    assert ("El experimento ya tiene ejecuciones entrenadas con este conjunto de datos. "
            "Para entrenar con otro conjunto, cree un experimento nuevo.") in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.dataset_id == small_dataset.pk


def test_family_change_saved_without_runs(staff_client, small_dataset):
    experiment = experiment_create(name="sin-ejecuciones", dataset=small_dataset, family="cnn",
                                   hyperparameters={"epochs": 1})

    response = _post_change(staff_client, experiment, family="resnet50")

    assert response.status_code == 302, response.content.decode()[:3000]
    experiment.refresh_from_db()
    assert experiment.family == Experiment.Family.RESNET50
    assert experiment.hyperparameters["batch_size"] == 64


def test_catalog_experiment_keeps_dataset(staff_client, small_dataset, small_archive):
    from django.core.management import call_command

    from backend.datasets.services import dataset_import

    call_command("load_study", dataset=small_dataset.name)
    other = dataset_import(source=small_archive, name="otro-conjunto")
    experiment = Experiment.objects.get(name="estudio-mlp-sgd-relu-2")

    response = _post_change(staff_client, experiment, dataset=other.pk)

    assert response.status_code == 200
    assert ("Este experimento pertenece al catálogo del estudio, cuyos experimentos se entrenan todos con un "
            "mismo conjunto de datos.") in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.dataset_id == small_dataset.pk


def test_invalid_json_message_is_formal(staff_client, small_dataset):
    experiment = experiment_create(name="json-malo", dataset=small_dataset, family="cnn", hyperparameters={"epochs": 1})

    response = _post_change(staff_client, experiment, hyperparameters_json="{epochs: 1")

    assert response.status_code == 200
    assert "Los hiperparámetros no son un JSON válido. Escriba un objeto como {&quot;epochs&quot;: 10}." in (
        response.content.decode())
    assert "Ingresa" not in response.content.decode()
