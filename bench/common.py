"""Steps the benchmark scripts share: Django in a data folder of its own, a worker, a run followed to its end."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz"


def django_setup(data_dir: Path | None) -> Path:
    """Point the service at ``data_dir`` (default: a new temporary folder), set Django up and migrate.

    Unless CELERY_BROKER_URL is set, the broker is kombu's filesystem transport in
    that folder: a worker of another service on the same Redis could otherwise take
    the benchmark's tasks, and the benchmark's worker theirs.
    """
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="etiquetado-bench-"))
    os.environ["ETIQUETADO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("CELERY_BROKER_URL", "filesystem://")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    sys.path.insert(0, str(REPO_ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def staff_api_client():
    """Return a REST framework test client signed in with a staff user's token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def start_worker(queues: str = "training") -> subprocess.Popen:
    """Start one Celery worker process on ``queues`` with this process's settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "--queues", queues,
         "--concurrency", "1", "--hostname", f"bench-{os.getpid()}@%h", "--loglevel", "WARNING"],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
    )


def follow_run(run_id: int):
    """Print each epoch of a run as the worker stores it; return the run once it has finished."""
    from backend.experiments.models import Run

    seen_epochs = 0
    while True:
        run = Run.objects.get(pk=run_id)
        for row in run.epochs.filter(epoch__gt=seen_epochs):
            print(
                f"epoch {row.epoch:3d}: accuracy {row.accuracy:.4f} loss {row.loss:.4f} "
                f"val_accuracy {row.val_accuracy:.4f} val_loss {row.val_loss:.4f} {row.seconds:.1f} s",
                flush=True,
            )
            seen_epochs = row.epoch
        if run.is_finished and run.finished_at:
            return run
        time.sleep(1)


def train_through_worker(client, experiment_id: int):
    """Start a worker, queue a run of the experiment through the API, follow it, and stop the worker.

    Returns the finished run.
    """
    worker = start_worker()
    try:
        response = client.post(f"/api/experiments/{experiment_id}/runs/")
        return follow_run(response.json()["id"])
    finally:
        worker.terminate()
        worker.wait(timeout=60)
