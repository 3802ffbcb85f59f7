"""Celery tasks: thin glue that passes ids to the backend's services.

A task takes an id and re-reads the database, so a redelivered message acts on
the current state. Training is acknowledged late and rejected when its worker
dies, so the broker hands the run to another worker, which resumes it from the
last epoch's checkpoint.
"""

import logging

from celery import shared_task
from django.conf import settings

from backend.datasets.services import dataset_import_execute
from backend.experiments.services import run_evaluation_compute, run_execute
from backend.labeling.services import labeling_job_execute

logger = logging.getLogger(__name__)


def _late_ack_task(*, name: str, time_limit: int, soft_time_limit: int, bind: bool = False):
    """Declare a task that is acknowledged late and handed out again when its worker dies."""
    return shared_task(
        name=name,
        bind=bind,
        acks_late=True,
        reject_on_worker_lost=True,
        time_limit=time_limit,
        soft_time_limit=soft_time_limit,
    )


@_late_ack_task(
    name="workers.tasks.train_run",
    bind=True,
    time_limit=settings.RUN_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.RUN_SOFT_TIME_LIMIT_SECONDS,
)
def train_run(self, run_id: int) -> None:
    run_execute(run_id=run_id, worker_hostname=self.request.hostname)


@_late_ack_task(
    name="workers.tasks.import_dataset",
    time_limit=settings.DATASET_IMPORT_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.DATASET_IMPORT_TIME_LIMIT_SECONDS - 30,
)
def import_dataset(dataset_id: int) -> None:
    dataset_import_execute(dataset_id=dataset_id)


@_late_ack_task(
    name="workers.tasks.label_job",
    time_limit=settings.LABELING_JOB_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.LABELING_JOB_TIME_LIMIT_SECONDS - 10,
)
def label_job(job_id: int) -> None:
    labeling_job_execute(job_id=job_id)


@_late_ack_task(
    name="workers.tasks.evaluate_run",
    time_limit=settings.DATASET_IMPORT_TIME_LIMIT_SECONDS,
    soft_time_limit=settings.DATASET_IMPORT_TIME_LIMIT_SECONDS - 30,
)
def evaluate_run(run_id: int) -> None:
    run_evaluation_compute(run_id=run_id)
