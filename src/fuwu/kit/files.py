"""What an uploaded file is: its effective extension as Windows would see it, and what its
first bytes say, so that neither a renamed executable nor `evil.exe.` passes a type rule."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath
from typing import BinaryIO

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
IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
)
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


def is_image(first_bytes: bytes) -> bool:
    """PNG, JPEG, GIF, BMP, WebP or HEIC/AVIF by their signature (not by name or sender)."""
    if first_bytes.startswith(IMAGE_MAGIC):
        return True
    if first_bytes[:4] == b"RIFF" and first_bytes[8:12] == b"WEBP":
        return True
    return first_bytes[4:8] == b"ftyp" and first_bytes[8:12] in (b"heic", b"heix", b"avif", b"mif1")


def refused(name: str, first_bytes: bytes, blocked_extensions: set[str]) -> bool:
    """True when the file is of a blocked type by its effective extension or is a program by
    its content, whatever it is called."""
    return effective_extension(name) in blocked_extensions or is_executable(first_bytes)
