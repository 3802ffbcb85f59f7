"""Image files for the labeling tests, made here from real photographs or drawn with Pillow."""

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def encode(image: Image.Image, format_name: str, **options) -> bytes:
    output = io.BytesIO()
    image.save(output, format=format_name, **options)
    return output.getvalue()


def png_declaring_size(width: int, height: int) -> bytes:
    """A valid 8x8 PNG whose IHDR chunk (and its CRC) is rewritten to declare ``width`` x ``height``."""
    content = bytearray(encode(Image.new("RGB", (8, 8), RED), "PNG"))
    # Signature (8 bytes), IHDR length (4) and type (4), then width and height.
    content[16:24] = struct.pack(">II", width, height)
    content[29:33] = struct.pack(">I", zlib.crc32(bytes(content[12:29])))
    return bytes(content)


def animated_gif() -> bytes:
    """Two frames: red, then blue."""
    frames = [Image.new("RGB", (20, 20), RED), Image.new("RGB", (20, 20), BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def multipage_tiff() -> bytes:
    """Two pages: red, then blue."""
    pages = [Image.new("RGB", (20, 20), RED), Image.new("RGB", (20, 20), BLUE)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def cmyk_jpeg() -> bytes:
    """Pure red in CMYK: no cyan, full magenta and yellow, no black."""
    return encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)


def sixteen_bit_png() -> bytes:
    """A grey 16-bit PNG whose left half is 0 and right half is 32896 (128 in 8 bits)."""
    values = np.zeros((16, 16), dtype=np.uint16)
    values[:, 8:] = 128 * 257
    return encode(Image.fromarray(values), "PNG")


def transparent_palette_gif() -> bytes:
    """A palette GIF whose left half is transparent and right half is blue."""
    image = Image.new("P", (16, 16), 0)
    image.putpalette([0, 0, 0, *BLUE] + [0] * (256 - 2) * 3)
    image.paste(1, (8, 0, 16, 16))
    return encode(image, "GIF", transparency=0)


def exif_rotated_jpeg() -> bytes:
    """Stored 64x32 with the left half red and the right half blue, EXIF orientation 6 (rotate 90 degrees clockwise).

    Shown upright, it is 32x64 with red on top and blue below.
    """
    image = Image.new("RGB", (64, 32), BLUE)
    image.paste(RED, (0, 0, 32, 32))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def large_jpeg(width: int, height: int) -> bytes:
    """A JPEG of smooth noise, large in pixels but quick to encode."""
    small = np.random.default_rng(0).integers(0, 256, size=(height // 100, width // 100, 3), dtype=np.uint8)
    return encode(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR), "JPEG", quality=80)


def heic_like() -> bytes:
    """The start of a HEIC file: an ISO media ``ftyp`` box with the ``heic`` brand, then filler."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


SVG = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n'
NOT_AN_IMAGE = "Notas de la reunión: enviar las fotos el lunes.\n".encode()


def zip_of(files: list[tuple[str, bytes]]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return output.getvalue()


def zip_bomb(expanded_bytes: int) -> bytes:
    """A .zip of one entry of ``expanded_bytes`` zeros, which compresses about a thousand times."""
    return zip_of([("ceros.bmp", bytes(expanded_bytes))])


def zip_understating_size(expanded_bytes: int, declared_bytes: int) -> bytes:
    """A .zip of one entry of ``expanded_bytes`` zeros whose headers declare only ``declared_bytes``."""
    content = bytearray(zip_bomb(expanded_bytes))
    local = content.index(b"PK\x03\x04")
    central = content.index(b"PK\x01\x02")
    # Uncompressed size: offset 22 of the local file header, offset 24 of the central directory entry.
    content[local + 22:local + 26] = struct.pack("<I", declared_bytes)
    content[central + 24:central + 28] = struct.pack("<I", declared_bytes)
    return bytes(content)
