"""The Spanish admin: experiment form, grid, queue and cancel actions."""

import pytest

from backend.experiments.models import Experiment, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_admin_index_speaks_spanish(staff_client):
    response = staff_client.get("/admin/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Experimentos" in text
    assert "Conjuntos de datos" in text
    assert "Ejecuciones" in text


def test_admin_experiment_form_stores_hyperparameters(staff_client, small_dataset):
    response = staff_client.post(
        "/admin/experiments/experiment/add/",
        {
            "name": "desde-admin",
            "description": "",
            "dataset": small_dataset.pk,
            "family": "mlp",
            "hidden_layers": 2,
            "activation": "tanh",
            "optimizer": "adam",
            "learning_rate": "",
            "epochs": 7,
            "batch_size": 128,
            "validation_fraction": 0.1,
            "dropout_rate": 0.3,
            "early_stopping_monitor": "val_loss",
            "early_stopping_patience": 5,
            "restore_best_weights": "on",
            "seed": 4,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    experiment = Experiment.objects.get(name="desde-admin")
    assert experiment.hyperparameters["hidden_layers"] == 2
    assert experiment.hyperparameters["activation"] == "tanh"
    assert experiment.hyperparameters["optimizer"] == "adam"
    assert experiment.hyperparameters["learning_rate"] is None
    assert experiment.hyperparameters["dropout_rate"] == 0.3
    assert experiment.hyperparameters["early_stopping"] is False
    assert experiment.hyperparameters["seed"] == 4


def test_admin_experiment_form_rejects_bad_value(staff_client, small_dataset):
    response = staff_client.post(
        "/admin/experiments/experiment/add/",
        {
            "name": "mala", "dataset": small_dataset.pk, "family": "mlp", "hidden_layers": 3,
            "activation": "relu", "optimizer": "sgd", "epochs": 5, "batch_size": 32,
            "validation_fraction": 0.7, "dropout_rate": 0, "early_stopping_monitor": "val_loss",
            "early_stopping_patience": 5, "seed": 0,
        },
    )

    assert response.status_code == 200
    assert "validation_fraction" in response.content.decode()
    assert not Experiment.objects.filter(name="mala").exists()


def test_admin_grid_creates_every_combination(staff_client, small_dataset):
    response = staff_client.post(
        "/admin/experiments/experiment/grid/",
        {
            "name_prefix": "estudio",
            "dataset": small_dataset.pk,
            "optimizers": ["sgd", "adam"],
            "activations": ["relu", "sigmoid"],
            "depths": ["1", "3"],
            "regularizers": ["none", "dropout", "early_stopping"],
            "queue_runs": "on",
            "learning_rate": "",
            "epochs": 4,
            "batch_size": 64,
            "validation_fraction": 0.1,
            "dropout_rate": 0,
            "early_stopping_monitor": "val_loss",
            "early_stopping_patience": 2,
            "restore_best_weights": "on",
            "seed": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    experiments = Experiment.objects.filter(name__startswith="estudio-")
    assert experiments.count() == 2 * 2 * 2 * 3
    assert Run.objects.filter(experiment__in=experiments, status="queued").count() == 24
    dropout = experiments.get(name="estudio-adam-sigmoid-1-dropout").hyperparameters
    assert dropout["dropout_rate"] == 0.2
    assert dropout["early_stopping"] is False
    stopping = experiments.get(name="estudio-sgd-relu-3-early_stopping").hyperparameters
    assert stopping["early_stopping"] is True
    assert stopping["dropout_rate"] == 0.0
    assert stopping["early_stopping_patience"] == 2
    plain = experiments.get(name="estudio-sgd-relu-3-none").hyperparameters
    assert plain["hidden_layers"] == 3
    assert plain["epochs"] == 4


def test_admin_grid_creates_nothing_on_name_clash(staff_client, small_dataset):
    from backend.experiments.services import experiment_create

    experiment_create(name="doble-sgd-relu-1-none", dataset=small_dataset, hyperparameters={})
    data = {
        "name_prefix": "doble", "dataset": small_dataset.pk, "optimizers": ["sgd", "adam"],
        "activations": ["relu"], "depths": ["1"], "regularizers": ["none"], "learning_rate": "",
        "epochs": 4, "batch_size": 64, "validation_fraction": 0.1, "dropout_rate": 0,
        "early_stopping_monitor": "val_loss", "early_stopping_patience": 2, "seed": 0,
    }

    response = staff_client.post("/admin/experiments/experiment/grid/", data)

    assert response.status_code == 200
    assert "Ya existe un experimento llamado «doble-sgd-relu-1-none»" in response.content.decode()
    assert Experiment.objects.filter(name__startswith="doble-").count() == 1


def test_admin_actions_queue_and_cancel(staff_client, small_dataset):
    from backend.experiments.services import experiment_create

    experiment = experiment_create(name="acciones", dataset=small_dataset, hyperparameters={"epochs": 2})

    staff_client.post(
        "/admin/experiments/experiment/",
        {"action": "queue_runs", "_selected_action": [experiment.pk]},
    )
    run = Run.objects.get(experiment=experiment)
    assert run.status == "queued"

    staff_client.post("/admin/experiments/run/", {"action": "cancel_runs", "_selected_action": [run.pk]})

    run.refresh_from_db()
    assert run.status == "cancelled"
    page = staff_client.get(f"/admin/experiments/run/{run.pk}/change/").content.decode()
    assert "cancelada" in page
    assert 'name="_save"' not in page


def test_admin_stays_spanish_for_english_browser(staff_client):
    response = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert "Experimentos" in response.content.decode()


def test_admin_switches_to_english_when_chosen(staff_client):
    staff_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})

    response = staff_client.get("/admin/")

    text = response.content.decode()
    assert "Experiments" in text
    assert "Experimentos" not in text
    assert '<option value="en" selected>' in text


def test_admin_add_page_shows_every_hyperparameter(staff_client, small_dataset):
    from ml.config import MLP_FIELDS

    page = staff_client.get("/admin/experiments/experiment/add/").content.decode()

    for description in MLP_FIELDS:
        assert f'name="{description.name}"' in page, description.name
    assert 'name="hyperparameters_json"' in page
    assert "Hiperparámetros del MLP" in page


def test_admin_edit_page_saves_changed_description(staff_client, small_dataset):
    from backend.experiments.services import experiment_create

    experiment = experiment_create(name="editable", dataset=small_dataset, hyperparameters={"epochs": 4})
    form = staff_client.get(f"/admin/experiments/experiment/{experiment.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({name: form[name].value() for name in form.fields if form[name].value() is not None})
    data["description"] = "nueva descripción"
    data["dataset"] = small_dataset.pk
    data.pop("hyperparameters_json", None)
    data = {name: value for name, value in data.items() if value is not False}

    response = staff_client.post(f"/admin/experiments/experiment/{experiment.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    experiment.refresh_from_db()
    assert experiment.description == "nueva descripción"
    assert experiment.hyperparameters["epochs"] == 4
