"""The Pillow work of photographs: judged by content, refused naming the rule, re-encoded without metadata."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from register.domain.errors import InvalidValue
from register.photos import imaging

LIMITS = imaging.Limits(max_bytes=5 * 1024 * 1024, max_pixels=40_000_000)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(size: tuple[int, int] = (64, 48), *, mode: str = "RGB", exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode in ("L", "CMYK") else (200, 30, 30)).save(
        out, "JPEG", **({"exif": exif.tobytes()} if exif is not None else {})
    )
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48), *, mode: str = "RGB", text: str | None = None) -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    colour: object = (10, 200, 10, 120) if mode == "RGBA" else (10, 200, 10) if mode == "RGB" else 7
    Image.new(mode, size, colour).save(out, "PNG", pnginfo=info)  # type: ignore[arg-type]
    return out.getvalue()


def forged_png(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` pixels, with almost no data: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def rule_of(data: bytes, limits: imaging.Limits = LIMITS) -> str:
    with pytest.raises(InvalidValue) as caught:
        imaging.process(data, limits)
    assert caught.value.field == "file"
    return caught.value.rule


def test_a_jpeg_is_re_encoded_as_jpeg_with_a_thumbnail() -> None:
    out = imaging.process(jpeg((800, 600)), LIMITS)
    assert out.full.content_type == out.thumbnail.content_type == "image/jpeg"
    assert (out.full.width, out.full.height) == (800, 600)
    assert (out.thumbnail.width, out.thumbnail.height) == (120, 90)
    assert out.full.data.startswith(b"\xff\xd8\xff") and out.thumbnail.size_bytes < out.full.size_bytes


def test_a_png_stays_png_and_keeps_its_transparency() -> None:
    out = imaging.process(png((300, 100), mode="RGBA"), LIMITS)
    assert out.full.content_type == "image/png"
    image = Image.open(io.BytesIO(out.full.data))
    assert image.mode == "RGBA" and image.size == (300, 100)
    assert (out.thumbnail.width, out.thumbnail.height) == (120, 40)


def test_the_content_decides_never_the_name() -> None:
    assert imaging.sniff(png()) == "image/png"
    assert imaging.sniff(jpeg()) == "image/jpeg"
    assert imaging.sniff(b"GIF89a....") is None
    assert imaging.sniff(b"hello, I am a text file") is None


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "photo_empty"),
        (b"just some text pretending to be a photograph", "photo_format"),
        (b"GIF89a" + b"\x00" * 100, "photo_format"),
        (b"%PDF-1.7\n", "photo_format"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "photo_unreadable"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "photo_unreadable"),
    ],
)
def test_what_is_not_a_jpeg_or_png_is_refused_naming_the_rule(data: bytes, rule: str) -> None:
    assert rule_of(data) == rule


def test_a_truncated_jpeg_is_unreadable() -> None:
    whole = jpeg((400, 300))
    assert rule_of(whole[: len(whole) // 2]) == "photo_unreadable"


def test_the_size_limit() -> None:
    data = jpeg()
    assert rule_of(data, imaging.Limits(max_bytes=len(data) - 1, max_pixels=10**6)) == "photo_too_large"
    imaging.process(data, imaging.Limits(max_bytes=len(data), max_pixels=10**6))


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    assert (
        rule_of(png((200, 200)), imaging.Limits(LIMITS.max_bytes, max_pixels=39_999))
        == "photo_too_many_pixels"
    )
    bomb = forged_png(100_000, 100_000)  # 10 gigapixels in 100 bytes
    assert len(bomb) < 200
    assert rule_of(bomb) == "photo_too_many_pixels"
    # between our limit and Pillow's own (whose warning would otherwise only warn)
    assert rule_of(forged_png(8_000, 6_000)) == "photo_too_many_pixels"


def test_exif_with_the_gps_position_is_removed_and_the_orientation_applied() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90 degrees clockwise to display
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 16.0, 30.0), 3: "E", 4: (0.0, 31.0, 0.0)}
    upload = jpeg((80, 40), exif=exif)
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(GPS_IFD)  # it was there
    out = imaging.process(upload, LIMITS)
    for variant in (out.full, out.thumbnail):
        image = Image.open(io.BytesIO(variant.data))
        assert dict(image.getexif()) == {} and "exif" not in image.info
        assert b"Exif" not in variant.data and b"PhoneMaker" not in variant.data
    assert (out.full.width, out.full.height) == (40, 80)  # the orientation was applied to the pixels


def test_png_text_chunks_are_removed() -> None:
    out = imaging.process(png(text="taken at 14 Tonbridge Road"), LIMITS)
    assert b"Tonbridge" not in out.full.data and b"tEXt" not in out.full.data
    assert Image.open(io.BytesIO(out.full.data)).info == {}


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_jpeg_modes_come_out_as_rgb_or_grey(mode: str) -> None:
    out = imaging.process(jpeg(mode=mode), LIMITS)
    assert Image.open(io.BytesIO(out.full.data)).mode == ("L" if mode == "L" else "RGB")


@pytest.mark.parametrize("mode", ["L", "P", "1", "LA"])
def test_png_modes_are_normalised(mode: str) -> None:
    out = imaging.process(png(mode=mode), LIMITS)
    assert Image.open(io.BytesIO(out.full.data)).mode in ("L", "RGB", "RGBA")
