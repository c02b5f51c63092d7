"""CORS as a browser applies it to the requests of OHIF and cornerstone, from the web origin of a viewer.

The rules are the user agent's side of the Fetch standard's CORS protocol (https://fetch.spec.whatwg.org, read at
commit 586cd2a4 of whatwg/fetch, 2026-07-02), at the level it states them:
- #cors-safelisted-request-header / #cors-unsafe-request-header-names: which request headers need a preflight;
- #main-fetch: a request is preflighted when its method is not a CORS-safelisted method (GET, HEAD, POST) or it
  has CORS-unsafe request-header names;
- #cors-preflight-fetch: the preflight is `OPTIONS` with `Origin`, `Accept: */*`, `Access-Control-Request-Method`
  and `Access-Control-Request-Headers` (the unsafe names, sorted, lower-case, joined by ","), sent without
  credentials; it succeeds when its status is an ok status (200-299), the CORS check passes, the method is listed
  in Access-Control-Allow-Methods (or `*`, or it is CORS-safelisted), and every unsafe header name is listed in
  Access-Control-Allow-Headers (`*` covers all but `Authorization`: #cors-non-wildcard-request-header-name);
- #concept-cors-check: a response (preflight or actual, whatever its status) is shared with the page only when
  Access-Control-Allow-Origin is the request's origin, or `*` for a request whose credentials mode is not
  "include"; without it the page sees a network error (XMLHttpRequest status 0), not the status or the body.

Neither client makes a credentialed request: dicomweb-client 0.11.3 (what OHIF's DicomWebDataSource uses) sets
`withCredentials` only when asked (src/api.js getRequestOptions, _httpRequest), and OHIF never asks; cornerstone's
xhrRequest never sets it. So `*` is a valid answer everywhere except for `Authorization` in Allow-Headers, where
Chromium 156 (Debian 12's) still accepts it: a SHALL check judges as the browser does, a SHOULD as the standard.

What the clients read of a response: the status and body, and Content-Type (dicomweb-client src/api.js _httpRequest
`getResponseHeader('Content-Type')`, cornerstone wadors/getPixelData.ts 60) - a CORS-safelisted response-header
name (#cors-safelisted-response-header-name), readable without Access-Control-Expose-Headers. No default request
reads another header, so no requirement asks for Expose-Headers (cornerstone reads Content-Range only in its opt-in
range retrieve, internal/rangeRequest.ts 167).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

from dicomweb_conformance.checks.common import fail, status_line
from dicomweb_conformance.transport.client import DicomwebClient

SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})  # Fetch #cors-safelisted-method
# Fetch #cors-unsafe-request-header-byte: bytes below 0x20 other than HT, these delimiters, and DEL.
_UNSAFE_BYTES = frozenset(b'"():<>?@[\\]{}\x7f') | (frozenset(range(0x20)) - {0x09})
_SAFELISTED_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_LANGUAGE_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")
NON_WILDCARD_HEADER = "authorization"  # Fetch #cors-non-wildcard-request-header-name

OHIF = "OHIF 3.11"
CORNERSTONE = "cornerstone3D dicomImageLoader 5.8.2"
# A stand-in for the token of OHIF's userAuthenticationService (index.ts getAuthorizationHeader); a preflight never
# carries it, and a target with credentials of its own sends those instead.
VIEWER_AUTHORIZATION = "Bearer viewer-login-token"
# platform/core/src/utils/generateAcceptHeader.ts with the data source's defaults (no acceptHeader, no
# requestTransferSyntaxUID, omitQuotationForMultipartRequest false): every parameter quoted.
OHIF_FRAMES_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax="*"'
# packages/dicomImageLoader/src/imageLoader/wadors/loadImage.ts 122: unquoted.
CORNERSTONE_FRAMES_ACCEPT = "multipart/related; type=application/octet-stream; transfer-syntax=*"
DICOM_JSON = "application/dicom+json"  # dicomweb-client src/api.js MEDIATYPES.DICOM_JSON, every search and metadata


def is_safelisted_request_header(name: str, value: str) -> bool:
    """Fetch #cors-safelisted-request-header (the headers a page may send cross-origin without a preflight)."""
    data = value.encode("latin-1")
    if len(data) > 128:
        return False
    lowered = name.lower()
    if lowered == "accept":
        return not any(byte in _UNSAFE_BYTES for byte in data)
    if lowered in ("accept-language", "content-language"):
        return all(byte in _LANGUAGE_BYTES for byte in data)
    if lowered == "content-type":
        essence = value.split(";", 1)[0].strip().lower()
        return not any(byte in _UNSAFE_BYTES for byte in data) and essence in _SAFELISTED_CONTENT_TYPES
    return False


def unsafe_request_header_names(headers: Mapping[str, str]) -> list[str]:
    """Fetch #cors-unsafe-request-header-names: the names the preflight must ask for, sorted and lower-case."""
    unsafe = {name.lower() for name, value in headers.items() if not is_safelisted_request_header(name, value)}
    safelisted = {name.lower(): value for name, value in headers.items() if is_safelisted_request_header(name, value)}
    if sum(len(value.encode("latin-1")) for value in safelisted.values()) > 1024:
        unsafe |= set(safelisted)
    return sorted(unsafe)


@dataclass(frozen=True)
class BrowserRequest:
    """One request a client makes from the viewer's page: what the page's script sets, before the browser adds
    Origin (and, for a request needing it, sends the preflight first)."""

    client: str
    what: str
    method: str
    path: str
    headers: Mapping[str, str]
    query: tuple[tuple[str, str], ...] = ()

    @property
    def unsafe_headers(self) -> list[str]:
        return unsafe_request_header_names(self.headers)

    @property
    def needs_preflight(self) -> bool:
        return self.method not in SAFELISTED_METHODS or bool(self.unsafe_headers)


def preflight(client: DicomwebClient, request: BrowserRequest, origin: str) -> requests.Response:
    """The browser's CORS-preflight request for `request` (Fetch #cors-preflight-fetch steps 1-5): no credentials."""
    headers = {"Origin": origin, "Accept": "*/*", "Access-Control-Request-Method": request.method}
    if request.unsafe_headers:
        headers["Access-Control-Request-Headers"] = ",".join(request.unsafe_headers)
    return client.request("OPTIONS", request.path, headers=headers, authenticate=False)


def _values(response: requests.Response, name: str) -> list[str]:
    """Fetch #extract-header-list-values, for the comma lists of the CORS headers."""
    raw = response.headers.get(name)
    return [] if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


def check_ok_status(response: requests.Response, request: BrowserRequest, who: str) -> None:
    if not 200 <= response.status_code <= 299:
        raise fail(
            f"the preflight of {request.what} is not answered with an ok status: the browser never sends the "
            f"request, {who} sees a network error",
            expected="a 2xx answer to OPTIONS (Fetch #cors-preflight-fetch step 7: ok status)",
            actual=status_line(response),
            response=response,
        )


def check_allow_origin(response: requests.Response, origin: str, what: str, who: str) -> None:
    """Fetch #concept-cors-check for a request whose credentials mode is not "include"."""
    allowed = response.headers.get("Access-Control-Allow-Origin")
    if allowed not in (origin, "*"):
        raise fail(
            f"{what} ({response.status_code}) is not shared with the viewer's origin: the browser hands {who} a "
            "network error (status 0, no body)",
            expected=f"Access-Control-Allow-Origin: {origin} (or *)",
            actual=f"Access-Control-Allow-Origin: {allowed}"
            if allowed is not None
            else "no Access-Control-Allow-Origin",
            response=response,
        )


def check_allow_method(response: requests.Response, request: BrowserRequest, who: str) -> None:
    """Fetch #cors-preflight-fetch step 7.5: a CORS-safelisted method needs no Access-Control-Allow-Methods."""
    methods = _values(response, "Access-Control-Allow-Methods")
    if request.method in SAFELISTED_METHODS or request.method in methods or "*" in methods:
        return
    raise fail(
        f"the preflight of {request.what} does not allow {request.method}: {who} sees a network error",
        expected=f"Access-Control-Allow-Methods listing {request.method}",
        actual=", ".join(methods) or "no Access-Control-Allow-Methods",
        response=response,
    )


def check_allow_headers(
    response: requests.Response,
    request: BrowserRequest,
    names: list[str],
    who: str,
    *,
    wildcard_covers_authorization: bool = False,
) -> None:
    """Fetch #cors-preflight-fetch steps 7.6-7.7: every name in `names` listed (case-insensitive); `*` stands for
    any name except Authorization. `wildcard_covers_authorization`: judge as Chromium 156 does, which still lets `*`
    cover Authorization (a leniency it deprecates; measured by tests/integration/test_cors_in_browser.py)."""
    allowed = {name.lower() for name in _values(response, "Access-Control-Allow-Headers")}
    wildcard = "*" in allowed

    def covered(name: str) -> bool:
        if name in allowed:
            return True
        return wildcard and (name != NON_WILDCARD_HEADER or wildcard_covers_authorization)

    missing = [name for name in names if not covered(name)]
    if missing:
        standard_only = NON_WILDCARD_HEADER in missing and wildcard
        raise fail(
            f"the preflight of {request.what} does not allow the header(s) {', '.join(missing)} the browser asked for"
            + (
                ": `*` never covers Authorization under the Fetch standard (Chromium 156 still accepts it, deprecated)"
                if standard_only
                else f": {who} sees a network error"
            ),
            expected=f"Access-Control-Allow-Headers listing {', '.join(names)}",
            actual=response.headers.get("Access-Control-Allow-Headers", "no Access-Control-Allow-Headers"),
            response=response,
        )


def send_actual(
    client: DicomwebClient, request: BrowserRequest, origin: str, body: bytes | None = None
) -> requests.Response:
    """The request itself as the browser sends it after the preflight: the page's headers and Origin (a target
    with credentials of its own sends those instead of the viewer's stand-in token)."""
    headers = {**request.headers, "Origin": origin}
    return client.request(request.method, request.path, headers=headers, params=list(request.query) or None, data=body)


# --- the clients' requests, as their code builds them -----------------------------------------------------------------
# OHIF 3.11 qido.js mapParams (a study list opened on studies by UID, qidoSupportsIncludeField): the comma list of
# includefield, limit=101 to see whether there are more than 100.
OHIF_STUDY_LIST_QUERY = (
    ("limit", "101"),
    ("offset", "0"),
    ("fuzzymatching", "false"),
    ("includefield", "00081030,00080060,00080090,00100030"),
)


def ohif_requests(study_uid: str, series: str, instance: str, boundary: str) -> dict[str, BrowserRequest]:
    """OHIF with a login: `series` and `instance` are the paths of one series and one instance of the study."""
    login = {"Authorization": VIEWER_AUTHORIZATION}
    return {
        "study-search": BrowserRequest(  # qido.js search -> searchForStudies -> _httpGetApplicationJson
            OHIF,
            "the study search (opening the study list)",
            "GET",
            "studies",
            {"Accept": DICOM_JSON, **login},
            (("StudyInstanceUID", study_uid), *OHIF_STUDY_LIST_QUERY),
        ),
        "series-metadata": BrowserRequest(  # retrieveMetadataLoaderAsync -> retrieveSeriesMetadata
            OHIF, "the series metadata (opening a study)", "GET", f"{series}/metadata", {"Accept": DICOM_JSON, **login}
        ),
        "frame": BrowserRequest(  # initWADOImageLoader beforeSend over cornerstone's xhrRequest
            OHIF, "a frame (scrolling a series)", "GET", f"{instance}/frames/1", {"Accept": OHIF_FRAMES_ACCEPT, **login}
        ),
        "store": BrowserRequest(  # store.dicom -> storeInstances (no Accept of its own)
            OHIF,
            "the STOW of an SR (saving a measurement)",
            "POST",
            "studies",
            {"Content-Type": f'multipart/related; type="application/dicom"; boundary="{boundary}"', **login},
        ),
    }


def ohif_missing_metadata(study_uid: str, series_uid: str) -> BrowserRequest:
    """The series metadata of a study that is not there (a link to a study since deleted): an error answer."""
    path = f"studies/{study_uid}/series/{series_uid}/metadata"
    headers = {"Accept": DICOM_JSON, "Authorization": VIEWER_AUTHORIZATION}
    return BrowserRequest(OHIF, "the metadata of a study that is not there", "GET", path, headers)


def cornerstone_frame(instance: str, what: str = "a frame") -> BrowserRequest:
    """cornerstone's own wadors frame request: its Accept and no beforeSend headers."""
    return BrowserRequest(CORNERSTONE, what, "GET", f"{instance}/frames/1", {"Accept": CORNERSTONE_FRAMES_ACCEPT})


def multipart_body(parts: list[bytes], boundary: str) -> bytes:
    """dicomweb-client 0.11.3 src/message.js multipartEncode: CRLF, delimiter, one Content-Type line, CRLFCRLF."""
    chunks = [f"\r\n--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part for part in parts]
    return b"".join(chunks) + f"\r\n--{boundary}--".encode()
