"""Measure labeling throughput and latency over HTTP, end to end, with real CIFAR-10 images.

Gets a model (trains an MLP on the real archive, or takes ``--run`` or
``--model-dir``) and promotes it. Then it starts gunicorn on 127.0.0.1 and a
Celery worker on the ``labeling`` queue, sends single real test images with
``?wait=`` from 1, 8 and 32 concurrent clients, and prints images per second and
latency percentiles. ``--accuracy`` also labels the 5,000 real test images through the
API and prints their top-1 accuracy next to the run's stored test accuracy.

    .venv/bin/python bench/label_throughput.py [--epochs N] [--run ID | --model-dir PATH]
        [--requests N] [--clients 1,8,32] [--accuracy]

By default it works in a new temporary data folder with its own SQLite
database; set DATABASE_URL to use PostgreSQL, which suits concurrent clients.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# Seconds that one request may wait for its results (the server caps it at LABELING_MAX_WAIT_SECONDS).
WAIT_SECONDS = 30
# Images per request when labeling the whole test split for --accuracy.
ACCURACY_BATCH_IMAGES = 100
SERVER_READY_SECONDS = 60


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz",
                        help="CIFAR-10 JPEG archive (default: the shared one beside the repository).")
    parser.add_argument("--epochs", type=int, default=10, help="Epochs of the MLP trained when no model is given.")
    parser.add_argument("--run", type=int, default=None, help="Id of a succeeded run in DATABASE_URL to promote.")
    parser.add_argument("--model-dir", type=Path, default=None, help="A saved model folder (model.keras + metadata.json).")
    parser.add_argument("--clients", default="1,8,32", help="Concurrent client counts to measure, comma-separated.")
    parser.add_argument("--requests", type=int, default=200, help="Requests sent at each client count.")
    parser.add_argument("--web-threads", type=int, default=16, help="Threads of each of the 2 gunicorn workers.")
    parser.add_argument("--worker-processes", type=int, default=2, help="Celery worker processes on the labeling queue.")
    parser.add_argument("--accuracy", action="store_true", help="Also label the 5,000 test images and print top-1 accuracy.")
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: a new temporary one).")
    return parser.parse_args()


def _test_jpegs(archive: Path) -> list[tuple[str, bytes]]:
    """Return (class name, JPEG bytes) of every test image of the archive, in archive order."""
    images = []
    with tarfile.open(archive, mode="r|gz") as members:
        for member in members:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 4 and parts[1] == "test":
                images.append((parts[2], members.extractfile(member).read()))
    return images


def _multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, content in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _post(base_url: str, token: str, files: list[tuple[str, bytes]], query: str) -> tuple[int, dict, float]:
    body, content_type = _multipart(files)
    request = urllib.request.Request(
        f"{base_url}/api/labels/?{query}", data=body, method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": content_type},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS + 30) as response:
            return response.status, json.loads(response.read()), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, {}, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_server(base_url: str) -> None:
    deadline = time.monotonic() + SERVER_READY_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/api/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"the web server at {base_url} did not become ready")


def _measure(base_url: str, token: str, images: list[tuple[str, bytes]], *, clients: int, requests: int) -> dict:
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()

    def send(index: int) -> None:
        nonlocal failures
        class_name, content = images[index % len(images)]
        status, body, seconds = _post(base_url, token, [(f"{class_name}-{index}.jpg", content)], f"wait={WAIT_SECONDS}")
        with lock:
            if status == 200 and body.get("status") == "done":
                latencies.append(seconds)
            else:
                failures += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(send, range(requests)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    percentile = lambda share: latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {
        "clients": clients, "requests": requests, "failures": failures,
        "images_per_second": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(0.99),
    }


def _accuracy(base_url: str, token: str, images: list[tuple[str, bytes]], class_names: list[str]) -> float:
    correct = 0
    for start in range(0, len(images), ACCURACY_BATCH_IMAGES):
        batch = images[start:start + ACCURACY_BATCH_IMAGES]
        status, body, _ = _post(base_url, token, [(f"{index}.jpg", content) for index, (_, content) in enumerate(batch)],
                                f"wait={WAIT_SECONDS}&k=1&threshold=0")
        if status != 200:
            raise SystemExit(f"labeling the test images failed with HTTP {status}: {body}")
        for (class_name, _), result in zip(batch, body["images"], strict=True):
            correct += result["top"][0]["key"] == class_name
    return correct / len(images)


def _model_run(arguments, data_dir: Path):
    """Return a succeeded Run to promote: the given one, one made for --model-dir, or a new trained one."""
    from django.conf import settings

    from backend.datasets.models import Dataset
    from backend.datasets.services import dataset_import
    from backend.experiments.models import Experiment, Run
    from backend.experiments.services import experiment_create, run_execute

    if arguments.run is not None:
        return Run.objects.get(pk=arguments.run)
    if arguments.model_dir is not None:
        metadata = json.loads((arguments.model_dir / "metadata.json").read_text())
        dataset = Dataset.objects.create(name=f"bench-{uuid.uuid4().hex[:8]}", source=str(arguments.model_dir),
                                         status=Dataset.Status.READY)
        experiment = Experiment.objects.create(name=f"bench-{dataset.pk}", dataset=dataset, hyperparameters={})
        run = Run.objects.create(experiment=experiment, status=Run.Status.SUCCEEDED,
                                 test_accuracy=metadata.get("test_accuracy"))
        destination = Path(settings.ARTIFACTS_ROOT) / "runs" / str(run.pk) / "model"
        shutil.copytree(arguments.model_dir, destination)
        run.model_dir = str(destination.relative_to(settings.ARTIFACTS_ROOT))
        run.save(update_fields=["model_dir"])
        return run

    dataset = dataset_import(source=arguments.archive, name=f"cifar10-{int(time.time())}")
    experiment = experiment_create(name=f"bench-label-{dataset.pk}", dataset=dataset,
                                   hyperparameters={"epochs": arguments.epochs, "hidden_layers": 3})
    run = Run.objects.create(experiment=experiment, hyperparameters=experiment.hyperparameters)
    print(f"training run {run.pk}: MLP, {arguments.epochs} epochs on the real archive, in this process")
    return run_execute(run_id=run.pk)


def main() -> int:
    arguments = _parse_arguments()
    data_dir = arguments.data_dir or Path(tempfile.mkdtemp(prefix="etiquetado-bench-"))
    os.environ["ETIQUETADO_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    sys.path.insert(0, str(REPO_ROOT))

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from backend.labeling.services import model_version_promote

    call_command("migrate", verbosity=0)
    run = _model_run(arguments, data_dir)
    model_version = model_version_promote(run=run)
    print(f"model version {model_version.version}: run {run.pk}, stored test accuracy {run.test_accuracy}")
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    token = Token.objects.get_or_create(user=user)[0].key
    images = _test_jpegs(arguments.archive)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "ETIQUETADO_LOG_LEVEL": "WARNING"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "gunicorn", "backend.wsgi:application", "--bind", f"127.0.0.1:{port}",
                          "--workers", "2", "--worker-class", "gthread", "--threads", str(arguments.web_threads),
                          "--timeout", str(WAIT_SECONDS + 30), "--log-level", "warning"],
                         cwd=REPO_ROOT, env=environment),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers", "worker", "--queues", "labeling",
                          "--concurrency", str(arguments.worker_processes), "--hostname", f"bench-{os.getpid()}@%h",
                          "--loglevel", "WARNING"], cwd=REPO_ROOT, env=environment),
    ]
    try:
        _wait_for_server(base_url)
        # The first job of each worker process loads TensorFlow and the model: not measured.
        for _ in range(arguments.worker_processes * 2):
            _post(base_url, token, [images[0]], f"wait={WAIT_SECONDS}")

        print(f"{len(images)} real test images; {arguments.requests} single-image requests per row, ?wait={WAIT_SECONDS}")
        print("| clients | requests | failed | images/s | p50 ms | p99 ms |")
        print("| --- | --- | --- | --- | --- | --- |")
        for clients in (int(value) for value in arguments.clients.split(",")):
            row = _measure(base_url, token, images, clients=clients, requests=arguments.requests)
            print(f"| {row['clients']} | {row['requests']} | {row['failures']} | {row['images_per_second']:.1f} "
                  f"| {row['p50_ms']:.0f} | {row['p99_ms']:.0f} |")

        if arguments.accuracy:
            accuracy = _accuracy(base_url, token, images, model_version.class_names)
            print(f"top-1 accuracy through the API on {len(images)} test images: {accuracy:.4f}; "
                  f"run {run.pk}'s stored test accuracy: {run.test_accuracy:.4f}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
