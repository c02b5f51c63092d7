"""Media types (RFC 9110 8.3.1) and Accept header lists (RFC 9110 12.5.1)."""

from __future__ import annotations

import re

_PARAMETER = re.compile(r'\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')

# Azure's AcceptContentFilterAttribute lets these through for application/dicom+json answers.
DICOM_JSON_ACCEPTABLE = frozenset({"application/dicom+json", "application/json", "application/*", "*/*"})


def split_outside_quotes(value: str, separator: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """`type/subtype; name=value` -> ("type/subtype", {name: value}); names and the type lower-cased."""
    first, *rest = split_outside_quotes(value, ";")
    params: dict[str, str] = {}
    for piece in rest:
        match = _PARAMETER.fullmatch(piece.strip())
        if match is None:
            continue
        raw = match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return first.strip().lower(), params


def accepted_media_types(accept: str) -> list[str]:
    """The media ranges of an Accept header that are acceptable at all (q > 0)."""
    ranges: list[str] = []
    for item in split_outside_quotes(accept, ","):
        if not item.strip():
            continue
        media_type, params = parse_media_type(item)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            continue
        if quality > 0:
            ranges.append(media_type)
    return ranges


def accepts_dicom_json(accept: str | None) -> bool:
    """Azure answers 406 when no Accept header is sent (its AcceptContentFilterAttribute unit tests)."""
    if accept is None:
        return False
    return any(media_type in DICOM_JSON_ACCEPTABLE for media_type in accepted_media_types(accept))
