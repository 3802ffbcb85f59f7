"""Import image datasets into one arrays file, and load it back.

Accepted sources:

- A folder, .zip, .tar, .tar.gz or .tgz archive with one folder per class
  (``cat/0001.jpg``), optionally split into ``train/<class>/`` and ``test/<class>/``,
  and optionally under one top-level folder (``cifar10-jpeg/train/cat/0001.jpg``).
  Without a test split, a seeded, stratified ``test_fraction`` of each class is held
  out as the test split.
- The official CIFAR-10 python archive (``cifar-10-python.tar.gz``) or its extracted
  ``cifar-10-batches-py`` folder, recognised by its file names.

The result is ``<destination>/arrays.npz``, an uncompressed ``np.savez`` file with
x_train, y_train, x_test, y_test (uint8 N x H x W x 3 images and int64 labels) and
class_names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ml.cifar import find_cifar_layout, read_cifar
from ml.errors import (
    ClassMismatchError,
    ConfigError,
    MixedImageSizesError,
    NoImagesError,
    SourceNotFoundError,
    TooFewClassesError,
    TooFewImagesError,
    gettext_noop,
)
from ml.images import IMAGE_SUFFIXES, decode_image
from ml.sources import Entry, Source, is_hidden, open_source

logger = logging.getLogger(__name__)

ARRAYS_FILE_NAME = "arrays.npz"
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test", "class_names")

# Label order of the official CIFAR-10 release. Class folders with exactly these names
# get these indices, so that label i means the same class as in published results.
CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

TRAIN_FOLDER_NAME = "train"
TEST_FOLDER_NAME = "test"

# Upper bound of the image_size option. 1024 x 1024 x 3 bytes is 3 MiB per image, which
# already limits a dataset to a few thousand images in memory.
MAX_IMAGE_SIZE = 1024

# Number of progress calls for a whole import, so that a caller that writes each one
# to a database is not called once per image.
PROGRESS_STEPS = 200


@dataclass(frozen=True)
class DatasetArrays:
    """Images (uint8, N x H x W x 3), labels (int64, N) and class names of a dataset."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


@dataclass(frozen=True)
class ImportSummary:
    """Outcome of ``import_dataset``."""

    path: Path
    class_names: tuple[str, ...]
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    image_shape: tuple[int, int, int]
    checksum: str
    """sha256 of the arrays file, in hex."""
    test_split: str
    """"archive" when the source had a test split, "held_out" when it was taken from the training images."""


@dataclass(frozen=True)
class _ClassFolders:
    class_names: tuple[str, ...]
    train: dict[str, list[Entry]]
    test: dict[str, list[Entry]] | None


class _ProgressReporter:
    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress
        self._step = max(1, total // PROGRESS_STEPS)
        if progress is not None:
            progress(0, total)

    def advance(self) -> None:
        self.done += 1
        if self._progress is not None and (self.done % self._step == 0 or self.done == self.total):
            self._progress(self.done, self.total)


def _validate_options(image_size: int | None, test_fraction: float) -> None:
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int)
                                   or not 1 <= image_size <= MAX_IMAGE_SIZE):
        raise ConfigError(
            gettext_noop(
                "The image size %(value)s is invalid. Use a whole number of pixels from 1 to %(maximum)s, "
                "or none to keep the size of the images."
            ),
            field="image_size",
            value=repr(image_size),
            maximum=MAX_IMAGE_SIZE,
        )
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError(
            gettext_noop("The test fraction %(value)s is invalid. Use a number above 0 and below 1."),
            field="test_fraction",
            value=repr(test_fraction),
        )


def _strip_common_folders(entries: list[Entry]) -> list[tuple[tuple[str, ...], Entry]]:
    """Drop top-level folders that every file shares, as long as files stay at least two levels deep.

    Files at the top level (a README beside the dataset folder) do not count, because
    only files inside class folders are images.
    """
    paths = [(entry.parts, entry) for entry in entries]
    while True:
        nested = [(parts, entry) for parts, entry in paths if len(parts) >= 2]
        if not nested:
            return paths
        first = nested[0][0][0]
        if first.lower() in (TRAIN_FOLDER_NAME, TEST_FOLDER_NAME):
            return paths
        if not all(len(parts) >= 3 and parts[0] == first for parts, _ in nested):
            return paths
        paths = [(parts[1:], entry) for parts, entry in nested]


def _order_class_names(names: set[str]) -> tuple[str, ...]:
    if names == set(CIFAR10_CLASS_NAMES):
        return CIFAR10_CLASS_NAMES
    return tuple(sorted(names))


def _group_by_class(paths: list[tuple[tuple[str, ...], Entry]]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for parts, entry in paths:
        groups.setdefault(parts[0], []).append(entry)
    for group in groups.values():
        group.sort(key=lambda entry: entry.parts)
    return groups


def _find_class_folders(entries: list[Entry]) -> _ClassFolders:
    visible = [entry for entry in entries if not is_hidden(entry)]
    paths = _strip_common_folders(visible)

    has_splits = any(len(parts) >= 3 and parts[0].lower() == TRAIN_FOLDER_NAME for parts, _ in paths)
    if has_splits:
        train_paths = [(parts[1:], entry) for parts, entry in paths
                       if len(parts) >= 3 and parts[0].lower() == TRAIN_FOLDER_NAME]
        test_paths = [(parts[1:], entry) for parts, entry in paths
                      if len(parts) >= 3 and parts[0].lower() == TEST_FOLDER_NAME]
        ignored = len(paths) - len(train_paths) - len(test_paths)
    else:
        train_paths = [(parts, entry) for parts, entry in paths if len(parts) >= 2]
        test_paths = []
        ignored = len(paths) - len(train_paths)
    if ignored:
        logger.info("Ignoring %d files outside the class folders", ignored)

    class_files = [entry for _, entry in train_paths + test_paths]
    if not any(PurePosixPath(entry.parts[-1]).suffix.lower() in IMAGE_SUFFIXES for entry in class_files):
        raise NoImagesError()

    train = _group_by_class(train_paths)
    test = _group_by_class(test_paths) if test_paths else None
    if len(train) < 2:
        raise TooFewClassesError(count=len(train))
    if test is not None and set(test) != set(train):
        raise ClassMismatchError(
            train_only=", ".join(sorted(set(train) - set(test))) or "-",
            test_only=", ".join(sorted(set(test) - set(train))) or "-",
        )
    return _ClassFolders(class_names=_order_class_names(set(train)), train=train, test=test)


def _hold_out(train: dict[str, list[Entry]], class_names: Sequence[str], *, test_fraction: float,
              seed: int) -> tuple[dict[str, list[Entry]], dict[str, list[Entry]]]:
    """Move a seeded random ``test_fraction`` of each class, at least one file, to a test split."""
    random = np.random.default_rng(seed)
    kept: dict[str, list[Entry]] = {}
    held_out: dict[str, list[Entry]] = {}
    for class_name in class_names:
        files = train[class_name]
        if len(files) < 2:
            raise TooFewImagesError(class_name=class_name, count=len(files))

        test_count = min(len(files) - 1, max(1, round(len(files) * test_fraction)))
        test_indices = set(random.permutation(len(files))[:test_count].tolist())
        held_out[class_name] = [entry for index, entry in enumerate(files) if index in test_indices]
        kept[class_name] = [entry for index, entry in enumerate(files) if index not in test_indices]
    return kept, held_out


def _size_text(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def _decode_splits(source: Source, splits: list[list[tuple[Entry, int]]], *, image_size: int | None,
                   progress: Callable[[int, int], None] | None) -> list[np.ndarray]:
    """Decode every file of every split into one preallocated array per split."""
    slots = {entry.order: (split_index, row) for split_index, split in enumerate(splits) for entry, row in split}
    entries = [entry for split in splits for entry, _ in split]
    reporter = _ProgressReporter(len(entries), progress)

    arrays: list[np.ndarray] | None = None
    first_name = ""
    first_shape: tuple[int, ...] = ()
    for entry, content in source.read(entries):
        pixels = decode_image(content, name=entry.name, image_size=image_size)
        if arrays is None:
            first_name, first_shape = entry.name, pixels.shape
            arrays = [np.empty((len(split), *pixels.shape), dtype=np.uint8) for split in splits]
        elif pixels.shape != first_shape:
            raise MixedImageSizesError(first_name=first_name, first_size=_size_text(first_shape),
                                       other_name=entry.name, other_size=_size_text(pixels.shape))

        split_index, row = slots[entry.order]
        arrays[split_index][row] = pixels
        reporter.advance()

    assert arrays is not None, "class folders without files were rejected earlier"
    return arrays


def _read_class_folders(source: Source, *, image_size: int | None, test_fraction: float, seed: int,
                        progress: Callable[[int, int], None] | None) -> tuple[DatasetArrays, str]:
    folders = _find_class_folders(source.entries)
    class_names = folders.class_names

    if folders.test is None:
        train, test = _hold_out(folders.train, class_names, test_fraction=test_fraction, seed=seed)
        test_split = "held_out"
    else:
        train, test = folders.train, folders.test
        test_split = "archive"

    splits: list[list[tuple[Entry, int]]] = []
    labels: list[np.ndarray] = []
    for groups in (train, test):
        files = [(entry, label) for label, class_name in enumerate(class_names) for entry in groups[class_name]]
        splits.append([(entry, row) for row, (entry, _) in enumerate(files)])
        labels.append(np.array([label for _, label in files], dtype=np.int64))

    x_train, x_test = _decode_splits(source, splits, image_size=image_size, progress=progress)
    arrays = DatasetArrays(x_train=x_train, y_train=labels[0], x_test=x_test, y_test=labels[1],
                           class_names=class_names)
    return arrays, test_split


def _read_source(source_path: Path, *, image_size: int | None, test_fraction: float, seed: int,
                 progress: Callable[[int, int], None] | None) -> tuple[DatasetArrays, str]:
    with open_source(source_path) as source:
        cifar_layout = find_cifar_layout([entry for entry in source.entries if not is_hidden(entry)])
        if cifar_layout is not None:
            x_train, y_train, x_test, y_test, class_names = read_cifar(
                source, cifar_layout, image_size=image_size, progress=progress)
            arrays = DatasetArrays(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                                   class_names=class_names)
            return arrays, "archive"

        return _read_class_folders(source, image_size=image_size, test_fraction=test_fraction, seed=seed,
                                   progress=progress)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_arrays(arrays: DatasetArrays, path: Path) -> None:
    """Write the arrays file through a temporary file in the same folder, then rename it into place."""
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=".arrays-", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(
                file,
                x_train=arrays.x_train,
                y_train=arrays.y_train,
                x_test=arrays.x_test,
                y_test=arrays.y_test,
                class_names=np.array(arrays.class_names, dtype=str),
            )
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise


def _prepare_destination(destination: Path) -> bool:
    """Create ``destination`` and return True, or return False when it already exists empty."""
    if destination.exists():
        if not destination.is_dir() or any(destination.iterdir()):
            raise FileExistsError(f"Import destination {destination} exists and is not an empty folder")
        return False
    destination.mkdir(parents=True)
    return True


def _remove_import(destination: Path, *, created: bool) -> None:
    if created:
        shutil.rmtree(destination, ignore_errors=True)
        return
    for child in destination.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def import_dataset(source: Path, destination: Path, *, image_size: int | None = None, test_fraction: float = 0.2,
                   seed: int = 0, progress: Callable[[int, int], None] | None = None) -> ImportSummary:
    """Decode every image of ``source`` into ``destination/arrays.npz``.

    ``destination`` must not exist or must be an empty folder. On any error, the files
    this call created are removed before the error propagates, so no half-imported
    dataset stays behind. ``progress(done, total)`` is called about PROGRESS_STEPS times.
    ``image_size`` resizes every image to image_size x image_size (see ml.images).
    ``test_fraction`` and ``seed`` apply only to sources without a test split.

    Raises a DatasetError subclass for problems in the source, ConfigError for an
    invalid image_size or test_fraction, and FileExistsError for a non-empty destination.
    """
    source = Path(source)
    destination = Path(destination)
    _validate_options(image_size, test_fraction)
    if not source.exists():
        # Checked before the destination is created, so that a wrong path leaves nothing behind.
        raise SourceNotFoundError(path=str(source))

    created = _prepare_destination(destination)
    try:
        arrays, test_split = _read_source(source, image_size=image_size, test_fraction=test_fraction, seed=seed,
                                          progress=progress)
        arrays_path = destination / ARRAYS_FILE_NAME
        _write_arrays(arrays, arrays_path)
        checksum = _sha256(arrays_path)
    except BaseException:
        _remove_import(destination, created=created)
        raise

    summary = ImportSummary(
        path=arrays_path,
        class_names=arrays.class_names,
        train_counts=_count_by_class(arrays.y_train, arrays.class_names),
        test_counts=_count_by_class(arrays.y_test, arrays.class_names),
        image_shape=tuple(int(size) for size in arrays.x_train.shape[1:]),
        checksum=checksum,
        test_split=test_split,
    )
    logger.info("Imported %s into %s: %d train and %d test images of shape %s, %d classes, test split %s",
                source.name, arrays_path, len(arrays.y_train), len(arrays.y_test), summary.image_shape,
                len(arrays.class_names), test_split)
    return summary


def _count_by_class(labels: np.ndarray, class_names: tuple[str, ...]) -> dict[str, int]:
    counts = np.bincount(labels, minlength=len(class_names))
    return {class_name: int(count) for class_name, count in zip(class_names, counts)}


def load_arrays(path: Path) -> DatasetArrays:
    """Load an arrays file written by ``import_dataset`` (no pickled objects are accepted)."""
    with np.load(Path(path), allow_pickle=False) as data:
        return DatasetArrays(
            x_train=data["x_train"],
            y_train=data["y_train"],
            x_test=data["x_test"],
            y_test=data["y_test"],
            class_names=tuple(str(name) for name in data["class_names"]),
        )
