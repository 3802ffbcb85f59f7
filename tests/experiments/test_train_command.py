"""``manage.py train``: training in the foreground, without a worker."""

import io

import pytest
from django.core.management import CommandError, call_command

from backend.experiments.models import EpochMetric, Run
from backend.experiments.services import experiment_create

pytestmark = pytest.mark.django_db


def test_train_command_trains_and_reports(small_dataset):
    experiment = experiment_create(
        name="primer-plano", dataset=small_dataset, hyperparameters={"epochs": 2, "hidden_layers": 1}
    )
    output = io.StringIO()

    call_command("train", "primer-plano", stdout=output, verbosity=0)

    run = Run.objects.get(experiment=experiment)
    assert run.status == Run.Status.SUCCEEDED
    assert run.epochs_run == 2
    assert list(EpochMetric.objects.filter(run=run).values_list("epoch", flat=True)) == [1, 2]
    assert run.worker_hostname
    assert f"La ejecución {run.pk} terminó bien: exactitud de prueba {run.test_accuracy:.4f}, 2 épocas" in output.getvalue()


def test_train_command_unknown_experiment():
    with pytest.raises(CommandError) as raised:
        call_command("train", "no-existe", stdout=io.StringIO())

    assert str(raised.value) == (
        "Ningún experimento se llama o tiene el id «no-existe». Véalos en la administración o con GET /api/experiments/."
    )


def test_train_command_interrupt_cancels_run(small_dataset, monkeypatch):
    from backend.experiments.management.commands import train

    experiment = experiment_create(name="interrumpida", dataset=small_dataset, hyperparameters={"epochs": 1})

    def interrupted(**kwargs):
        Run.objects.filter(pk=kwargs["run_id"]).update(status=Run.Status.RUNNING)
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "run_execute", interrupted)

    with pytest.raises(CommandError) as raised:
        call_command("train", "interrumpida", stdout=io.StringIO())

    run = Run.objects.get(experiment=experiment)
    assert str(raised.value) == f"La ejecución {run.pk} se interrumpió y quedó cancelada."
    assert run.status == Run.Status.CANCELLED
    assert run.finished_at is not None
    assert run.error.startswith("El entrenamiento se interrumpió en la terminal")
