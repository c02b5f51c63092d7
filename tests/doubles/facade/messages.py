"""The request and response values passed between the HTTP handler and the facade's routes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol
from urllib.parse import parse_qsl

CHUNK = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class LineReadable(Readable, Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


class RequestBody:
    """The request body as a stream: Content-Length delimited or chunked (RFC 9112 7.1)."""

    def __init__(self, rfile: LineReadable, *, length: int | None, chunked: bool) -> None:
        self._rfile = rfile
        self._chunked = chunked
        self._remaining = 0 if chunked else (length or 0)
        self.consumed = not chunked and self._remaining == 0

    @classmethod
    def from_headers(cls, rfile: LineReadable, headers: Message) -> RequestBody:
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            return cls(rfile, length=None, chunked=True)
        length = headers.get("Content-Length")
        if length is None:
            return cls(rfile, length=0, chunked=False)
        if not length.strip().isdigit():
            raise ValueError(f"invalid Content-Length {length!r}")
        return cls(rfile, length=int(length), chunked=False)

    def read(self, size: int = -1, /) -> bytes:
        if self.consumed:
            return b""
        if self._remaining == 0 and self._chunked and not self._next_chunk():
            return b""
        want = self._remaining if size < 0 else min(size, self._remaining)
        data = self._rfile.read(want)
        if len(data) < want:
            raise ValueError("the request body ended early")
        self._remaining -= len(data)
        if self._remaining == 0:
            if self._chunked:
                self._rfile.readline()
            else:
                self.consumed = True
        return data

    def _next_chunk(self) -> bool:
        line = self._rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ValueError(f"invalid chunk size line {line!r}") from None
        if size == 0:
            while self._rfile.readline(1024).strip():
                pass
            self.consumed = True
            return False
        self._remaining = size
        return True

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


@dataclass
class Request:
    method: str
    version: str
    """The API version segment without the "v": "1" or "2"."""
    segments: list[str]
    """The percent-decoded path segments after the version."""
    raw_path: str
    """The path after the version, still percent-encoded, for forwarding."""
    query_string: str
    headers: Message
    body: RequestBody
    base_url: str
    """http://127.0.0.1:PORT, the facade's own address."""

    def query(self) -> dict[str, str]:
        """Query parameters by lower-cased name, first value wins (ASP.NET binds names case-insensitively)."""
        params: dict[str, str] = {}
        for name, value in parse_qsl(self.query_string, keep_blank_values=True):
            params.setdefault(name.lower(), value)
        return params

    def versioned_url(self, path: str) -> str:
        return f"{self.base_url}/v{self.version}/{path}"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterable[bytes] | None = None
    """A body too large to hold: sent chunk by chunk instead of `body`."""
    length: int | None = None
    """The length of `stream` when known; otherwise the body goes out chunked."""
    close: Callable[[], None] | None = None
    """Releases what `stream` holds (the upstream connection)."""


def text(status: int, message: str) -> Response:
    """An error as Azure's ExceptionHandlingMiddleware sends it: a short plain-text message."""
    return Response(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8"})


def empty(status: int) -> Response:
    return Response(status)


def json_body(status: int, value: object, content_type: str = "application/json; charset=utf-8") -> Response:
    return Response(status, json.dumps(value).encode(), {"Content-Type": content_type})
