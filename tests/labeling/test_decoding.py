"""Decoding of images sent for labeling, and expansion of .zip uploads (``ml.decoding``)."""

import io

import numpy as np
import pytest

from ml.decoding import (
    DamagedImageError,
    EmptyImageError,
    ImageTooLargeError,
    ImageTooManyPixelsError,
    NotAnImageError,
    TooManyImagesError,
    UnsupportedImageFormatError,
    ZipTooLargeError,
    ZipUnreadableError,
    decode_for_model,
    expand_zip,
)
from ml.images import decode_image
from tests import datafiles
from tests.labeling import corpus
from tests.labeling.conftest import SAMPLES_DIR

INPUT_SHAPE = (32, 32, 3)
MAX_PIXELS = 50_000_000


def decode(content: bytes, *, input_shape=INPUT_SHAPE, max_pixels=MAX_PIXELS, max_bytes=None) -> np.ndarray:
    return decode_for_model(content, name="prueba", input_shape=input_shape, max_pixels=max_pixels, max_bytes=max_bytes)


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png"])
def test_sample_photographs_decode_to_input_size(name):
    pixels = decode((SAMPLES_DIR / name).read_bytes())

    assert pixels.shape == INPUT_SHAPE
    assert pixels.dtype == np.uint8
    assert pixels.std() > 10


def test_cifar_jpeg_decodes_as_importer_did():
    for _, content in datafiles.real_jpegs("test", "cat", 5):
        np.testing.assert_array_equal(decode(content), decode_image(content, name="cat", image_size=None))


def test_resize_stretches_to_input_size():
    from PIL import Image

    wide = Image.new("RGB", (200, 50), corpus.BLUE)
    wide.paste(corpus.RED, (0, 0, 100, 50))

    pixels = decode(corpus.encode(wide, "PNG"))

    # Stretched, not cropped: the red left half stays the left half.
    assert tuple(pixels[16, 2]) == corpus.RED
    assert tuple(pixels[16, 29]) == corpus.BLUE


def test_one_pixel_image_is_upscaled():
    from PIL import Image

    pixels = decode(corpus.encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"))

    assert pixels.shape == INPUT_SHAPE
    assert tuple(pixels[0, 0]) == (10, 200, 30)
    assert tuple(pixels[31, 31]) == (10, 200, 30)


def test_very_large_image_within_limits_decodes():
    pixels = decode(corpus.large_jpeg(6000, 4000))

    assert pixels.shape == INPUT_SHAPE


def test_animated_gif_uses_first_frame():
    pixels = decode(corpus.animated_gif())

    assert tuple(pixels[16, 16]) == corpus.RED


def test_multipage_tiff_uses_first_page():
    pixels = decode(corpus.multipage_tiff())

    assert tuple(pixels[16, 16]) == corpus.RED


def test_cmyk_jpeg_becomes_rgb():
    red, green, blue = (int(value) for value in decode(corpus.cmyk_jpeg())[8, 8])

    assert red > 200
    assert green < 60
    assert blue < 60


def test_sixteen_bit_png_is_scaled_not_clipped():
    pixels = decode(corpus.sixteen_bit_png(), input_shape=(16, 16, 3))

    assert tuple(pixels[8, 2]) == (0, 0, 0)
    assert tuple(pixels[8, 12]) == (128, 128, 128)


def test_transparent_palette_gif_is_composited_over_white():
    pixels = decode(corpus.transparent_palette_gif(), input_shape=(16, 16, 3))

    assert tuple(pixels[8, 2]) == (255, 255, 255)
    assert tuple(pixels[8, 12]) == corpus.BLUE


def test_exif_orientation_is_applied():
    pixels = decode(corpus.exif_rotated_jpeg()).astype(int)

    # Upright, red is on top and blue below; stored, red was on the left.
    assert pixels[3, 16, 0] > 200
    assert pixels[3, 16, 2] < 60
    assert pixels[28, 16, 2] > 200
    assert pixels[28, 16, 0] < 60


def test_rgba_sample_is_composited_over_white():
    pixels = decode((SAMPLES_DIR / "horse.png").read_bytes())

    assert tuple(pixels[0, 0]) == (255, 255, 255)


@pytest.mark.parametrize(
    ("content", "error_class", "spanish_word"),
    [
        (b"", EmptyImageError, "vacío"),
        (corpus.NOT_AN_IMAGE, NotAnImageError, "no es una imagen"),
        (corpus.SVG, UnsupportedImageFormatError, "SVG"),
        (corpus.heic_like(), UnsupportedImageFormatError, "HEIC"),
        ((SAMPLES_DIR / "rocket.jpg").read_bytes()[:5000], DamagedImageError, "incompleta"),
        ((SAMPLES_DIR / "chelsea.png").read_bytes()[:20000], DamagedImageError, "incompleta"),
    ],
    ids=["empty", "text", "svg", "heic", "truncated-jpeg", "truncated-png"],
)
def test_bad_file_gets_its_own_error(content, error_class, spanish_word):
    from django.utils import translation

    from backend.common.errors import ml_error_message

    with pytest.raises(error_class) as raised:
        decode(content)

    assert raised.value.params["name"] == "prueba"
    with translation.override("es-cl"):
        assert spanish_word in ml_error_message(raised.value)


def test_file_over_byte_limit_is_rejected():
    content = (SAMPLES_DIR / "rocket.jpg").read_bytes()

    with pytest.raises(ImageTooLargeError):
        decode(content, max_bytes=len(content) - 1)


def test_decompression_bomb_is_rejected_before_decoding():
    with pytest.raises(ImageTooManyPixelsError) as raised:
        decode(corpus.png_declaring_size(100_000, 100_000))

    assert raised.value.params["limit"] == "50,000,000"


def test_image_over_pixel_limit_names_its_size():
    with pytest.raises(ImageTooManyPixelsError) as raised:
        decode(corpus.png_declaring_size(8000, 7000))

    assert raised.value.params["width"] == 8000
    assert raised.value.params["height"] == 7000


def _expand(content: bytes, *, max_images=10, max_image_bytes=1_000_000, max_expanded_bytes=5_000_000):
    return list(expand_zip(io.BytesIO(content), name="fotos.zip", max_images=max_images,
                           max_image_bytes=max_image_bytes, max_expanded_bytes=max_expanded_bytes))


def test_zip_yields_images_in_order_skipping_hidden_files():
    chelsea = (SAMPLES_DIR / "chelsea.png").read_bytes()
    rocket = (SAMPLES_DIR / "rocket.jpg").read_bytes()
    archive = corpus.zip_of([("fotos/gato.png", chelsea), ("__MACOSX/fotos/._gato.png", b"x"),
                             (".DS_Store", b"x"), ("fotos/cohete.jpg", rocket)])

    files = _expand(archive)

    assert [image_file.name for image_file in files] == ["fotos/gato.png", "fotos/cohete.jpg"]
    assert files[0].content == chelsea
    assert files[1].error is None


def test_zip_bomb_is_rejected_by_declared_size():
    with pytest.raises(ZipTooLargeError):
        _expand(corpus.zip_bomb(6_000_000), max_image_bytes=10_000_000)


def test_zip_understating_sizes_is_rejected_while_reading():
    with pytest.raises((ZipTooLargeError, ZipUnreadableError)):
        _expand(corpus.zip_understating_size(6_000_000, 1000), max_image_bytes=10_000_000)


def test_zip_entry_over_byte_limit_gets_its_own_error():
    files = _expand(corpus.zip_of([("grande.bmp", bytes(2_000_000)), ("chico.png", corpus.SVG)]))

    assert isinstance(files[0].error, ImageTooLargeError)
    assert files[0].content == b""
    assert files[1].content == corpus.SVG


def test_zip_with_too_many_images_is_rejected():
    with pytest.raises(TooManyImagesError):
        _expand(corpus.zip_of([(f"{index}.png", corpus.SVG) for index in range(4)]), max_images=3)


def test_corrupt_zip_is_rejected():
    with pytest.raises(ZipUnreadableError):
        _expand(b"PK\x03\x04" + b"no es un zip" * 10)
