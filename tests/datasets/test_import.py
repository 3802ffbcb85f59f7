"""Dataset imports through the command line, the service and the admin."""

import io
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from backend.datasets.models import Dataset
from backend.datasets.services import dataset_import
from tests import datafiles
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db


def _dataset_folders() -> set[Path]:
    root = Path(settings.DATASETS_ROOT)
    return set(root.iterdir()) if root.exists() else set()


def test_import_command_stores_classes_and_counts(small_archive):
    output = io.StringIO()

    call_command("import_dataset", str(small_archive), "--name", "cifar-pequeno", stdout=output, stderr=io.StringIO())

    dataset = Dataset.objects.get(name="cifar-pequeno")
    assert dataset.status == Dataset.Status.READY
    assert dataset.class_names == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    assert dataset.train_counts == {name: 30 for name in dataset.class_names}
    assert dataset.test_counts == {name: 10 for name in dataset.class_names}
    assert dataset.image_shape == [32, 32, 3]
    assert dataset.test_split == "archive"
    assert dataset.arrays_path.is_file()
    assert len(dataset.checksum) == 64
    assert "10 clases, 300 imágenes de entrenamiento y 100 de prueba" in output.getvalue()


def test_import_command_reads_cifar_python_archive(tmp_path):
    archive = datafiles.build_cifar_python_archive(tmp_path / "cifar-10-python.tar.gz", train_per_class=5, test_per_class=2)

    call_command("import_dataset", str(archive), "--name", "cifar-python", stdout=io.StringIO(), stderr=io.StringIO())

    dataset = Dataset.objects.get(name="cifar-python")
    assert dataset.train_size == 50
    assert dataset.test_size == 20
    assert dataset.class_names[3] == "cat"


@pytest.mark.parametrize(
    ("builder", "expected"),
    [
        (datafiles.build_truncated_tar_gz, "dañado"),
        (datafiles.build_garbage_zip, "dañado"),
        (datafiles.build_zip_with_parent_entry, "../"),
        (datafiles.build_tar_with_absolute_entry, "/"),
        (datafiles.build_tar_with_link, "enlace"),
        (datafiles.build_zip_with_symlink, "enlace"),
        (datafiles.build_unreadable_image_archive, "No se pudo leer el archivo cat/broken.jpg"),
        (datafiles.build_one_class_archive, "dos clases"),
        (datafiles.build_no_images_archive, "ninguna imagen"),
        (datafiles.build_mixed_sizes_archive, "tamaño"),
    ],
)
def test_import_command_rejects_bad_archive(tmp_path, builder, expected):
    archive = builder(tmp_path)
    before = _dataset_folders()

    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", str(archive), "--name", "malo", stdout=io.StringIO(), stderr=io.StringIO())

    assert expected in str(raised.value)
    assert not Dataset.objects.filter(name="malo").exists()
    assert _dataset_folders() == before


def test_import_rejects_duplicate_name_and_keeps_first(small_archive):
    first = dataset_import(source=small_archive, name="repetido")

    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", str(small_archive), "--name", "repetido", stdout=io.StringIO(), stderr=io.StringIO())

    assert "Ya existe un conjunto de datos llamado «repetido»" in str(raised.value)
    assert Dataset.objects.get(name="repetido").checksum == first.checksum
    assert first.arrays_path.is_file()


def test_import_missing_path_is_explained(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", str(tmp_path / "no-existe.tar.gz"), stdout=io.StringIO(), stderr=io.StringIO())

    assert "no-existe.tar.gz" in str(raised.value)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_admin_upload_is_imported_by_worker(celery_worker, client, staff_user, small_archive, tmp_path):
    client.force_login(staff_user)
    bad = datafiles.build_tar_with_link(tmp_path)

    with small_archive.open("rb") as good_file, bad.open("rb") as bad_file:
        good = client.post("/admin/datasets/dataset/import/", {"name": "subido", "upload": good_file})
        rejected = client.post("/admin/datasets/dataset/import/", {"name": "con-enlace", "upload": bad_file})

    assert good.status_code == 302
    assert rejected.status_code == 302
    dataset = wait_for(
        lambda: Dataset.objects.filter(name="subido").exclude(status=Dataset.Status.IMPORTING).first(),
        seconds=120,
        message="the uploaded archive was not imported",
    )
    assert dataset.status == Dataset.Status.READY, dataset.error
    assert dataset.progress_done == dataset.progress_total == 400
    failed = wait_for(
        lambda: Dataset.objects.filter(name="con-enlace").exclude(status=Dataset.Status.IMPORTING).first(),
        seconds=120,
        message="the bad upload was not processed",
    )
    assert failed.status == Dataset.Status.FAILED
    assert "enlace" in failed.error
    assert failed.error.startswith("El archivo contiene una entrada insegura")
    assert Path(failed.source).name == bad.name
    assert failed.arrays_file == ""
    assert not any((Path(settings.MEDIA_ROOT) / "dataset-uploads").iterdir())
    page = client.get("/admin/datasets/dataset/").content.decode()
    assert "100 % (400/400)" in page


def test_admin_import_form_rejects_non_archive(client, staff_user, tmp_path):
    client.force_login(staff_user)
    text = tmp_path / "notas.txt"
    text.write_text("no es un archivo comprimido")

    with text.open("rb") as handle:
        response = client.post("/admin/datasets/dataset/import/", {"name": "texto", "upload": handle})

    assert response.status_code == 200
    assert "«notas.txt» no es un archivo .zip, .tar ni .tar.gz" in response.content.decode()
    assert not Dataset.objects.filter(name="texto").exists()


def test_failed_import_name_can_be_reused(small_archive):
    Dataset.objects.create(name="reintento", source="perdido.tar.gz", status=Dataset.Status.FAILED, error="dañado")

    dataset = dataset_import(source=small_archive, name="reintento")

    assert dataset.status == Dataset.Status.READY
    assert Dataset.objects.filter(name="reintento").count() == 1


def test_failed_dataset_status_is_masculine(client, staff_user):
    client.force_login(staff_user)
    Dataset.objects.create(name="roto", source="roto.tar.gz", status=Dataset.Status.FAILED, error="dañado")

    page = client.get("/admin/datasets/dataset/").content.decode()

    assert "fallido" in page
    assert "fallida" not in page
