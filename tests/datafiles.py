"""Builders of small dataset sources from the real CIFAR-10 JPEG archive, for tests.

The real archive is ``<repo>/../shared/datasets/cifar10-jpeg.tar.gz`` unless the
ETIQUETADO_SHARED_DIR environment variable names another shared folder. It lists
``cifar10-jpeg/test/<class>/`` first, then ``cifar10-jpeg/train/<class>/``, classes in
label order and files numbered from 0000, so "the first N files" of a class are
0000 to N-1.

Every builder writes only under the ``destination`` it is given and returns the path of
what it built. ``destination`` is a folder to build in, except that an archive builder
given a path that ends in the archive's suffix (``data/small.tar.gz``) writes exactly
that file.
"""

from __future__ import annotations

import io
import os
import pickle
import stat
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

SHARED_DIR_ENV = "ETIQUETADO_SHARED_DIR"

# Official label order of CIFAR-10, written out here so that tests do not trust the
# product's own constant.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

SUBSET_FOLDER_NAME = "cifar10-subset"
CIFAR_PYTHON_FOLDER_NAME = "cifar-10-batches-py"
CIFAR_PYTHON_ARCHIVE_NAME = "cifar-10-python.tar.gz"
CIFAR_TRAIN_BATCH_COUNT = 5

LAYOUTS = ("tar.gz", "tar", "zip", "dir", "flat-dir", "flat-zip")

# Each read of the real archive walks the whole gzip stream (about two seconds), so at
# least this many files per class are kept from one read to serve later requests.
_MIN_CACHED_PER_CLASS = 40

_cache: dict[str, dict[str, list[tuple[str, bytes]]]] = {}
_cached_counts = {"train": 0, "test": 0}


def shared_dir() -> Path:
    """Return the shared data folder: $ETIQUETADO_SHARED_DIR, else ``shared`` beside the repository root."""
    from_environment = os.environ.get(SHARED_DIR_ENV)
    if from_environment:
        return Path(from_environment).resolve()
    return (Path(__file__).resolve().parents[1] / ".." / "shared").resolve()


def real_archive_path() -> Path:
    """Return the path of the real CIFAR-10 JPEG archive."""
    return shared_dir() / "datasets" / "cifar10-jpeg.tar.gz"


def _load_real_jpegs(train_per_class: int, test_per_class: int) -> None:
    requested_counts = {
        "train": max(train_per_class, _cached_counts["train"], _MIN_CACHED_PER_CLASS),
        "test": max(test_per_class, _cached_counts["test"], _MIN_CACHED_PER_CLASS),
    }
    files: dict[str, dict[str, list[tuple[str, bytes]]]] = {
        split: {class_name: [] for class_name in CIFAR10_CLASSES} for split in ("train", "test")
    }

    def complete() -> bool:
        return all(len(files[split][name]) >= requested_counts[split] for split in files for name in CIFAR10_CLASSES)

    with tarfile.open(real_archive_path(), mode="r|gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 4:
                continue
            _, split, class_name, file_name = parts
            class_files = files[split][class_name]
            if len(class_files) < requested_counts[split]:
                class_files.append((file_name, archive.extractfile(member).read()))
                if complete():
                    break

    for split in files:
        for class_name in CIFAR10_CLASSES:
            files[split][class_name].sort()
    _cache.update(files)
    _cached_counts.update(requested_counts)


def real_jpegs(split: str, class_name: str, count: int) -> list[tuple[str, bytes]]:
    """Return ``(file name, JPEG bytes)`` of the first ``count`` real images of one class and split."""
    if count > _cached_counts[split]:
        _load_real_jpegs(count if split == "train" else 0, count if split == "test" else 0)
    return _cache[split][class_name][:count]


def decode_jpeg(content: bytes) -> np.ndarray:
    """Decode JPEG bytes with Pillow directly, as a reference for the importer's output."""
    with Image.open(io.BytesIO(content)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _subset_files(*, train_per_class: int, test_per_class: int, classes: Sequence[str],
                  flat: bool) -> list[tuple[str, bytes]]:
    """Return ``(relative path, bytes)`` of a subset, with or without train/test folders."""
    files = []
    for class_name in classes:
        for file_name, content in real_jpegs("train", class_name, train_per_class):
            path = f"{class_name}/{file_name}" if flat else f"{SUBSET_FOLDER_NAME}/train/{class_name}/{file_name}"
            files.append((path, content))
        for file_name, content in real_jpegs("test", class_name, test_per_class):
            # Without split folders, test files get a prefix so that names stay unique.
            path = f"{class_name}/test-{file_name}" if flat else f"{SUBSET_FOLDER_NAME}/test/{class_name}/{file_name}"
            files.append((path, content))
    return files


def write_tar(path: Path, files: Sequence[tuple[str, bytes]], *, mode: str = "w:gz") -> Path:
    """Write regular files ``(name, bytes)`` into a tar archive, names used verbatim."""
    with tarfile.open(path, mode=mode) as archive:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    return path


def write_zip(path: Path, files: Sequence[tuple[str, bytes]]) -> Path:
    """Write regular files ``(name, bytes)`` into a zip archive, names used verbatim."""
    with zipfile.ZipFile(path, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return path


def write_folder(root: Path, files: Sequence[tuple[str, bytes]]) -> Path:
    """Write files ``(relative path, bytes)`` under ``root``."""
    for name, content in files:
        file_path = root / name
        file_path.parent.mkdir(parents=True, exist_ok=True)
        file_path.write_bytes(content)
    return root


def _archive_path(destination: Path, suffix: str, default_name: str) -> Path:
    """Return ``destination`` when it names an archive with ``suffix``, else ``destination/default_name``."""
    if destination.name.endswith(suffix):
        destination.parent.mkdir(parents=True, exist_ok=True)
        return destination
    destination.mkdir(parents=True, exist_ok=True)
    return destination / default_name


def build_class_folder_subset(destination: Path, *, train_per_class: int, test_per_class: int,
                              classes: Sequence[str] | None = None, layout: str = "tar.gz") -> Path:
    """Copy the first N real JPEGs per class into a new source in ``destination``.

    Layouts "tar.gz", "tar", "zip" and "dir" contain ``cifar10-subset/train/<class>/``
    and ``cifar10-subset/test/<class>/``. "flat-dir" and "flat-zip" contain only
    ``<class>/`` folders, with the test images named ``test-NNNN.jpg`` beside the
    training ones.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout {layout!r}, expected one of {LAYOUTS}")
    flat = layout.startswith("flat-")
    files = _subset_files(train_per_class=train_per_class, test_per_class=test_per_class,
                          classes=tuple(classes or CIFAR10_CLASSES), flat=flat)

    if layout == "tar.gz":
        return write_tar(_archive_path(destination, ".tar.gz", f"{SUBSET_FOLDER_NAME}.tar.gz"), files, mode="w:gz")
    if layout == "tar":
        return write_tar(_archive_path(destination, ".tar", f"{SUBSET_FOLDER_NAME}.tar"), files, mode="w")
    if layout in ("zip", "flat-zip"):
        return write_zip(_archive_path(destination, ".zip", f"{SUBSET_FOLDER_NAME}.zip"), files)
    destination.mkdir(parents=True, exist_ok=True)
    if layout == "dir":
        write_folder(destination, files)
        return destination / SUBSET_FOLDER_NAME
    return write_folder(destination / SUBSET_FOLDER_NAME, files)


def cifar_reference_arrays(*, train_per_class: int,
                           test_per_class: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode the images that ``build_cifar_python_archive`` packs, in the same order.

    The order is round-robin over classes (airplane 0000, automobile 0000, ...,
    airplane 0001, ...), so that every batch mixes classes like the official one.
    """
    splits = []
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        images, labels = [], []
        for index in range(per_class):
            for label, class_name in enumerate(CIFAR10_CLASSES):
                _, content = real_jpegs(split, class_name, per_class)[index]
                images.append(decode_jpeg(content))
                labels.append(label)
        splits.append((np.stack(images), np.array(labels, dtype=np.int64)))
    (x_train, y_train), (x_test, y_test) = splits
    return x_train, y_train, x_test, y_test


def _batch_pickle(images: np.ndarray, labels: np.ndarray, batch_label: str) -> bytes:
    # Channel-last N x 32 x 32 x 3 to the format's N x 3072 rows: red plane, green, blue.
    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), -1))
    batch = {
        b"batch_label": batch_label.encode("ascii"),
        b"labels": [int(label) for label in labels],
        b"data": data,
        b"filenames": [f"image_{index:05d}.png".encode("ascii") for index in range(len(images))],
    }
    return pickle.dumps(batch, protocol=2)


def cifar_python_files(*, train_per_class: int, test_per_class: int) -> list[tuple[str, bytes]]:
    """Return the files of a CIFAR-10 python folder as ``(name inside the folder, bytes)``."""
    x_train, y_train, x_test, y_test = cifar_reference_arrays(train_per_class=train_per_class,
                                                              test_per_class=test_per_class)
    meta = {
        b"num_cases_per_batch": int(np.ceil(len(y_train) / CIFAR_TRAIN_BATCH_COUNT)),
        b"label_names": [name.encode("ascii") for name in CIFAR10_CLASSES],
        b"num_vis": 3072,
    }
    files = [("batches.meta", pickle.dumps(meta, protocol=2))]

    batch_indices = np.array_split(np.arange(len(y_train)), CIFAR_TRAIN_BATCH_COUNT)
    for number, indices in enumerate(batch_indices, start=1):
        label = f"training batch {number} of {CIFAR_TRAIN_BATCH_COUNT}"
        files.append((f"data_batch_{number}", _batch_pickle(x_train[indices], y_train[indices], label)))
    files.append(("test_batch", _batch_pickle(x_test, y_test, "testing batch 1 of 1")))
    files.append(("readme.html", b"<html><body>CIFAR-10 subset for tests</body></html>\n"))
    return files


def build_cifar_python_archive(destination: Path, *, train_per_class: int, test_per_class: int,
                               as_folder: bool = False) -> Path:
    """Build a small source in the official CIFAR-10 python format from the real JPEGs.

    Returns ``destination/cifar-10-python.tar.gz`` (or ``destination`` itself when it
    ends in .tar.gz) containing ``cifar-10-batches-py/``, or with ``as_folder`` the folder
    ``destination/cifar-10-batches-py``. Batches are
    pickled with protocol 2 like the original; the training images are split over
    data_batch_1 to data_batch_5. ``cifar_reference_arrays`` returns the same images.
    """
    files = [(f"{CIFAR_PYTHON_FOLDER_NAME}/{name}", content)
             for name, content in cifar_python_files(train_per_class=train_per_class, test_per_class=test_per_class)]
    if as_folder:
        destination.mkdir(parents=True, exist_ok=True)
        write_folder(destination, files)
        return destination / CIFAR_PYTHON_FOLDER_NAME
    return write_tar(_archive_path(destination, ".tar.gz", CIFAR_PYTHON_ARCHIVE_NAME), files, mode="w:gz")


def _two_class_files(per_class: int = 3) -> list[tuple[str, bytes]]:
    return _subset_files(train_per_class=per_class, test_per_class=0, classes=("cat", "dog"), flat=True)


def build_truncated_tar_gz(destination: Path) -> Path:
    """Build a real subset .tar.gz and keep only the first half of its bytes."""
    destination.mkdir(parents=True, exist_ok=True)
    complete = build_class_folder_subset(destination / "complete", train_per_class=5, test_per_class=2)
    content = complete.read_bytes()
    path = destination / "truncated.tar.gz"
    path.write_bytes(content[: len(content) // 2])
    return path


def build_garbage_zip(destination: Path) -> Path:
    """Write text that is not an archive under a .zip name."""
    destination.mkdir(parents=True, exist_ok=True)
    path = destination / "garbage.zip"
    path.write_bytes(b"This file is plain text, not a zip archive.\n" * 50)
    return path


def build_zip_with_parent_entry(destination: Path) -> Path:
    """Build a zip of real class folders plus the entry ``../evil.jpg``."""
    destination.mkdir(parents=True, exist_ok=True)
    files = _two_class_files()
    files.append(("../evil.jpg", files[0][1]))
    return write_zip(destination / "parent-entry.zip", files)


def build_zip_with_symlink(destination: Path) -> Path:
    """Build a zip of real class folders plus an entry whose Unix mode marks a symbolic link."""
    destination.mkdir(parents=True, exist_ok=True)
    path = write_zip(destination / "symlink.zip", _two_class_files())
    with zipfile.ZipFile(path, mode="a") as archive:
        info = zipfile.ZipInfo("cat/link.jpg")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "../../outside.jpg")
    return path


def build_tar_with_absolute_entry(destination: Path) -> Path:
    """Build a .tar.gz of real class folders plus an entry with an absolute name."""
    destination.mkdir(parents=True, exist_ok=True)
    files = _two_class_files()
    files.append(("/evil/cat/absolute.jpg", files[0][1]))
    return write_tar(destination / "absolute-entry.tar.gz", files)


def build_tar_with_link(destination: Path, *, kind: str = "symlink") -> Path:
    """Build a .tar of real class folders plus a "symlink", "hardlink" or "device" entry."""
    destination.mkdir(parents=True, exist_ok=True)
    path = write_tar(destination / f"{kind}-entry.tar", _two_class_files(), mode="w")
    types = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "device": tarfile.CHRTYPE}
    with tarfile.open(path, mode="a") as archive:
        info = tarfile.TarInfo("cat/special.jpg")
        info.type = types[kind]
        if kind != "device":
            info.linkname = "cat/0000.jpg" if kind == "hardlink" else "/outside.jpg"
        archive.addfile(info)
    return path


def build_one_class_archive(destination: Path) -> Path:
    """Build a .tar.gz with real images of one class only."""
    destination.mkdir(parents=True, exist_ok=True)
    return build_class_folder_subset(destination, train_per_class=4, test_per_class=2, classes=("cat",))


def build_no_images_archive(destination: Path) -> Path:
    """Build a .tar.gz of class folders that contain only text files."""
    destination.mkdir(parents=True, exist_ok=True)
    files = [
        ("README.txt", b"Photos will go in the class folders.\n"),
        ("cat/notes.txt", b"No cat photos yet.\n"),
        ("dog/notes.txt", b"No dog photos yet.\n"),
    ]
    return write_tar(destination / "no-images.tar.gz", files)


def _resized_jpeg(content: bytes, side: int) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        resized = image.convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    output = io.BytesIO()
    resized.save(output, format="JPEG", quality=90)
    return output.getvalue()


def build_mixed_sizes_archive(destination: Path, *, per_class: int = 3) -> Path:
    """Build a .tar.gz of real cat and dog images where the dog images are resized to 40x40."""
    destination.mkdir(parents=True, exist_ok=True)
    files = []
    for class_name in ("cat", "dog"):
        for file_name, content in real_jpegs("train", class_name, per_class):
            if class_name == "dog":
                content = _resized_jpeg(content, 40)
            files.append((f"{class_name}/{file_name}", content))
    return write_tar(destination / "mixed-sizes.tar.gz", files)


def build_unreadable_image_archive(destination: Path) -> Path:
    """Build a .tar.gz of real cat and dog images plus ``cat/broken.jpg``, a cut-off real JPEG."""
    destination.mkdir(parents=True, exist_ok=True)
    files = _two_class_files()
    files.append(("cat/broken.jpg", files[0][1][:120]))
    return write_tar(destination / "unreadable.tar.gz", files)


def build_archive_with_hidden_files(destination: Path) -> Path:
    """Build a zip of real cat and dog images plus .DS_Store and __MACOSX/ entries that must be ignored."""
    destination.mkdir(parents=True, exist_ok=True)
    files = _two_class_files()
    files += [
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("cat/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("__MACOSX/cat/._0000.jpg", b"\x00\x05\x16\x07"),
    ]
    return write_zip(destination / "hidden-files.zip", files)
