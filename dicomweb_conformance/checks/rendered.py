"""Rendered resources (PS3.18 10.4.1.1.3, 8.7.4): ask for one, and check it is the image it claims, of the right
size. The WADO rendered checks and the per-file checks share these."""

from __future__ import annotations

from collections.abc import Callable

import requests

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail
from dicomweb_conformance.dicom.images import ImageFormatError, ImageHeader, jpeg_header, png_header
from dicomweb_conformance.transport.client import DicomwebClient

JPEG, PNG = "image/jpeg", "image/png"


def rendered(client: DicomwebClient, path: str, accept: str | None, what: str, **params: str) -> requests.Response:
    """GET {path}/rendered, with no Accept header at all when `accept` is None; it must answer 200."""
    if accept is None:
        response = client.get_without_accept(f"{path}/rendered", params=params or None)
    else:
        response = client.get(f"{path}/rendered", accept=accept, params=params or None)
    expect_status(response, 200, what)
    return response


def image_header(response: requests.Response, kind: str, what: str) -> ImageHeader:
    """The media type is `kind` and the body really is such an image; its frame header."""
    expect_media_type(response, kind, what)
    parse: Callable[[bytes], ImageHeader] = jpeg_header if kind == JPEG else png_header
    try:
        return parse(response.content)
    except ImageFormatError as error:
        raise fail(
            f"{what}: the body is not a valid {kind}", expected=kind, actual=str(error), response=response
        ) from None


def check_size(header: ImageHeader, columns: int, rows: int, what: str, response: requests.Response) -> None:
    if (header.width, header.height) != (columns, rows):
        raise fail(
            f"{what}: the image is not Columns x Rows",
            expected=f"{columns} x {rows}",
            actual=f"{header.width} x {header.height}",
            response=response,
        )
