"""Settings fallbacks, process hygiene and the compose file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _run_python(code: str, **environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_without_database_url_sqlite_uses_wal(tmp_path):
    output = _run_python(
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "cursor = connection.cursor()\n"
        "print(connection.vendor, cursor.execute('PRAGMA journal_mode').fetchone()[0],"
        " cursor.execute('PRAGMA busy_timeout').fetchone()[0])",
        DJANGO_SETTINGS_MODULE="backend.settings",
        ETIQUETADO_DATA_DIR=str(tmp_path),
    )

    assert output.split() == ["sqlite", "wal", "30000"]


def test_broker_falls_back_to_files_without_redis(monkeypatch):
    from backend import settings as service_settings

    monkeypatch.setattr(service_settings, "_redis_answers", lambda host, port: False)

    assert service_settings._default_broker_url() == "filesystem://"


def test_secret_key_is_created_once_per_installation(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    environment = {"DJANGO_SETTINGS_MODULE": "backend.settings", "ETIQUETADO_DATA_DIR": str(tmp_path)}

    first = _run_python(code, **environment)
    second = _run_python(code, **environment)

    assert first == second
    assert len(first.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_django_and_celery_app_do_not_import_tensorflow(tmp_path):
    output = _run_python(
        "import sys, django; django.setup()\n"
        "import workers.tasks, backend.urls\n"
        "from workers import app\n"
        "app.loader.import_default_modules()\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)",
        DJANGO_SETTINGS_MODULE="backend.settings",
        ETIQUETADO_DATA_DIR=str(tmp_path),
    )

    assert output.split() == ["False", "False"]


def test_compose_file_is_valid():
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is not installed; .ci/run installs it with apt-get"

    result = subprocess.run([executable, "config", "-q"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr


def test_compose_file_scales_workers():
    result = subprocess.run(
        ["docker-compose", "config", "--services"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert set(result.stdout.split()) == {"db", "redis", "web", "worker", "labeler", "worker-gpu"}


@pytest.mark.django_db
def test_migrations_are_complete():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
