"""What an uploaded file is: its effective extension as Windows would see it, and what its
first bytes say, so that neither a renamed executable nor `evil.exe.` passes a type rule."""

from __future__ import annotations

import mimetypes
import unicodedata
from pathlib import PurePosixPath
from typing import BinaryIO

from PIL import Image

# First bytes of programs a double click would run: Windows PE, ELF, Mach-O (both byte orders,
# 32/64-bit and fat), and scripts with a #! line.
EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)
# The image formats an image or signature field takes: what browsers show and phones send
# (iOS converts HEIC photos to JPEG when a web page asks for an image). Pillow decodes no
# other format here, so a crafted file of some rarer format never reaches its parser.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
HEAD_BYTES = 16


def effective_extension(name: str) -> str:
    """The extension the operating system acts on: NFKC-normalised, lower case, without an
    NTFS stream suffix (`x.exe::$DATA`) and without the trailing dots and spaces Windows drops
    (`x.exe.` and `x.exe ` run as `x.exe`)."""
    text = unicodedata.normalize("NFKC", name).split(":", 1)[0]
    text = text.rstrip(". \t")
    return PurePosixPath(text.replace("\\", "/")).suffix.lower()


def head(stream: BinaryIO) -> bytes:
    """The first bytes of a stream, which is left where it was."""
    position = stream.tell()
    data = stream.read(HEAD_BYTES)
    stream.seek(position)
    return data


def is_executable(first_bytes: bytes) -> bool:
    return first_bytes.startswith(EXECUTABLE_MAGIC)


def image_type(stream: BinaryIO) -> str | None:
    """The MIME type of a real image, decided by Pillow reading and verifying its structure
    (not by its name or the type the sender claims); None for anything else. The stream is
    left where it was."""
    position = stream.tell()
    try:
        with Image.open(stream, formats=IMAGE_FORMATS) as image:
            image.verify()
            found = image.format
    except Exception:
        return None
    finally:
        stream.seek(position)
    return Image.MIME.get(found or "")


def content_type(name: str, declared: str | None, stream: BinaryIO) -> str:
    """What to store as a file's type: an image's real one; else what was declared or the
    name suggests (served as bytes unless known-safe, `messages.download_type`)."""
    real = image_type(stream)
    if real is not None:
        return real
    guessed = declared or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("image/"):  # claims to be an image and is not one
        return "application/octet-stream"
    return guessed[:100]


def refused(name: str, first_bytes: bytes, blocked_extensions: set[str]) -> bool:
    """True when the file is of a blocked type by its effective extension or is a program by
    its content, whatever it is called."""
    return effective_extension(name) in blocked_extensions or is_executable(first_bytes)
