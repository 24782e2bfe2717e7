"""The Pillow work of photographs: judge an upload by its content, refuse what is not a safe JPEG or PNG, and
re-encode it without its metadata, with a thumbnail.

Nothing here knows the store or who is asking: bytes in, clean bytes out, or an `InvalidValue` naming the
field (`file`) and the rule broken. The file's name and declared type are never consulted: only its bytes."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from ..domain.errors import InvalidValue

JPEG = "image/jpeg"
PNG = "image/png"
CONTENT_TYPES = (JPEG, PNG)
_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
_PILLOW_FORMAT = {JPEG: "JPEG", PNG: "PNG"}
EXTENSION = {JPEG: "jpg", PNG: "png"}

FIELD = "file"
THUMBNAIL_PX = 120  # the longest side of a thumbnail (caseload rows, the identity bar)
JPEG_QUALITY = 85

# What can go wrong decoding hostile bytes, short of a bug: Pillow reports truncated or corrupt files with
# these.
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class Encoded:
    """One re-encoded variant: only pixels, no metadata of the upload survives in `data`."""

    content_type: str
    width: int
    height: int
    data: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Processed:
    full: Encoded
    thumbnail: Encoded


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves announce (their magic number), or None if neither JPEG nor
    PNG."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def process(data: bytes, limits: Limits) -> Processed:
    """Check the upload and re-encode it: the original (EXIF orientation applied, every metadata block
    dropped: EXIF with any GPS position, XMP, IPTC, ICC profile, comments, text chunks) and a thumbnail, both
    in the format the content was. Raises `InvalidValue` for anything else."""
    if not data:
        raise InvalidValue("photo_empty", "the file is empty: send a JPEG or PNG photograph", FIELD)
    if len(data) > limits.max_bytes:
        raise InvalidValue(
            "photo_too_large",
            f"the photograph is {len(data)} bytes; at most {limits.max_bytes} bytes are accepted",
            FIELD,
        )
    content_type = sniff(data)
    if content_type is None:
        raise InvalidValue(
            "photo_format",
            "the file is not a JPEG or PNG image (judged by its content, whatever its name or declared type)",
            FIELD,
        )
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice it: here every bomb is an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _decode(data, content_type, limits)
            clean = _strip(ImageOps.exif_transpose(image), content_type)
        except InvalidValue:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limits) from None
        except _UNREADABLE:
            raise InvalidValue(
                "photo_unreadable",
                f"the file starts like a {_PILLOW_FORMAT[content_type]} image but cannot be read as one "
                "(truncated or corrupt)",
                FIELD,
            ) from None
    thumb = clean.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    return Processed(_encode(clean, content_type), _encode(thumb, content_type))


def _too_many_pixels(limits: Limits) -> InvalidValue:
    return InvalidValue(
        "photo_too_many_pixels",
        f"the image declares more than {limits.max_pixels} pixels; it is refused before decoding",
        FIELD,
    )


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise InvalidValue("photo_unreadable", "the image has no pixels", FIELD)
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits)


def _decode(data: bytes, content_type: str, limits: Limits) -> Image.Image:
    """Open with the one decoder the content announced; check the declared size before decoding a pixel;
    verify the file's structure; then decode it for real (verify() leaves the image unusable, so it is opened
    twice)."""
    fmt = [_PILLOW_FORMAT[content_type]]
    with Image.open(io.BytesIO(data), formats=fmt) as probe:
        _check_pixels(probe.size, limits)
        probe.verify()
    image = Image.open(io.BytesIO(data), formats=fmt)
    _check_pixels(image.size, limits)
    image.load()
    return image


def _strip(image: Image.Image, content_type: str) -> Image.Image:
    """A new image holding only the pixels (Image.new starts with empty `info`: no EXIF, ICC, XMP, text or
    comment), in a mode the output format stores: RGB or greyscale, or RGBA for a PNG with transparency."""
    alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if content_type == PNG and alpha:
        mode = "RGBA"
    elif image.mode in ("1", "L", "I;16", "I;16B", "I;16L", "I", "F") or (
        image.mode == "LA" and content_type == JPEG
    ):
        mode = "L"
    else:
        mode = "RGB"
    pixels = image if image.mode == mode else image.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    return clean


def _encode(image: Image.Image, content_type: str) -> Encoded:
    buffer = io.BytesIO()
    if content_type == JPEG:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(buffer, "PNG")
    return Encoded(content_type, image.width, image.height, buffer.getvalue())
