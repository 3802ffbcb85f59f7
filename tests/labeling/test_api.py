"""The labeling API through a real worker, with real models trained on real CIFAR-10 images."""

import csv
import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from backend.labeling.models import LabelingJob
from tests.conftest import wait_for
from tests.labeling import corpus
from tests.labeling.conftest import SAMPLES_DIR, sample_bytes

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 30
# The first job of a session loads TensorFlow and the model in the worker.
JOB_SECONDS = 180
SAMPLES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png"]


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _send(client, files: list[tuple[str, bytes]], *, query: str = "", language: str = "es-cl"):
    return client.post(
        f"/api/labels/{query}", {"images": [_upload(name, content) for name, content in files]},
        format="multipart", HTTP_ACCEPT_LANGUAGE=language,
    )


def _label(client, files: list[tuple[str, bytes]], *, query: str = "", language: str = "es-cl") -> dict:
    """Send files and return the finished job's results, waiting past ?wait= when the worker is slow."""
    separator = "&" if query else "?"
    response = _send(client, files, query=f"{query}{separator}wait={WAIT_SECONDS}" if query else f"?wait={WAIT_SECONDS}", language=language)
    assert response.status_code in (200, 202), response.content
    job_id = response.json()["id"]
    wait_for(lambda: LabelingJob.objects.get(pk=job_id).is_finished, seconds=JOB_SECONDS, message=f"labeling job {job_id} did not finish")
    return client.get(f"/api/labels/{job_id}/", HTTP_ACCEPT_LANGUAGE=language).json()


def _direct_top(model_dir, content: bytes, k: int) -> list[tuple[str, float]]:
    from ml.decoding import decode_for_model
    from ml.inference import load_model, predict_proba

    loaded = load_model(model_dir)
    pixels = decode_for_model(content, name="x", input_shape=loaded.input_shape, max_pixels=50_000_000)
    probabilities = predict_proba(loaded, np.expand_dims(pixels, 0))[0]
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(loaded.class_names[index], float(probabilities[index])) for index in order]


def test_api_top_k_equals_direct_prediction(celery_worker, api_client, served_version, trained_models):
    files = [(name, sample_bytes(name)) for name in SAMPLES]

    job = _label(api_client, files, query="?k=4")

    assert job["status"] == "done"
    assert job["model_version"] == 1
    assert [image["name"] for image in job["images"]] == SAMPLES
    for image, (name, content) in zip(job["images"], files, strict=True):
        expected = _direct_top(trained_models["first"], content, 4)
        assert image["status"] == "done", image
        assert image["model_version"] == 1
        assert [score["key"] for score in image["top"]] == [key for key, _ in expected], name
        for score, (_, confidence) in zip(image["top"], expected, strict=True):
            assert score["confidence"] == pytest.approx(confidence, abs=1e-5)


def test_result_has_spanish_and_english_names(celery_worker, api_client, served_version):
    job = _label(api_client, [("chelsea.png", sample_bytes("chelsea.png"))], query="?threshold=0")

    image = job["images"][0]
    names = {score["key"]: (score["name_es"], score["name_en"]) for score in image["top"]}
    spanish = {"airplane": "avión", "automobile": "automóvil", "bird": "pájaro", "cat": "gato", "deer": "ciervo",
               "dog": "perro", "frog": "rana", "horse": "caballo", "ship": "barco", "truck": "camión"}
    assert len(image["top"]) == 3
    for key, (name_es, name_en) in names.items():
        assert name_es == spanish[key]
        assert name_en == key
    assert image["label"] == image["top"][0]["key"]
    assert image["label_name"] == spanish[image["label"]]


def test_threshold_zero_always_labels_and_one_never(celery_worker, api_client, served_version):
    files = [(name, sample_bytes(name)) for name in SAMPLES]

    always = _label(api_client, files, query="?threshold=0")
    never = _label(api_client, files, query="?threshold=1")

    assert [image["label"] for image in always["images"]] == [image["top"][0]["key"] for image in always["images"]]
    assert all(image["reason"] is None for image in always["images"])
    assert [image["label"] for image in never["images"]] == [""] * len(SAMPLES)
    for image in never["images"]:
        assert image["reason"].startswith("No estoy seguro")
        assert image["label_name"] is None


def test_wait_answers_200_with_results(celery_worker, api_client, served_version):
    _label(api_client, [("rocket.jpg", sample_bytes("rocket.jpg"))])  # the worker has the model loaded from here on

    response = _send(api_client, [("rocket.jpg", sample_bytes("rocket.jpg"))], query=f"?wait={WAIT_SECONDS}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["url"].endswith(f"/api/labels/{body['id']}/")


def test_without_wait_answers_202_then_job_finishes(celery_worker, api_client, served_version):
    response = _send(api_client, [("rocket.jpg", sample_bytes("rocket.jpg"))])

    assert response.status_code == 202
    body = response.json()
    assert body["status"] in ("queued", "running", "done")
    job_id = body["id"]
    wait_for(lambda: LabelingJob.objects.get(pk=job_id).is_finished, seconds=JOB_SECONDS, message="job did not finish")
    assert api_client.get(body["url"]).json()["status"] == "done"


BAD_FILES = [
    ("notas.jpg", corpus.NOT_AN_IMAGE, "no es una imagen"),
    ("cortada.jpg", sample_bytes("rocket.jpg")[:4000], "incompleta o dañada"),
    ("vacia.png", b"", "está vacío"),
    ("dibujo.svg", corpus.SVG, "formato SVG"),
    ("foto.heic", corpus.heic_like(), "formato HEIC"),
    ("bomba.png", corpus.png_declaring_size(100_000, 100_000), "no se decodificó"),
]


def test_bad_files_get_own_errors_and_others_are_labeled(celery_worker, api_client, served_version):
    edge_files = [
        ("uno.png", corpus.encode(Image.new("RGB", (1, 1), (40, 90, 200)), "PNG")),
        ("animada.gif", corpus.animated_gif()),
        ("paginas.tiff", corpus.multipage_tiff()),
        ("cmyk.jpg", corpus.cmyk_jpeg()),
        ("16bits.png", corpus.sixteen_bit_png()),
        ("paleta.gif", corpus.transparent_palette_gif()),
        ("girada.jpg", corpus.exif_rotated_jpeg()),
        ("grande.jpg", corpus.large_jpeg(6000, 4000)),
    ]
    files = [(name, content) for name, content, _ in BAD_FILES] + edge_files + [("chelsea.png", sample_bytes("chelsea.png"))]

    job = _label(api_client, files)

    assert job["status"] == "done"
    images = {image["name"]: image for image in job["images"]}
    for name, _, spanish_text in BAD_FILES:
        assert images[name]["status"] == "failed"
        assert spanish_text in images[name]["error"], images[name]["error"]
        assert name in images[name]["error"]
        assert "Traceback" not in images[name]["error"]
        assert images[name]["top"] == []
    for name, _ in edge_files + [("chelsea.png", b"")]:
        assert images[name]["status"] == "done", images[name]
        assert len(images[name]["top"]) == 3


def test_error_messages_in_english_on_request(celery_worker, api_client, served_version):
    job = _label(api_client, [("notas.jpg", corpus.NOT_AN_IMAGE)], language="en")

    assert job["images"][0]["error"] == "The file notas.jpg is not an image. Send an image in one of JPEG, PNG, GIF, WebP, BMP, TIFF."


def test_image_over_byte_limit_is_rejected_alone(celery_worker, api_client, served_version, settings):
    settings.LABELING_MAX_IMAGE_BYTES = 100_000
    big = sample_bytes("chelsea.png")

    job = _label(api_client, [("gato.png", big), ("caballo.png", sample_bytes("horse.png"))])

    assert job["images"][0]["status"] == "failed"
    assert "más que el límite de 97.66 KiB por imagen" in job["images"][0]["error"]
    assert job["images"][1]["status"] == "done"


def test_zip_of_images_is_labeled_image_by_image(celery_worker, api_client, served_version):
    archive = corpus.zip_of([("fotos/gato.png", sample_bytes("chelsea.png")), ("fotos/notas.txt", corpus.NOT_AN_IMAGE)])

    job = _label(api_client, [("fotos.zip", archive), ("cohete.jpg", sample_bytes("rocket.jpg"))])

    assert [image["name"] for image in job["images"]] == ["fotos/gato.png", "fotos/notas.txt", "cohete.jpg"]
    assert [image["status"] for image in job["images"]] == ["done", "failed", "done"]


def test_zip_bomb_is_rejected_and_nothing_stored(celery_worker, api_client, served_version, settings):
    settings.LABELING_MAX_ZIP_EXPANDED_BYTES = 5_000_000

    response = _send(api_client, [("bomba.zip", corpus.zip_bomb(50_000_000))])

    assert response.status_code == 400
    assert response.json()["code"] == "ZipTooLargeError"
    assert "se expande a más de 4.77 MiB" in response.json()["detail"]
    assert LabelingJob.objects.count() == 0


def test_too_many_images_are_rejected(celery_worker, api_client, served_version, settings):
    settings.LABELING_MAX_IMAGES = 3

    response = _send(api_client, [(f"{index}.jpg", sample_bytes("rocket.jpg")) for index in range(4)])

    assert response.status_code == 400
    assert response.json()["detail"] == "La solicitud contiene 4 imágenes, más que el límite de 3 por solicitud. Envíelas en varias solicitudes."
    assert LabelingJob.objects.count() == 0


def test_request_without_images_is_rejected(api_client, served_version):
    response = api_client.post("/api/labels/", {}, format="multipart")

    assert response.status_code == 400
    assert "no contiene imágenes" in response.json()["detail"]


def test_invalid_parameters_are_rejected(api_client):
    response = _send(api_client, [("rocket.jpg", sample_bytes("rocket.jpg"))], query="?threshold=2&k=0")

    assert response.status_code == 400
    assert set(response.json()) >= {"threshold", "k"}


def test_api_token_required(db):
    anonymous = APIClient()

    assert anonymous.post("/api/labels/", {"images": [_upload("a.jpg", b"x")]}, format="multipart").status_code == 401
    assert anonymous.get("/api/labels/1/").status_code == 401
    assert anonymous.get("/api/model-versions/").status_code == 401


def test_switching_back_to_earlier_version(celery_worker, api_client, succeeded_runs, trained_models):
    first = api_client.post("/api/model-versions/", {"run": succeeded_runs["first"].pk}, format="json")
    second = api_client.post("/api/model-versions/", {"run": succeeded_runs["second"].pk}, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    content = sample_bytes("chelsea.png")

    with_second = _label(api_client, [("chelsea.png", content)])
    switched = api_client.post(f"/api/model-versions/{first.json()['id']}/serve/")
    with_first = _label(api_client, [("chelsea.png", content)])

    assert with_second["images"][0]["model_version"] == 2
    assert switched.status_code == 200
    assert switched.json()["is_serving"] is True
    assert with_first["model_version"] == 1
    assert with_first["images"][0]["model_version"] == 1
    expected = _direct_top(trained_models["first"], content, 3)
    assert [score["confidence"] for score in with_first["images"][0]["top"]] == pytest.approx([c for _, c in expected], abs=1e-5)
    versions = api_client.get("/api/model-versions/").json()["results"]
    assert [(version["version"], version["is_serving"]) for version in versions] == [(2, False), (1, True)]


def test_promoting_same_run_twice_conflicts(api_client, succeeded_runs):
    api_client.post("/api/model-versions/", {"run": succeeded_runs["first"].pk}, format="json")

    again = api_client.post("/api/model-versions/", {"run": succeeded_runs["first"].pk}, format="json")

    assert again.status_code == 409
    assert again.json()["detail"] == f"La ejecución {succeeded_runs['first'].pk} ya es la versión del modelo 1. Ponga esa versión en servicio."


def test_request_without_served_model_is_503(api_client, succeeded_runs):
    response = _send(api_client, [("rocket.jpg", sample_bytes("rocket.jpg"))])

    assert response.status_code == 503
    assert response.json()["detail"].startswith("No hay ningún modelo en servicio, así que no se puede etiquetar")
    assert response.json()["code"] == "unavailable"
    assert LabelingJob.objects.count() == 0


def test_job_fails_images_when_model_withdrawn(celery_worker, api_client, served_version):
    from django.db import transaction

    from backend.labeling.models import ModelVersion
    from backend.labeling.services import labeling_job_create

    # The model leaves service in the same transaction, so the worker, which
    # gets the job only after the commit, finds none in service.
    with transaction.atomic():
        job = labeling_job_create(
            uploads=[SimpleUploadedFile("rocket.jpg", sample_bytes("rocket.jpg"))], top_k=3, threshold=0.5
        )
        ModelVersion.objects.update(is_serving=False)
    wait_for(lambda: LabelingJob.objects.get(pk=job.pk).is_finished, seconds=JOB_SECONDS, message="job did not finish")

    body = api_client.get(f"/api/labels/{job.pk}/").json()
    assert body["status"] == "failed"
    assert body["error"].startswith("No hay ningún modelo en servicio")
    assert body["images"][0]["status"] == "failed"
    assert body["images"][0]["error"] == body["error"]


def test_non_staff_token_labels_own_jobs_only(celery_worker, served_version, django_user_model, staff_user):
    from rest_framework.authtoken.models import Token

    site = django_user_model.objects.create_user(username="sitio-gob", password="clave-de-prueba-9")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=site).key}")
    staff_client = APIClient()
    staff_client.force_authenticate(staff_user)

    job = _label(client, [("rocket.jpg", sample_bytes("rocket.jpg"))])
    other = _label(staff_client, [("rocket.jpg", sample_bytes("rocket.jpg"))])

    assert job["status"] == "done"
    assert client.get(f"/api/labels/{job['id']}/").status_code == 200
    assert client.get(f"/api/labels/{other['id']}/").status_code == 404
    assert client.get("/api/model-versions/").status_code == 403


def test_damaged_zip_fails_alone(celery_worker, api_client, served_version):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("gato.png", sample_bytes("chelsea.png"))
    damaged = buffer.getvalue()[: len(buffer.getvalue()) // 2]

    job = _label(api_client, [("roto.zip", damaged), ("coffee.png", sample_bytes("coffee.png"))])

    by_name = {image["name"]: image for image in job["images"]}
    assert by_name["roto.zip"]["status"] == "failed"
    assert by_name["roto.zip"]["error"].startswith("El archivo roto.zip no se pudo leer como .zip")
    assert by_name["coffee.png"]["status"] == "done"


def test_export_csv_and_json(celery_worker, api_client, served_version):
    job = _label(api_client, [("chelsea.png", sample_bytes("chelsea.png")), ("notas.jpg", corpus.NOT_AN_IMAGE)],
                 query="?threshold=0")

    as_csv = api_client.get(f"/api/labels/{job['id']}/export.csv")
    by_format = api_client.get(f"/api/labels/{job['id']}/export/?format=csv")
    as_json = api_client.get(f"/api/labels/{job['id']}/export.json")

    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    assert by_format.content == as_csv.content
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [row["name"] for row in rows] == ["chelsea.png", "notas.jpg"]
    assert rows[0]["label"] == job["images"][0]["label"]
    assert rows[0]["label_es"] == job["images"][0]["label_name"]
    assert float(rows[0]["confidence"]) == pytest.approx(job["images"][0]["top"][0]["confidence"], abs=1e-4)
    assert rows[0]["model_version"] == "1"
    assert rows[1]["status"] == "failed"
    assert "no es una imagen" in rows[1]["message"]
    assert as_json.json()["images"] == job["images"]


def test_health_503_without_model_then_200(db, succeeded_runs):
    from backend.labeling.services import model_version_promote

    client = APIClient()
    before = client.get("/api/health/")
    model_version_promote(run=succeeded_runs["first"])
    after = client.get("/api/health/")

    assert before.status_code == 503
    assert before.json()["components"]["database"]["ready"] is True
    assert before.json()["components"]["broker"]["ready"] is True
    assert before.json()["components"]["model"]["ready"] is False
    assert after.status_code == 200
    assert after.json()["status"] == "ready"
    assert after.json()["components"]["model"]["version"] == 1


def test_label_command_prints_top_classes_in_spanish(served_version, trained_models):
    from django.core.management import call_command

    output = io.StringIO()
    call_command("label", str(SAMPLES_DIR / "chelsea.png"), str(SAMPLES_DIR / "coffee.png"), "--threshold", "0", stdout=output)

    lines = output.getvalue().splitlines()
    expected = _direct_top(trained_models["first"], sample_bytes("chelsea.png"), 3)
    spanish = {"airplane": "avión", "automobile": "automóvil", "bird": "pájaro", "cat": "gato", "deer": "ciervo",
               "dog": "perro", "frog": "rana", "horse": "caballo", "ship": "barco", "truck": "camión"}
    assert lines[0] == "Versión del modelo 1"
    assert lines[1] == f"{SAMPLES_DIR / 'chelsea.png'}: {spanish[expected[0][0]]}"
    assert lines[2].split() == ["1.", spanish[expected[0][0]], f"{expected[0][1]:.4f}"]
    assert len(lines) == 9


def test_label_command_help_prints():
    from django.core.management import load_command_class

    command = load_command_class("backend.labeling", "label")

    help_text = command.create_parser("manage.py", "label").format_help()

    assert "--threshold" in help_text


def test_label_command_fails_on_missing_file(served_version, tmp_path):
    from django.core.management import CommandError, call_command

    output = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("label", str(tmp_path / "no-existe.jpg"), str(SAMPLES_DIR / "coffee.png"), stdout=output)

    assert str(raised.value) == "1 archivos o imágenes no se pudieron etiquetar."
    assert f"{tmp_path / 'no-existe.jpg'}: archivo no encontrado. Revise la ruta." in output.getvalue()
    assert "coffee.png" in output.getvalue()


def test_not_sure_reason_uses_spanish_percentages(db):
    from django.utils import translation

    from backend.labeling.results import not_sure_reason

    predictions = [{"class_name": "automobile", "confidence": 0.395}, {"class_name": "truck", "confidence": 0.2}]

    with translation.override("es-cl"):
        spanish = not_sure_reason(predictions, threshold=0.5)
    with translation.override("en"):
        english = not_sure_reason(predictions, threshold=0.5)

    assert "tiene una confianza de 39,5 %, que no supera el umbral de 50,0 %" in spanish
    assert "has a confidence of 39.5 %, not above the threshold of 50.0 %" in english
