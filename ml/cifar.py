"""Read the official CIFAR-10 python format (cifar-10-python.tar.gz or its extracted folder).

The format is a folder, usually ``cifar-10-batches-py/``, holding ``data_batch_1`` to
``data_batch_5`` (training images), ``test_batch`` and ``batches.meta``. Each batch is a
pickled dict with b"data" (N x 3072 uint8: the 32 x 32 red plane, then green, then
blue, row by row) and b"labels" (N ints). ``batches.meta`` has b"label_names".
The pickles were written by Python 2, so they are read with ``encoding="bytes"``.

Pickle can run arbitrary code, so the unpickler here refuses every global except the
few that a numpy array and Python 3 protocol-2 bytes need. That keeps a crafted batch
from calling anything else. Even so, import only archives from a trusted origin.
"""

from __future__ import annotations

import io
import logging
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.errors import InvalidCifarBatchError, TooFewClassesError
from ml.images import resize_rgb
from ml.sources import Entry, Source

logger = logging.getLogger(__name__)

META_FILE_NAME = "batches.meta"
TEST_BATCH_NAME = "test_batch"
_TRAIN_BATCH_NAME = re.compile(r"^data_batch_(\d+)$")

CIFAR_IMAGE_SIDE = 32
_PIXELS_PER_CHANNEL = CIFAR_IMAGE_SIDE * CIFAR_IMAGE_SIDE

# Globals that a numpy array pickled by numpy 1.x (Python 2) or numpy 2.x needs, and
# _codecs.encode, which Python 3 uses for bytes in pickle protocol 2.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")
        return super().find_class(*target)


@dataclass(frozen=True)
class CifarLayout:
    """The batch files of a CIFAR-10 python folder inside a source."""

    meta: Entry
    train_batches: tuple[Entry, ...]
    test_batch: Entry


def find_cifar_layout(entries: list[Entry]) -> CifarLayout | None:
    """Return the CIFAR-10 batch files among ``entries``, or None when the source is not in that format.

    The format is recognised by its file names (batches.meta, data_batch_N, test_batch
    in one folder), not by the archive's name.
    """
    metas = [entry for entry in entries if entry.parts[-1] == META_FILE_NAME]
    for meta in metas:
        folder = meta.parts[:-1]
        siblings = [entry for entry in entries if entry.parts[:-1] == folder]

        numbered_batches = []
        test_batch = None
        for entry in siblings:
            match = _TRAIN_BATCH_NAME.match(entry.parts[-1])
            if match:
                numbered_batches.append((int(match.group(1)), entry))
            elif entry.parts[-1] == TEST_BATCH_NAME:
                test_batch = entry

        if numbered_batches and test_batch is not None:
            train_batches = tuple(entry for _, entry in sorted(numbered_batches, key=lambda item: item[0]))
            return CifarLayout(meta=meta, train_batches=train_batches, test_batch=test_batch)
    return None


def _unpickle(content: bytes, name: str) -> dict:
    try:
        value = _RestrictedUnpickler(io.BytesIO(content), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise InvalidCifarBatchError(name=name, reason=str(exc) or type(exc).__name__) from exc
    if not isinstance(value, dict):
        raise InvalidCifarBatchError(name=name, reason="not a dict")
    return value


def _read_label_names(content: bytes, name: str) -> tuple[str, ...]:
    meta = _unpickle(content, name)
    label_names = meta.get(b"label_names")
    if not isinstance(label_names, list) or not all(isinstance(label, bytes) for label in label_names):
        raise InvalidCifarBatchError(name=name, reason="label_names is missing or not a list of names")
    return tuple(label.decode("utf-8") for label in label_names)


def _read_batch(content: bytes, name: str, class_count: int) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(content, name)
    data = batch.get(b"data")
    labels = batch.get(b"labels")

    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * _PIXELS_PER_CHANNEL:
        raise InvalidCifarBatchError(name=name, reason="data is not an N x 3072 uint8 array")
    if not isinstance(labels, list) or len(labels) != data.shape[0]:
        raise InvalidCifarBatchError(name=name, reason="labels is not a list with one label per image")

    label_array = np.asarray(labels, dtype=np.int64)
    if label_array.size and (label_array.min() < 0 or label_array.max() >= class_count):
        raise InvalidCifarBatchError(name=name, reason="a label is outside the range of label_names")

    # Channel-major planes (N, 3, 32, 32) to the usual channel-last layout (N, 32, 32, 3).
    images = data.reshape(-1, 3, CIFAR_IMAGE_SIDE, CIFAR_IMAGE_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), label_array


def read_cifar(source: Source, layout: CifarLayout, *, image_size: int | None,
               progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read the train and test images of a CIFAR-10 python folder.

    Returns ``(x_train, y_train, x_test, y_test, class_names)``. class_names keeps
    the order of label_names, so label i is class_names[i]. Progress is reported
    once per batch file, because a batch decodes in one step.
    """
    contents = dict((entry.order, content) for entry, content in
                    source.read([layout.meta, *layout.train_batches, layout.test_batch]))

    class_names = _read_label_names(contents[layout.meta.order], layout.meta.name)
    if len(class_names) < 2:
        raise TooFewClassesError(count=len(class_names))

    batches = [*layout.train_batches, layout.test_batch]
    decoded = []
    for entry in batches:
        decoded.append(_read_batch(contents.pop(entry.order), entry.name, len(class_names)))
    total = sum(len(labels) for _, labels in decoded)

    done = 0
    if progress is not None:
        progress(done, total)
    resized = []
    for images, labels in decoded:
        if image_size is not None and image_size != CIFAR_IMAGE_SIDE:
            resized_images = np.empty((len(images), image_size, image_size, 3), dtype=np.uint8)
            for index, image in enumerate(images):
                resized_images[index] = resize_rgb(image, image_size)
            images = resized_images
        resized.append((images, labels))
        done += len(labels)
        if progress is not None:
            progress(done, total)

    x_train = np.concatenate([images for images, _ in resized[:-1]])
    y_train = np.concatenate([labels for _, labels in resized[:-1]])
    x_test, y_test = resized[-1]
    logger.info("CIFAR-10 python source %s: %d train and %d test images", source.path.name, len(y_train), len(y_test))
    return x_train, y_train, x_test, y_test, class_names
