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

# Resizing stretches each image to size x size without keeping the aspect ratio, with
# bicubic interpolation, so that every pixel of the original contributes.
RESAMPLING = Image.Resampling.BICUBIC


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image

    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND_RGB + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")

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
            rgb = _to_rgb(oriented)
            if image_size is not None and rgb.size != (image_size, image_size):
                rgb = rgb.resize((image_size, image_size), RESAMPLING)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableImageError(name=name) from exc
