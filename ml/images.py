"""Decode image files to RGB uint8 arrays, and resize them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import UnreadableImageError

# File name extensions of the image formats that Pillow decodes. A source whose class
# folders contain none of these has no images at all.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})

# Transparent pixels are composited over white, the background a viewer shows them on.
BACKGROUND_RGB = (255, 255, 255)

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# 16-bit sample values are mapped to 8 bits by dividing by 65535 / 255.
_SIXTEEN_TO_EIGHT_BITS = 257.0

# Resizing stretches each image to size x size without keeping the aspect ratio, with
# bicubic interpolation, so that every pixel of the original contributes.
RESAMPLING = Image.Resampling.BICUBIC


def _sixteen_bit_to_rgb(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    grey = np.clip(np.rint(values / _SIXTEEN_TO_EIGHT_BITS), 0, 255).astype(np.uint8)
    return Image.fromarray(np.stack([grey] * 3, axis=-1), mode="RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: transparency over white, 16-bit and float grey scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_rgb(image)
    if image.mode == "F":
        grey = np.clip(np.rint(np.asarray(image, dtype=np.float64)), 0, 255).astype(np.uint8)
        return Image.fromarray(np.stack([grey] * 3, axis=-1), mode="RGB")

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND_RGB + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    # NOTE: CMYK is converted with Pillow's plain formula, without the file's ICC
    # profile, so colours of print-ready CMYK files can shift slightly.
    return image.convert("RGB")


def resize_rgb(pixels: np.ndarray, image_size: int) -> np.ndarray:
    """Resize an H x W x 3 uint8 array to image_size x image_size with RESAMPLING."""
    image = Image.fromarray(pixels, mode="RGB")
    return np.asarray(image.resize((image_size, image_size), RESAMPLING), dtype=np.uint8)


def decode_image(content: bytes, *, name: str, image_size: int | None) -> np.ndarray:
    """Decode an image file to an H x W x 3 uint8 RGB array.

    Grey, palette and CMYK images are converted to RGB, and transparent ones are
    composited over white. The EXIF orientation, if any, is applied. When
    ``image_size`` is given, the result is resized to image_size x image_size.
    Raises UnreadableImageError naming ``name`` when Pillow cannot decode the content.
    """
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            # Photographs from phones store their rotation in EXIF instead of in the pixels.
            oriented = ImageOps.exif_transpose(image) if "exif" in image.info else image
            rgb = to_rgb(oriented)
            if image_size is not None and rgb.size != (image_size, image_size):
                rgb = rgb.resize((image_size, image_size), RESAMPLING)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableImageError(name=name) from exc
