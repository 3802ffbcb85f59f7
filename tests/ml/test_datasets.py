"""Importing real CIFAR-10 images from every supported source kind, and rejecting bad sources."""

import io
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.datasets import ARRAY_KEYS, PROGRESS_STEPS, import_dataset, load_arrays
from ml.errors import (
    ArchiveCorruptError,
    ClassMismatchError,
    ConfigError,
    InvalidCifarBatchError,
    MixedImageSizesError,
    NoImagesError,
    SourceNotFoundError,
    TooFewClassesError,
    TooFewImagesError,
    UnreadableImageError,
    UnsafeArchiveEntryError,
    UnsupportedSourceError,
)
from tests import datafiles
from tests.datafiles import CIFAR10_CLASSES

TRAIN_PER_CLASS = 6
TEST_PER_CLASS = 3
SPLIT_LAYOUTS = ("tar.gz", "tar", "zip", "dir")
FLAT_LAYOUTS = ("flat-dir", "flat-zip")


def _image_keys(images: np.ndarray) -> list[bytes]:
    return sorted(image.tobytes() for image in images)


def _reference_keys(class_name: str, *, splits: tuple[str, ...]) -> list[bytes]:
    counts = {"train": TRAIN_PER_CLASS, "test": TEST_PER_CLASS}
    images = [datafiles.decode_jpeg(content)
              for split in splits
              for _, content in datafiles.real_jpegs(split, class_name, counts[split])]
    return _image_keys(np.stack(images))


@pytest.mark.parametrize("layout", SPLIT_LAYOUTS)
def test_split_layout_imports_real_images(tmp_path, layout):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS, layout=layout)

    summary = import_dataset(source, tmp_path / "dataset")
    arrays = load_arrays(summary.path)

    assert summary.path == tmp_path / "dataset" / "arrays.npz"
    assert summary.class_names == CIFAR10_CLASSES
    assert arrays.class_names == CIFAR10_CLASSES
    assert summary.test_split == "archive"
    assert summary.image_shape == (32, 32, 3)
    assert summary.train_counts == {name: TRAIN_PER_CLASS for name in CIFAR10_CLASSES}
    assert summary.test_counts == {name: TEST_PER_CLASS for name in CIFAR10_CLASSES}
    assert arrays.x_train.shape == (10 * TRAIN_PER_CLASS, 32, 32, 3)
    assert arrays.x_test.shape == (10 * TEST_PER_CLASS, 32, 32, 3)
    assert arrays.x_train.dtype == np.uint8
    assert arrays.y_train.dtype == np.int64
    assert arrays.y_train.tolist() == [label for label in range(10) for _ in range(TRAIN_PER_CLASS)]
    assert arrays.y_test.tolist() == [label for label in range(10) for _ in range(TEST_PER_CLASS)]


@pytest.mark.parametrize("layout", SPLIT_LAYOUTS)
def test_split_layout_pixels_equal_direct_decode(tmp_path, layout):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS, layout=layout)

    arrays = load_arrays(import_dataset(source, tmp_path / "dataset").path)

    # Rows are ordered by class, then file name: row 3 * 6 + 2 is cat/0002.jpg.
    _, cat_0002 = datafiles.real_jpegs("train", "cat", 3)[2]
    np.testing.assert_array_equal(arrays.x_train[3 * TRAIN_PER_CLASS + 2], datafiles.decode_jpeg(cat_0002))
    _, truck_0000 = datafiles.real_jpegs("test", "truck", 1)[0]
    np.testing.assert_array_equal(arrays.x_test[9 * TEST_PER_CLASS], datafiles.decode_jpeg(truck_0000))
    for label, class_name in enumerate(CIFAR10_CLASSES):
        assert _image_keys(arrays.x_train[arrays.y_train == label]) == _reference_keys(class_name, splits=("train",))


@pytest.mark.parametrize("layout", FLAT_LAYOUTS)
def test_flat_layout_holds_out_test_split(tmp_path, layout):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS, layout=layout)

    summary = import_dataset(source, tmp_path / "dataset", test_fraction=0.2, seed=3)
    arrays = load_arrays(summary.path)

    per_class = TRAIN_PER_CLASS + TEST_PER_CLASS
    held_out = round(per_class * 0.2)
    assert summary.test_split == "held_out"
    assert summary.class_names == CIFAR10_CLASSES
    assert summary.train_counts == {name: per_class - held_out for name in CIFAR10_CLASSES}
    assert summary.test_counts == {name: held_out for name in CIFAR10_CLASSES}
    for label, class_name in enumerate(CIFAR10_CLASSES):
        both_splits = np.concatenate([arrays.x_train[arrays.y_train == label], arrays.x_test[arrays.y_test == label]])
        assert _image_keys(both_splits) == _reference_keys(class_name, splits=("train", "test"))


def test_held_out_split_depends_on_seed(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS, layout="flat-dir")

    first = load_arrays(import_dataset(source, tmp_path / "first", seed=1).path)
    again = load_arrays(import_dataset(source, tmp_path / "again", seed=1).path)
    other = load_arrays(import_dataset(source, tmp_path / "other", seed=2).path)

    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert not np.array_equal(first.x_test, other.x_test)


def test_checksum_is_stable_across_imports(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=TRAIN_PER_CLASS,
                                                 test_per_class=TEST_PER_CLASS, layout="zip")

    first = import_dataset(source, tmp_path / "first")
    second = import_dataset(source, tmp_path / "second")

    assert len(first.checksum) == 64
    assert first.checksum == second.checksum


def test_arrays_file_has_expected_keys(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1)

    summary = import_dataset(source, tmp_path / "dataset")

    with np.load(summary.path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(ARRAY_KEYS)
    assert sorted(os.listdir(tmp_path / "dataset")) == ["arrays.npz"]


def test_existing_empty_destination_is_used(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1)
    destination = tmp_path / "dataset"
    destination.mkdir()

    summary = import_dataset(source, destination)

    assert summary.path.exists()


def test_non_empty_destination_is_rejected(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1)
    destination = tmp_path / "dataset"
    destination.mkdir()
    (destination / "keep.txt").write_text("existing file")

    with pytest.raises(FileExistsError):
        import_dataset(source, destination)

    assert os.listdir(destination) == ["keep.txt"]


def test_progress_is_reported_a_bounded_number_of_times(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=30, test_per_class=10)
    calls = []

    import_dataset(source, tmp_path / "dataset", progress=lambda done, total: calls.append((done, total)))

    total = 10 * (30 + 10)
    assert calls[0] == (0, total)
    assert calls[-1] == (total, total)
    assert len(calls) <= PROGRESS_STEPS + 2
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_class_subset_uses_sorted_names(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=3, test_per_class=2,
                                                 classes=("ship", "cat", "dog"))

    summary = import_dataset(source, tmp_path / "dataset")

    assert summary.class_names == ("cat", "dog", "ship")


def test_image_size_resizes_every_image(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1,
                                                 classes=("cat", "dog"))

    summary = import_dataset(source, tmp_path / "dataset", image_size=24)
    arrays = load_arrays(summary.path)

    _, cat_0000 = datafiles.real_jpegs("train", "cat", 1)[0]
    with Image.open(io.BytesIO(cat_0000)) as image:
        expected = np.asarray(image.convert("RGB").resize((24, 24), Image.Resampling.BICUBIC))
    assert summary.image_shape == (24, 24, 3)
    assert arrays.x_train.shape == (4, 24, 24, 3)
    np.testing.assert_array_equal(arrays.x_train[0], expected)


def test_mixed_sizes_are_rejected_without_image_size(tmp_path):
    source = datafiles.build_mixed_sizes_archive(tmp_path / "source")
    destination = tmp_path / "dataset"

    with pytest.raises(MixedImageSizesError) as caught:
        import_dataset(source, destination)

    assert {caught.value.params["first_size"], caught.value.params["other_size"]} == {"32x32", "40x40"}
    assert not destination.exists()


def test_mixed_sizes_import_with_image_size(tmp_path):
    source = datafiles.build_mixed_sizes_archive(tmp_path / "source")

    summary = import_dataset(source, tmp_path / "dataset", image_size=32)

    assert summary.image_shape == (32, 32, 3)
    assert summary.train_counts["cat"] + summary.test_counts["cat"] == 3


def test_grey_and_transparent_images_become_rgb(tmp_path):
    _, content = datafiles.real_jpegs("train", "horse", 1)[0]
    with Image.open(io.BytesIO(content)) as image:
        rgb = image.convert("RGB")
    grey = rgb.convert("L")
    transparent = rgb.convert("RGBA")
    alpha = np.full((32, 32), 255, dtype=np.uint8)
    alpha[:, :16] = 0
    transparent.putalpha(Image.fromarray(alpha))
    folder = tmp_path / "source"
    (folder / "grey").mkdir(parents=True)
    (folder / "transparent").mkdir()
    for index in range(2):
        grey.save(folder / "grey" / f"{index}.png")
        transparent.save(folder / "transparent" / f"{index}.png")

    arrays = load_arrays(import_dataset(folder, tmp_path / "dataset").path)

    grey_pixels = np.asarray(grey)
    np.testing.assert_array_equal(arrays.x_train[0], np.stack([grey_pixels] * 3, axis=-1))
    transparent_image = arrays.x_train[arrays.y_train == 1][0]
    assert (transparent_image[:, :16] == 255).all()
    np.testing.assert_array_equal(transparent_image[:, 16:], np.asarray(rgb)[:, 16:])


def test_hidden_files_are_ignored(tmp_path):
    source = datafiles.build_archive_with_hidden_files(tmp_path / "source")

    summary = import_dataset(source, tmp_path / "dataset")

    assert summary.class_names == ("cat", "dog")
    assert sum(summary.train_counts.values()) + sum(summary.test_counts.values()) == 6


@pytest.mark.parametrize("as_folder", [False, True], ids=["archive", "folder"])
def test_cifar_python_source_round_trips(tmp_path, as_folder):
    source = datafiles.build_cifar_python_archive(tmp_path / "source", train_per_class=4, test_per_class=2,
                                                  as_folder=as_folder)
    x_train, y_train, x_test, y_test = datafiles.cifar_reference_arrays(train_per_class=4, test_per_class=2)

    summary = import_dataset(source, tmp_path / "dataset")
    arrays = load_arrays(summary.path)

    assert summary.class_names == CIFAR10_CLASSES
    assert summary.test_split == "archive"
    assert summary.train_counts == {name: 4 for name in CIFAR10_CLASSES}
    np.testing.assert_array_equal(arrays.x_train, x_train)
    np.testing.assert_array_equal(arrays.y_train, y_train)
    np.testing.assert_array_equal(arrays.x_test, x_test)
    np.testing.assert_array_equal(arrays.y_test, y_test)


def test_cifar_python_archive_found_by_content(tmp_path):
    built = datafiles.build_cifar_python_archive(tmp_path / "source", train_per_class=2, test_per_class=1)
    renamed = built.rename(built.with_name("downloaded-data.bin"))

    summary = import_dataset(renamed, tmp_path / "dataset")

    assert summary.test_split == "archive"
    assert summary.train_counts["airplane"] == 2


def test_cifar_python_image_size_resizes(tmp_path):
    source = datafiles.build_cifar_python_archive(tmp_path / "source", train_per_class=2, test_per_class=1)

    summary = import_dataset(source, tmp_path / "dataset", image_size=16)

    assert summary.image_shape == (16, 16, 3)


def test_cifar_batch_with_other_globals_is_rejected(tmp_path):
    files = dict(datafiles.cifar_python_files(train_per_class=2, test_per_class=1))
    files["data_batch_1"] = pickle.dumps(OrderedDict({b"data": b"", b"labels": []}), protocol=2)
    folder = datafiles.write_folder(tmp_path / "source", list(files.items()))

    with pytest.raises(InvalidCifarBatchError) as caught:
        import_dataset(folder, tmp_path / "dataset")

    assert caught.value.params["name"] == "data_batch_1"
    assert not (tmp_path / "dataset").exists()


def test_cifar_batch_with_wrong_shape_is_rejected(tmp_path):
    files = dict(datafiles.cifar_python_files(train_per_class=2, test_per_class=1))
    files["test_batch"] = pickle.dumps({b"data": np.zeros((2, 100), dtype=np.uint8), b"labels": [0, 1]}, protocol=2)
    folder = datafiles.write_folder(tmp_path / "source", list(files.items()))

    with pytest.raises(InvalidCifarBatchError):
        import_dataset(folder, tmp_path / "dataset")


BAD_SOURCES = [
    (datafiles.build_truncated_tar_gz, ArchiveCorruptError),
    (datafiles.build_garbage_zip, ArchiveCorruptError),
    (datafiles.build_zip_with_parent_entry, UnsafeArchiveEntryError),
    (datafiles.build_zip_with_symlink, UnsafeArchiveEntryError),
    (datafiles.build_tar_with_absolute_entry, UnsafeArchiveEntryError),
    (datafiles.build_tar_with_link, UnsafeArchiveEntryError),
    (lambda destination: datafiles.build_tar_with_link(destination, kind="hardlink"), UnsafeArchiveEntryError),
    (lambda destination: datafiles.build_tar_with_link(destination, kind="device"), UnsafeArchiveEntryError),
    (datafiles.build_one_class_archive, TooFewClassesError),
    (datafiles.build_no_images_archive, NoImagesError),
    (datafiles.build_mixed_sizes_archive, MixedImageSizesError),
    (datafiles.build_unreadable_image_archive, UnreadableImageError),
]
BAD_SOURCE_IDS = ["truncated-tar-gz", "garbage-zip", "zip-parent-entry", "zip-symlink", "tar-absolute", "tar-symlink",
                  "tar-hardlink", "tar-device", "one-class", "no-images", "mixed-sizes", "unreadable-image"]


@pytest.mark.parametrize(("build", "error_class"), BAD_SOURCES, ids=BAD_SOURCE_IDS)
def test_bad_source_is_rejected_and_cleaned_up(tmp_path, build, error_class):
    source = build(tmp_path / "source")
    destination = tmp_path / "dataset"

    with pytest.raises(error_class):
        import_dataset(source, destination)

    assert not destination.exists()


@pytest.mark.parametrize(("build", "error_class"), BAD_SOURCES, ids=BAD_SOURCE_IDS)
def test_bad_source_leaves_existing_destination_empty(tmp_path, build, error_class):
    source = build(tmp_path / "source")
    destination = tmp_path / "dataset"
    destination.mkdir()

    with pytest.raises(error_class):
        import_dataset(source, destination)

    assert os.listdir(destination) == []


def test_unsafe_entry_error_names_the_entry(tmp_path):
    source = datafiles.build_zip_with_parent_entry(tmp_path / "source")

    with pytest.raises(UnsafeArchiveEntryError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["name"] == "../evil.jpg"


def test_unreadable_image_error_names_the_file(tmp_path):
    source = datafiles.build_unreadable_image_archive(tmp_path / "source")

    with pytest.raises(UnreadableImageError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["name"] == "cat/broken.jpg"


def test_one_class_error_gives_the_count(tmp_path):
    source = datafiles.build_one_class_archive(tmp_path / "source")

    with pytest.raises(TooFewClassesError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["count"] == 1


def test_folder_with_symlink_is_rejected(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1,
                                                 classes=("cat", "dog"), layout="flat-dir")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes((source / "cat" / "0000.jpg").read_bytes())
    (source / "cat" / "link.jpg").symlink_to(outside)

    with pytest.raises(UnsafeArchiveEntryError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["name"] == str(Path("cat") / "link.jpg")
    assert not (tmp_path / "dataset").exists()


def test_folder_with_linked_class_folder_is_rejected(tmp_path):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1,
                                                 classes=("cat", "dog"), layout="flat-dir")
    (source / "bird").symlink_to(source / "cat", target_is_directory=True)

    with pytest.raises(UnsafeArchiveEntryError):
        import_dataset(source, tmp_path / "dataset")


def test_missing_source_is_rejected(tmp_path):
    with pytest.raises(SourceNotFoundError):
        import_dataset(tmp_path / "missing.tar.gz", tmp_path / "dataset")

    assert not (tmp_path / "dataset").exists()


def test_single_image_file_is_unsupported(tmp_path):
    _, content = datafiles.real_jpegs("train", "cat", 1)[0]
    image_path = tmp_path / "cat.jpg"
    image_path.write_bytes(content)

    with pytest.raises(UnsupportedSourceError):
        import_dataset(image_path, tmp_path / "dataset")

    assert not (tmp_path / "dataset").exists()


def test_train_and_test_classes_must_match(tmp_path):
    files = [(f"train/{name}/{file_name}", content)
             for name in ("cat", "dog") for file_name, content in datafiles.real_jpegs("train", name, 2)]
    files += [(f"test/cat/{file_name}", content) for file_name, content in datafiles.real_jpegs("test", "cat", 2)]
    source = datafiles.write_tar(tmp_path / "mismatch.tar.gz", files)

    with pytest.raises(ClassMismatchError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["train_only"] == "dog"


def test_class_with_one_image_cannot_be_held_out(tmp_path):
    files = [(f"{name}/{file_name}", content)
             for name, count in (("cat", 1), ("dog", 3)) for file_name, content in datafiles.real_jpegs("train", name, count)]
    source = datafiles.write_zip(tmp_path / "tiny.zip", files)

    with pytest.raises(TooFewImagesError) as caught:
        import_dataset(source, tmp_path / "dataset")

    assert caught.value.params["class_name"] == "cat"


@pytest.mark.parametrize(("option", "value"), [("image_size", 0), ("image_size", 2.5), ("test_fraction", 0),
                                               ("test_fraction", 1.0)])
def test_invalid_import_options_are_rejected(tmp_path, option, value):
    source = datafiles.build_class_folder_subset(tmp_path / "source", train_per_class=2, test_per_class=1)

    with pytest.raises(ConfigError) as caught:
        import_dataset(source, tmp_path / "dataset", **{option: value})

    assert caught.value.params["field"] == option
    assert not (tmp_path / "dataset").exists()


def test_builders_accept_an_archive_path(tmp_path):
    subset = datafiles.build_class_folder_subset(tmp_path / "archives" / "small.tar.gz", train_per_class=2,
                                                 test_per_class=1)
    cifar = datafiles.build_cifar_python_archive(tmp_path / "cifar-10-python.tar.gz", train_per_class=2,
                                                 test_per_class=1)

    assert subset == tmp_path / "archives" / "small.tar.gz"
    assert subset.is_file()
    assert cifar == tmp_path / "cifar-10-python.tar.gz"
    assert cifar.is_file()
