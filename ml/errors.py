"""Exceptions that the ml package raises for problems a user can cause and fix.

Each message is an English message id with ``%(name)s`` placeholders, marked with
``gettext_noop`` so that Django's ``makemessages`` collects it. The backend shows it
translated: ``gettext(exc.message) % exc.params``.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (ml/ never imports Django)."""
    return message


class MLError(Exception):
    """Base class: an English message id plus the parameters that fill its placeholders."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message, params)

    def __str__(self) -> str:
        return self.message % self.params


class DatasetError(MLError):
    """A dataset source could not be imported."""


class SourceNotFoundError(DatasetError):
    def __init__(self, *, path: str) -> None:
        super().__init__(
            gettext_noop("The dataset source %(path)s was not found. Check the path and try again."),
            path=path,
        )


class UnsupportedSourceError(DatasetError):
    def __init__(self, *, path: str) -> None:
        super().__init__(
            gettext_noop(
                "The dataset source %(path)s is not a folder, a .zip, .tar, .tar.gz or .tgz "
                "archive, or a CIFAR-10 python archive. Provide one of those."
            ),
            path=path,
        )


class ArchiveCorruptError(DatasetError):
    def __init__(self, *, path: str, reason: str) -> None:
        super().__init__(
            gettext_noop(
                "The archive %(path)s could not be read: it is truncated, damaged or not an "
                "archive at all. Create or download it again and import it again."
            ),
            path=path,
            reason=reason,
        )


class InvalidCifarBatchError(DatasetError):
    def __init__(self, *, name: str, reason: str) -> None:
        super().__init__(
            gettext_noop(
                "The CIFAR-10 batch file %(name)s is not in the CIFAR-10 python format "
                "(%(reason)s). Download the official archive again and import it again."
            ),
            name=name,
            reason=reason,
        )


class UnsafeArchiveEntryError(DatasetError):
    def __init__(self, *, name: str) -> None:
        super().__init__(
            gettext_noop(
                "The archive contains an unsafe entry %(name)s (absolute path, '..', link or "
                "device file). Remove it and import again."
            ),
            name=name,
        )


class NoImagesError(DatasetError):
    def __init__(self) -> None:
        super().__init__(
            gettext_noop(
                "The source contains no images. Put the images in one folder per class, "
                "for example cat/0001.jpg and dog/0001.jpg, and import again."
            )
        )


class TooFewClassesError(DatasetError):
    def __init__(self, *, count: int) -> None:
        super().__init__(
            gettext_noop(
                "The source contains %(count)s class folder(s), but at least 2 are needed. "
                "Put the images in one folder per class and import again."
            ),
            count=count,
        )


class TooFewImagesError(DatasetError):
    def __init__(self, *, class_name: str, count: int) -> None:
        super().__init__(
            gettext_noop(
                "The class %(class_name)s contains %(count)s image(s), but at least 2 are "
                "needed to hold one out for testing. Add images to it, or provide train/ and "
                "test/ folders, and import again."
            ),
            class_name=class_name,
            count=count,
        )


class ClassMismatchError(DatasetError):
    def __init__(self, *, train_only: str, test_only: str) -> None:
        super().__init__(
            gettext_noop(
                "The train and test folders contain different classes (only in train: "
                "%(train_only)s; only in test: %(test_only)s). Give both folders the same "
                "class folders and import again."
            ),
            train_only=train_only,
            test_only=test_only,
        )


class MixedImageSizesError(DatasetError):
    def __init__(self, *, first_name: str, first_size: str, other_name: str, other_size: str) -> None:
        super().__init__(
            gettext_noop(
                "The images have different sizes: %(first_name)s is %(first_size)s but "
                "%(other_name)s is %(other_size)s. Import again with an image size "
                "(--image-size on the command line, the image size field in the admin) so "
                "that every image is resized to it."
            ),
            first_name=first_name,
            first_size=first_size,
            other_name=other_name,
            other_size=other_size,
        )


class UnreadableImageError(DatasetError):
    def __init__(self, *, name: str) -> None:
        super().__init__(
            gettext_noop(
                "The file %(name)s is not an image that can be read. Remove it or replace it "
                "with a JPEG or PNG image and import again."
            ),
            name=name,
        )


class ConfigError(MLError):
    """A hyperparameter has an invalid value or name."""


class CheckpointError(MLError):
    """A training checkpoint exists but belongs to a different run."""


class WeightsUnavailableError(MLError):
    """Pretrained weights that a run asks for cannot be downloaded or read."""

    @classmethod
    def missing_file(cls, *, path: str) -> "WeightsUnavailableError":
        return cls(
            gettext_noop(
                "The VGG16 weights file %(path)s does not exist. Put VGG16's ImageNet weights file "
                "(vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5) there or set ETIQUETADO_VGG16_WEIGHTS "
                "to where it is, or set the hyperparameter weights to random."
            ),
            path=path,
        )

    @classmethod
    def unreadable_file(cls, *, path: str) -> "WeightsUnavailableError":
        return cls(
            gettext_noop(
                "The VGG16 weights file %(path)s could not be read as VGG16's ImageNet weights without the top "
                "layers. Replace it with vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, or set the "
                "hyperparameter weights to random."
            ),
            path=path,
        )

    @classmethod
    def download_failed(cls) -> "WeightsUnavailableError":
        # The download's own error, in English, is logged where it is caught.
        return cls(
            gettext_noop(
                "VGG16's ImageNet weights could not be downloaded. Put the weights file "
                "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 on the workers and set "
                "ETIQUETADO_VGG16_WEIGHTS to its path, or set the hyperparameter weights to random."
            ),
        )
