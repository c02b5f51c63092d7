"""WADO-RS, metadata, QIDO-RS, frames and rendered: forwarded to Orthanc's DICOMweb root, streamed back.

Four things are added, all Azure behaviour Orthanc lacks: a QIDO answer of 200 "[]" becomes
204 with no body (reference 1.3); QIDO results carry the API version's default attributes
(qido_defaults.py); QIDO and metadata requests without an Accept header get 406
(reference 1.12, item 8); metadata answers carry an ETag and honour If-None-Match with 304
(reference 1.2). Everything else is Orthanc's own answer.
"""

from __future__ import annotations

import itertools

from tests.doubles.facade.etag import entity_tag, none_match_fails
from tests.doubles.facade.messages import CHUNK, Request, Response, empty
from tests.doubles.facade.qido_defaults import with_defaults
from tests.doubles.facade.state import FacadeState

_COPIED_HEADERS = ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Warning", "Content-Location")


def _forward(
    request: Request, state: FacadeState, *, needs_accept: bool, empty_list_is_204: bool, query_string: str
) -> Response:
    accept = request.headers.get("Accept")
    if needs_accept and not (accept or "").strip():
        return empty(406)
    upstream = state.orthanc.open_dicomweb(request.method, request.raw_path, query_string, accept)
    headers = {name: upstream.headers[name] for name in _COPIED_HEADERS if name in upstream.headers}
    length = headers.pop("Content-Length", None)
    head = b""
    if empty_list_is_204 and upstream.status_code == 200:
        head = upstream.read(64)
        if len(head) < 64 and head.strip() == b"[]":
            upstream.close()
            return empty(204)
    rest = upstream.stream(CHUNK)
    return Response(
        upstream.status_code,
        headers=headers,
        stream=itertools.chain([head], rest) if head else rest,
        length=int(length) if length is not None and length.isdigit() else None,
        close=upstream.close,
    )


def forward_qido(request: Request, state: FacadeState) -> Response:
    # Azure's default attributes differ between v1 and v2 (tests/doubles/facade/qido_defaults.py).
    query_string = with_defaults(request.version, request.segments, request.query_string)
    return _forward(request, state, needs_accept=True, empty_list_is_204=True, query_string=query_string)


def forward_metadata(request: Request, state: FacadeState) -> Response:
    """Metadata is small: read it whole, so its entity tag can be computed before answering."""
    accept = request.headers.get("Accept")
    if not (accept or "").strip():
        return empty(406)
    upstream = state.orthanc.open_dicomweb(request.method, request.raw_path, request.query_string, accept)
    try:
        body = upstream.content
    finally:
        upstream.close()
    headers = {name: upstream.headers[name] for name in _COPIED_HEADERS if name in upstream.headers}
    headers.pop("Content-Length", None)
    if upstream.status_code != 200:
        return Response(upstream.status_code, body, headers)
    headers["ETag"] = entity_tag(body)
    if none_match_fails(request.headers.get("If-None-Match"), headers["ETag"]):
        # RFC 9110 15.4.5: a 304 carries the ETag a 200 would have, and no content.
        return Response(304, headers={"ETag": headers["ETag"]})
    return Response(200, body, headers)


def forward_retrieve(request: Request, state: FacadeState) -> Response:
    return _forward(request, state, needs_accept=False, empty_list_is_204=False, query_string=request.query_string)
