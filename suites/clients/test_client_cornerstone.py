"""cornerstone3D's @cornerstonejs/dicom-image-loader 5.14.0 viewing images over WADO-RS: its frame request sent as
its loadImage sends it, each answer cut, labelled and decoded as its extractMultipart, getTransferSyntaxForContentType
and decodeImageFrame do (dicomweb_conformance/checks/clients_cornerstone.py), and the metadata its WADO-RS provider
reads to build the image.

The study (fixtures/client_cornerstone_fixtures.py) holds the dicomweb-client study's native, 120-frame MR and JPEG
2000 images and one built-in corpus file per further syntax the loader decodes (JPEG baseline grey and YBR 4:2:2,
Deflated Explicit VR Little Endian, JPEG lossless, JPEG-LS lossless and near-lossless, JPEG 2000 lossy and colour, RLE,
a JPEG 2000 120-frame MR).
"""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.clients import ClientStudy
from dicomweb_conformance.checks.clients_cornerstone import (
    ACCEPT_METADATA,
    CS3D_FILES,
    FRAME_CASES,
    check_pixels,
    check_syntax,
    metadata_dataset,
    pixel_module_problems,
    view_frame,
)
from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import series_path


@pytest.mark.req("CL-CS3D-FRAMES-MULTIPART")
@pytest.mark.parametrize("case", FRAME_CASES)
def test_cs3d_frame_extracts(client: DicomwebClient, cornerstone_study: ClientStudy, case: str) -> None:
    """frames/N with the loader's unquoted Accept answers 200 or 206 and extractMultipart cuts a frame out of it."""
    view_frame(client, cornerstone_study, case)


@pytest.mark.req("CL-CS3D-FRAMES-TS")
@pytest.mark.parametrize("case", FRAME_CASES)
def test_cs3d_frame_syntax(client: DicomwebClient, cornerstone_study: ClientStudy, case: str) -> None:
    """The transfer syntax the loader derives from the part's 'Content-Type:' header has a decoder, and the bytes
    are a frame of it (native: Rows x Columns x Samples x Bits/8 bytes; compressed: its codestream)."""
    check_syntax(view_frame(client, cornerstone_study, case))


@pytest.mark.req("CL-CS3D-FRAMES-PIXELS")
@pytest.mark.parametrize("case", FRAME_CASES)
def test_cs3d_frame_pixels(client: DicomwebClient, cornerstone_study: ClientStudy, case: str) -> None:
    """Decoded by the syntax the loader derived, the frame shows the stored frame N."""
    check_pixels(view_frame(client, cornerstone_study, case))


@pytest.mark.req("CL-CS3D-METADATA")
@pytest.mark.parametrize("name", CS3D_FILES)
def test_cs3d_metadata(client: DicomwebClient, cornerstone_study: ClientStudy, name: str) -> None:
    """Series metadata holds the instance with the Image Pixel attributes (and NumberOfFrames, the rescale pair
    where stored) that the WADO-RS metadata provider reads, parseFloat giving the stored values."""
    instance = cornerstone_study[name]
    response = client.get(series_path(instance) + "/metadata", accept=ACCEPT_METADATA)
    what = f"series metadata of {name} ({ACCEPT_METADATA})"
    problems = pixel_module_problems(metadata_dataset(response, instance, what), instance)
    if problems:
        raise fail(
            f"{what}: the metadata provider builds the image from wrong or missing attributes",
            expected="each attribute present, parseFloat giving the stored value",
            actual=problems,
            response=response,
        )
