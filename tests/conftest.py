"""Fixtures shared by the whole suite: real data, real services, a real worker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import datafiles

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_READY_SECONDS = 120


@pytest.fixture(autouse=True)
def default_language():
    """Start every test in the default language, as a new process would.

    A request in English leaves English active in the thread, which would otherwise
    reach the commands and services that a later test calls directly.
    """
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    """30 training and 10 test images per CIFAR-10 class, copied from the real archive."""
    return datafiles.build_class_folder_subset(
        tmp_path_factory.mktemp("archives") / "cifar-small.tar.gz", train_per_class=30, test_per_class=10
    )


@pytest.fixture(scope="session")
def medium_archive(tmp_path_factory) -> Path:
    """100 training and 10 test images per class: epochs long enough to act during one."""
    return datafiles.build_class_folder_subset(
        tmp_path_factory.mktemp("archives") / "cifar-medium.tar.gz", train_per_class=100, test_per_class=10
    )


@pytest.fixture
def small_dataset(db, small_archive):
    from backend.datasets.services import dataset_import

    return dataset_import(source=small_archive, name="cifar-small")


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(
        username="analista", password="clave-de-prueba-9", is_staff=True, is_superuser=True
    )


@pytest.fixture
def api_client(staff_user) -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=staff_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the test database and the tests' Redis database.

    One prefork child, as in production, so a test can kill it as a worker dies.
    Yields the ``subprocess.Popen`` of the worker's parent process.
    """
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_URL": _test_database_url(),
        "ETIQUETADO_DATA_DIR": str(settings.DATA_DIR),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "workers", "worker",
        "--queues", "training,datasets,labeling", "--concurrency", "1", "--pool", "prefork",
        "--hostname", f"tests-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
        "--loglevel", "INFO",
    ]
    with log_path.open("w") as log:
        worker = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)

    deadline = time.monotonic() + WORKER_READY_SECONDS
    while "ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"The Celery worker did not start. Its log:\n{log_path.read_text()}")
        time.sleep(0.2)

    worker.log_path = log_path
    yield worker

    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def wait_for(condition, *, seconds: float, message: str, interval: float = 0.1):
    """Poll ``condition`` until it returns a true value, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message)
