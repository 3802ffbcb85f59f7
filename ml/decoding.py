"""Decode images sent for labeling, and expand the .zip archives they come in, within limits.

Pure Pillow and numpy. The rule that turns any supported file into the model's input:

1. The file must not be empty, must be at most ``max_image_bytes`` long, and must be
   JPEG, PNG, GIF, WebP, BMP or TIFF. SVG, HEIC, AVIF and PDF files, and any other
   format that Pillow identifies, are rejected as unsupported.
2. The header's width x height must be at most ``max_pixels``; this is checked before
   any pixel is decoded, so a decompression bomb costs no memory. Pillow's own
   ``Image.MAX_IMAGE_PIXELS`` guard should be set to the same limit (the backend does).
3. Only the first frame of an animated GIF or WebP and the first page of a TIFF is used.
4. The EXIF orientation is applied. Grey, palette, CMYK and 16-bit images become 8-bit
   RGB, and transparent pixels are composited over white.
5. The image is stretched to the model's input width x height with bicubic resampling,
   without keeping the aspect ratio: the rule the dataset importer applies with an
   image size, so that labeled images are treated as the training images were. An
   image already at the input size is used exactly as decoded, like the importer does.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import MLError, gettext_noop
from ml.images import RESAMPLING, to_rgb

# Formats as Pillow names them. MPO is the multi-picture JPEG that many cameras write.
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF"})
SUPPORTED_FORMATS_TEXT = "JPEG, PNG, GIF, WebP, BMP, TIFF"

# ISO base media file brands of HEIF images (HEIC, AVIF), found at bytes 8 to 12.
_HEIF_BRANDS = {
    b"heic": "HEIC", b"heix": "HEIC", b"hevc": "HEIC", b"hevx": "HEIC", b"heim": "HEIC",
    b"heis": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF",
}
# How far into a file to look for an SVG root element, in bytes.
_SVG_SNIFF_BYTES = 1024
# Size of each read from a .zip entry, in bytes.
_ZIP_READ_CHUNK_BYTES = 64 * 1024


class ImageDecodingError(MLError):
    """An image sent for labeling cannot be used; the message names the file and the fix."""


class EmptyImageError(ImageDecodingError):
    def __init__(self, *, name: str) -> None:
        super().__init__(gettext_noop("The file %(name)s is empty. Send the image again."), name=name)


class ImageTooLargeError(ImageDecodingError):
    def __init__(self, *, name: str, size: int, limit: int) -> None:
        super().__init__(
            gettext_noop(
                "The file %(name)s has %(size)s, more than the limit of %(limit)s per image. "
                "Send a smaller image or a more compressed one."
            ),
            name=name,
            size=size_text(size),
            limit=size_text(limit),
        )


class ImageTooManyPixelsError(ImageDecodingError):
    def __init__(self, *, name: str, limit: int, width: int | None = None, height: int | None = None) -> None:
        if width is None or height is None:
            super().__init__(
                gettext_noop(
                    "The image %(name)s declares far more pixels than the limit of %(limit)s "
                    "pixels per image, so it was not decoded. Send a smaller image."
                ),
                name=name,
                limit=f"{limit:,}",
            )
            return
        super().__init__(
            gettext_noop(
                "The image %(name)s measures %(width)sx%(height)s pixels, more than the limit of "
                "%(limit)s pixels per image, so it was not decoded. Send a smaller image."
            ),
            name=name,
            width=width,
            height=height,
            limit=f"{limit:,}",
        )


class UnsupportedImageFormatError(ImageDecodingError):
    def __init__(self, *, name: str, format_name: str) -> None:
        super().__init__(
            gettext_noop(
                "The file %(name)s is in %(format)s format, which is not supported. "
                "Convert it to one of %(supported)s and send it again."
            ),
            name=name,
            format=format_name,
            supported=SUPPORTED_FORMATS_TEXT,
        )


class NotAnImageError(ImageDecodingError):
    def __init__(self, *, name: str) -> None:
        super().__init__(
            gettext_noop("The file %(name)s is not an image. Send an image in one of %(supported)s."),
            name=name,
            supported=SUPPORTED_FORMATS_TEXT,
        )


class DamagedImageError(ImageDecodingError):
    def __init__(self, *, name: str) -> None:
        super().__init__(
            gettext_noop(
                "The image %(name)s is truncated or damaged and could not be decoded. "
                "Send the complete file again."
            ),
            name=name,
        )


class UploadError(MLError):
    """A whole upload is rejected: too many images, or a .zip that cannot be expanded safely."""


class TooManyImagesError(UploadError):
    def __init__(self, *, count: int, limit: int) -> None:
        super().__init__(
            gettext_noop(
                "The request contains %(count)s images, more than the limit of %(limit)s per "
                "request. Send them in several requests."
            ),
            count=count,
            limit=limit,
        )


class ZipTooLargeError(UploadError):
    def __init__(self, *, name: str, limit: int) -> None:
        super().__init__(
            gettext_noop(
                "The archive %(name)s expands to more than %(limit)s, the limit for one .zip. "
                "Send fewer or smaller images per archive."
            ),
            name=name,
            limit=size_text(limit),
        )


class ZipUnreadableError(UploadError):
    def __init__(self, *, name: str) -> None:
        super().__init__(
            gettext_noop(
                "The archive %(name)s could not be read as a .zip file: it may be damaged, "
                "truncated or protected with a password. Create it again and send it again."
            ),
            name=name,
        )


def size_text(size: int) -> str:
    """Format a size in bytes in binary units with up to two decimals, such as "20 MiB" or "97.66 KiB".

    Two decimals keep a file just over a limit from reading as the limit itself,
    and binary units match how the settings give the limits.
    """
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class ImageFile:
    """One file of an upload: its bytes, or the error that keeps it from being labeled."""

    name: str
    content: bytes
    error: ImageDecodingError | None = None


def _unsupported_format(content: bytes) -> str | None:
    """Return the name of a known unsupported format that ``content`` starts with, if any."""
    if content[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(content[8:12], "ISO media")
    if content.startswith(b"%PDF"):
        return "PDF"
    head = content[:_SVG_SNIFF_BYTES].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in head:
        return "SVG"
    return None


def decode_for_model(content: bytes, *, name: str, input_shape: tuple[int, ...], max_pixels: int,
                     max_bytes: int | None = None) -> np.ndarray:
    """Decode one image file to a height x width x 3 uint8 array of the model's input size.

    ``input_shape`` is the model's (height, width, channels). Follows the rule in the
    module docstring and raises an ``ImageDecodingError`` subclass naming ``name``.
    """
    if not content:
        raise EmptyImageError(name=name)
    if max_bytes is not None and len(content) > max_bytes:
        raise ImageTooLargeError(name=name, size=len(content), limit=max_bytes)
    unsupported = _unsupported_format(content)
    if unsupported is not None:
        raise UnsupportedImageFormatError(name=name, format_name=unsupported)

    try:
        image = Image.open(io.BytesIO(content))
    except Image.DecompressionBombError as error:
        raise ImageTooManyPixelsError(name=name, limit=max_pixels) from error
    except UnidentifiedImageError as error:
        raise NotAnImageError(name=name) from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DamagedImageError(name=name) from error

    with image:
        if image.format not in SUPPORTED_FORMATS:
            raise UnsupportedImageFormatError(name=name, format_name=image.format or "?")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooManyPixelsError(name=name, limit=max_pixels, width=width, height=height)
        try:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            rgb = to_rgb(oriented)
            target_height, target_width = int(input_shape[0]), int(input_shape[1])
            if rgb.size != (target_width, target_height):
                rgb = rgb.resize((target_width, target_height), RESAMPLING)
            return np.asarray(rgb, dtype=np.uint8)
        except Image.DecompressionBombError as error:
            raise ImageTooManyPixelsError(name=name, limit=max_pixels) from error
        except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as error:
            raise DamagedImageError(name=name) from error


def is_zip(content_start: bytes) -> bool:
    """Tell whether a file's first bytes are those of a .zip archive."""
    return content_start.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def _is_hidden_entry(name: str) -> bool:
    parts = [part for part in name.replace("\\", "/").split("/") if part]
    return not parts or parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)


def _read_capped(stream: BinaryIO, cap: int) -> bytes:
    """Read at most ``cap + 1`` bytes, so that a caller sees that a stream is longer than ``cap``."""
    chunks = []
    total = 0
    while total <= cap:
        chunk = stream.read(min(_ZIP_READ_CHUNK_BYTES, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def expand_zip(archive_file: BinaryIO, *, name: str, max_images: int, max_image_bytes: int,
               max_expanded_bytes: int) -> Iterator[ImageFile]:
    """Yield the files of a .zip upload, entries in archive order, folders and hidden files skipped.

    The archive is rejected with ``ZipTooLargeError`` when the sizes its entries
    declare add up to more than ``max_expanded_bytes``, and also when the bytes
    actually read do, however the entries lie about their size: reading stops at the
    limit, so a zip bomb fills neither memory nor disk. More than ``max_images``
    entries raise ``TooManyImagesError``. An entry over ``max_image_bytes`` is
    yielded with an ``ImageTooLargeError`` and not read further.
    """
    try:
        archive = zipfile.ZipFile(archive_file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ZipUnreadableError(name=name) from error

    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir() and not _is_hidden_entry(info.filename)]
        if len(entries) > max_images:
            raise TooManyImagesError(count=len(entries), limit=max_images)
        if sum(info.file_size for info in entries) > max_expanded_bytes:
            raise ZipTooLargeError(name=name, limit=max_expanded_bytes)

        remaining = max_expanded_bytes
        for info in entries:
            entry_name = info.filename
            if info.file_size > max_image_bytes:
                yield ImageFile(entry_name, b"", ImageTooLargeError(name=entry_name, size=info.file_size,
                                                                     limit=max_image_bytes))
                continue
            try:
                with archive.open(info) as stream:
                    content = _read_capped(stream, min(max_image_bytes, remaining))
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, zlib.error) as error:
                # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression method.
                raise ZipUnreadableError(name=name) from error
            if len(content) > remaining:
                raise ZipTooLargeError(name=name, limit=max_expanded_bytes)
            if len(content) > max_image_bytes:
                yield ImageFile(entry_name, b"", ImageTooLargeError(name=entry_name, size=len(content),
                                                                     limit=max_image_bytes))
                continue
            remaining -= len(content)
            yield ImageFile(entry_name, content)
