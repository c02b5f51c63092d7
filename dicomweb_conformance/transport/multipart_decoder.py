"""The streaming multipart/related decoder (RFC 2046 5.1, RFC 2387, PS3.18 8.7); see multipart.py for the grammar
it accepts and what it rejects."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator

from dicomweb_conformance.transport.multipart import (
    CRLF,
    FIELD_NAME_RE,
    MultipartError,
    Part,
    boundary_of,
    check_boundary,
    parse_media_type,
)

__all__ = ["decode_related", "iter_parts"]

_Chunk = bytes | bytearray | memoryview
_FEED_SIZE = 1 << 18
_HEADER_CACHE_SIZE = 64
_WSP_RE = re.compile(rb"[ \t]*")  # RFC 2046 5.1.1: transport-padding := *LWSP-char
_BARE_EOL_RE = re.compile(rb"\r(?!\n)|(?<!\r)\n")


class _Hit(enum.Enum):
    NEED_MORE = enum.auto()  # cannot decide until more bytes arrive
    DATA = enum.auto()  # "CRLF--boundary" followed by other bytes: part content
    DELIMITER = enum.auto()
    CLOSE = enum.auto()


def iter_parts(chunks: Iterable[_Chunk], boundary: str) -> Iterator[Part]:
    """Decode a multipart body arriving in chunks, yielding each part once its delimiter is seen.

    Chunks may be any bytes-like objects (a lone bytes object counts as one chunk).
    Memory is bounded by one part plus one chunk.  Raises MultipartError on a
    malformed or truncated body (the latter once the chunks run out).
    """
    decoder = _StreamDecoder(boundary)
    if isinstance(chunks, bytes | bytearray | memoryview):
        chunks = [chunks]
    return _run(decoder, chunks)


def _run(decoder: _StreamDecoder, chunks: Iterable[_Chunk]) -> Iterator[Part]:
    for chunk in chunks:
        for piece in _feed_sized(chunk):
            yield from decoder.feed(piece)
            if decoder.done:
                return
    yield from decoder.finish()


def _feed_sized(chunk: _Chunk) -> Iterator[_Chunk]:
    """Huge chunks (a whole body) go in as slices, so the decoder never buffers more than one part."""
    if len(chunk) <= _FEED_SIZE:
        yield chunk
        return
    with memoryview(chunk) as view, view.cast("B") as octets:
        for start in range(0, len(octets), _FEED_SIZE):
            yield octets[start : start + _FEED_SIZE]


def decode_related(body: bytes, content_type: str) -> list[Part]:
    """All parts of a whole multipart body; the boundary comes from content_type."""
    media_type, _ = parse_media_type(content_type)
    if not media_type.startswith("multipart/"):
        raise MultipartError(f"Content-Type {content_type!r} is not a multipart media type")
    return list(iter_parts([body], boundary_of(content_type)))


class _StreamDecoder:
    """Buffer plus bytes.find() scanner for CRLF "--" boundary (RFC 2046 5.1.1 delimiter).

    self._buf[self._start:] is the unconsumed data (the current part, or the
    unsearched tail of the preamble); the consumed head is dropped once per chunk.
    """

    def __init__(self, boundary: str) -> None:
        self._boundary = boundary
        self._delimiter = CRLF + b"--" + check_boundary(boundary)
        self._bare_lf_re = re.compile(rb"(?<!\r)\n--" + re.escape(self._delimiter[4:]))
        # RFC 2046 5.1.1: the body may start with the dash-boundary (empty preamble, no CRLF);
        # a virtual leading CRLF lets one search find it, so offsets are shifted by 2.
        self._buf = bytearray(CRLF)
        self._base = -len(CRLF)
        self._start = 0
        self._scan = 0
        self._in_part = False
        self._parts = 0
        self._bare_lf_at: int | None = None
        self._header_cache: dict[bytes, dict[str, str]] = {}
        self.done = False

    def feed(self, chunk: _Chunk) -> Iterator[Part]:
        if self._start:
            del self._buf[: self._start]
            self._base += self._start
            self._scan -= self._start
            self._start = 0
        self._buf += chunk
        return self._drain(eof=False)

    def finish(self) -> Iterator[Part]:
        yield from self._drain(eof=True)
        if not self.done:
            raise MultipartError(self._unterminated_message())

    def _drain(self, eof: bool) -> Iterator[Part]:
        buf, delimiter = self._buf, self._delimiter
        while not self.done:
            at = buf.find(delimiter, self._scan)
            if at < 0:
                self._scan = max(self._scan, len(buf) - len(delimiter) + 1)
                break
            hit, end = self._classify(at, eof)
            if hit is _Hit.NEED_MORE:
                self._scan = at
                break
            if hit is _Hit.DATA:
                self._scan = at + 1
                continue
            if self._in_part:
                yield self._take_part(at)
            self._start_part(at, end, hit)
        if not self._in_part and not self.done:
            self._skip_preamble()

    def _classify(self, at: int, eof: bool) -> tuple[_Hit, int]:
        after = at + len(self._delimiter)
        follow = bytes(self._buf[after : after + 2])
        if follow == b"--":
            return self._line_end(at, after + 2, eof, _Hit.CLOSE)
        if follow[:1] in (b" ", b"\t", b"\r", b"\n"):
            return self._line_end(at, after, eof, _Hit.DELIMITER)
        if follow in (b"", b"-") and not eof:
            return _Hit.NEED_MORE, at
        return _Hit.DATA, at

    def _line_end(self, at: int, pos: int, eof: bool, hit: _Hit) -> tuple[_Hit, int]:
        padded = _WSP_RE.match(self._buf, pos)
        end = padded.end() if padded else pos
        eol = bytes(self._buf[end : end + 2])
        if eol == CRLF:
            return hit, end + 2
        if not eof and eol in (b"", b"\r"):
            return _Hit.NEED_MORE, at
        if hit is _Hit.CLOSE and eof and eol == b"":
            return hit, end
        raise MultipartError(self._bad_line_end_message(at, end, eol, hit))

    def _bad_line_end_message(self, at: int, end: int, eol: bytes, hit: _Hit) -> str:
        kind = "close delimiter" if hit is _Hit.CLOSE else "boundary delimiter"
        where = f"{kind} at byte offset {self._offset(at + 2)}"
        skip = 1 if eol[:1] == b"\r" else 0
        found, offset = eol[skip : skip + 1], self._offset(end + skip)
        if found == b"\n":
            return f"bare LF at byte offset {offset} after the {where}; RFC 2046 requires CRLF line endings"
        if found == b"":
            return f"body ends at byte offset {offset} inside the {where}; expected CRLF"
        return f"{where} is followed by {found!r} at byte offset {offset}; expected optional spaces then CRLF"

    def _start_part(self, at: int, end: int, hit: _Hit) -> None:
        if hit is _Hit.CLOSE:
            if not self._in_part:
                raise MultipartError(
                    f"close delimiter at byte offset {self._offset(at + 2)} before any body part; "
                    "RFC 2046 5.1.1 requires at least one"
                )
            self.done = True
            self._buf.clear()
            return
        self._start = self._scan = end
        self._in_part = True

    def _take_part(self, end: int) -> Part:
        buf, start = self._buf, self._start
        self._parts += 1
        if buf.startswith(CRLF, start, end):
            head_end, body_start = start, start + 2
        else:
            blank = buf.find(CRLF + CRLF, start, end)
            if blank >= 0:
                head_end, body_start = blank + 2, blank + 4
            elif end == start or buf.endswith(CRLF, start, end):
                # RFC 2046 5.1.1: body-part := MIME-part-headers [CRLF *OCTET]
                head_end = body_start = end
            else:
                raise MultipartError(self._unterminated_headers_message(end))
        with memoryview(buf) as view:
            head = view[start:head_end].tobytes()
            content = view[body_start:end].tobytes()
        return Part(self._parse_headers(head, self._offset(start)), content)

    def _parse_headers(self, head: bytes, offset: int) -> dict[str, str]:
        """_parse_headers, remembering the few distinct header blocks a body usually repeats."""
        headers = self._header_cache.get(head)
        if headers is None:
            headers = _parse_headers(head, offset)
            if len(self._header_cache) < _HEADER_CACHE_SIZE:
                self._header_cache[head] = headers
        return dict(headers)

    def _unterminated_headers_message(self, end: int) -> str:
        bare = _BARE_EOL_RE.search(self._buf, self._start, end)
        detail = f"; bare CR or LF at byte offset {self._offset(bare.start())}" if bare else ""
        return (
            f"headers of part {self._parts} (byte offset {self._offset(self._start)}) are not terminated "
            f"by CRLF CRLF before the delimiter at byte offset {self._offset(end + 2)}{detail}"
        )

    def _skip_preamble(self) -> None:
        if self._bare_lf_at is None:
            bare = self._bare_lf_re.search(self._buf, max(self._start, 1))
            if bare:
                self._bare_lf_at = self._offset(bare.start() + 1)
        self._start = max(self._start, self._scan - 1)

    def _unterminated_message(self) -> str:
        total = self._offset(len(self._buf))
        if not self._in_part:
            if total == 0:
                return f"empty body: no boundary delimiter '--{self._boundary}' at byte offset 0"
            hint = self._bare_lf_hint(self._bare_lf_at)
            return (
                f"first boundary delimiter '--{self._boundary}' not found "
                f"before the body ends at byte offset {total}{hint}"
            )
        bare = self._bare_lf_re.search(self._buf, self._start)
        hint = self._bare_lf_hint(self._offset(bare.start() + 1) if bare else None)
        return (
            f"body truncated at byte offset {total}: close delimiter '--{self._boundary}--' not found; "
            f"part {self._parts + 1} starts at byte offset {self._offset(self._start)}{hint}"
        )

    def _bare_lf_hint(self, offset: int | None) -> str:
        if offset is None:
            return ""
        return f"; '--{self._boundary}' at byte offset {offset} follows a bare LF (RFC 2046 requires CRLF)"

    def _offset(self, index: int) -> int:
        return self._base + index


def _parse_headers(head: bytes, offset: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    bare = _BARE_EOL_RE.search(head)
    if bare:
        raise MultipartError(f"bare CR or LF at byte offset {offset + bare.start()} in part headers; CRLF required")
    name: str | None = None
    for line in head[:-2].split(CRLF) if head else []:
        if line[:1] in (b" ", b"\t"):
            # RFC 5322 2.2.3: a line starting with white space continues a folded field.
            if name is None:
                raise MultipartError(f"part headers start with a continuation line at byte offset {offset}")
            headers[name] += " " + _decode(line.strip(b" \t"), offset)
        else:
            name, value = _header_field(line, offset)
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        offset += len(line) + 2
    return headers


def _header_field(line: bytes, offset: int) -> tuple[str, str]:
    colon = line.find(b":")
    if colon < 0:
        raise MultipartError(f"part header line without a colon at byte offset {offset}: {line[:60]!r}")
    # RFC 5322 4.5: obsolete syntax allows white space before the colon.
    raw_name = line[:colon].rstrip(b" \t")
    if not FIELD_NAME_RE.fullmatch(raw_name):
        raise MultipartError(f"invalid header field name {raw_name[:60]!r} at byte offset {offset}")
    return raw_name.decode("ascii").lower(), _decode(line[colon + 1 :].strip(b" \t"), offset)


def _decode(raw: bytes, offset: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MultipartError(f"part header at byte offset {offset} is not UTF-8: {raw[:60]!r}") from exc
