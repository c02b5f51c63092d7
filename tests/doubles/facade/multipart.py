"""A streaming multipart/related reader (RFC 2046 5.1.1) that spools each part, so memory stays bounded."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from typing import IO

from tests.doubles.facade.messages import CHUNK, Readable

SPOOL_IN_MEMORY = 16 * 1024 * 1024
MAX_HEADER_BLOCK = 64 * 1024


class MultipartError(ValueError):
    """The body is not a well-formed multipart entity."""


@dataclass
class Part:
    headers: Message
    content: IO[bytes]
    size: int

    def close(self) -> None:
        self.content.close()


def spool(source: Readable, headers: Message | None = None) -> Part:
    """The whole of `source` as one part (single-part application/dicom STOW)."""
    content = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the Part closes it)
    size = 0
    while chunk := source.read(CHUNK):
        content.write(chunk)
        size += len(chunk)
    content.seek(0)
    return Part(headers or Message(), content, size)


class _Buffer:
    def __init__(self, source: Readable) -> None:
        self.source = source
        # RFC 2046: the first boundary may open the body without a preceding CRLF.
        self.data = bytearray(b"\r\n")

    def fill(self) -> bool:
        chunk = self.source.read(CHUNK)
        self.data += chunk
        return bool(chunk)

    def take(self, count: int) -> bytes:
        taken = bytes(self.data[:count])
        del self.data[:count]
        return taken

    def find(self, needle: bytes, *, limit: int, what: str) -> int:
        while (index := self.data.find(needle)) < 0:
            if len(self.data) > limit:
                raise MultipartError(f"{what} is too long")
            if not self.fill():
                raise MultipartError(f"the body ended inside {what}")
        return index


def read_parts(source: Readable, boundary: str) -> list[Part]:
    """Every body part, in order; the preamble and epilogue are discarded."""
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    buffer = _Buffer(source)
    parts: list[Part] = []
    try:
        while (index := buffer.data.find(delimiter)) < 0:
            del buffer.data[: -len(delimiter)]
            if not buffer.fill():
                raise MultipartError("the body holds no boundary delimiter")
        buffer.take(index + len(delimiter))
        while True:
            while len(buffer.data) < 2 and buffer.fill():
                pass
            if buffer.data.startswith(b"--"):
                while source.read(CHUNK):
                    pass
                return parts
            line_end = buffer.find(b"\r\n", limit=1024, what="the boundary line")
            if buffer.take(line_end).strip(b" \t"):
                raise MultipartError("unexpected text after a boundary delimiter")
            buffer.take(2)
            parts.append(_read_part(buffer, delimiter))
    except BaseException:
        for part in parts:
            part.close()
        raise


def _read_part(buffer: _Buffer, delimiter: bytes) -> Part:
    while len(buffer.data) < 2 and buffer.fill():
        pass
    if buffer.data.startswith(b"\r\n"):
        header_block = b""
        buffer.take(2)
    else:
        end = buffer.find(b"\r\n\r\n", limit=MAX_HEADER_BLOCK, what="the part headers")
        header_block = buffer.take(end)
        buffer.take(4)
    headers = BytesHeaderParser().parsebytes(header_block)
    content = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the Part closes it)
    size = 0
    keep = len(delimiter) - 1
    while (index := buffer.data.find(delimiter)) < 0:
        if len(buffer.data) > keep:
            size += content.write(buffer.take(len(buffer.data) - keep))
        if not buffer.fill():
            content.close()
            raise MultipartError("the body ended before the closing boundary delimiter")
    size += content.write(buffer.take(index))
    buffer.take(len(delimiter))
    content.seek(0)
    return Part(headers, content, size)
