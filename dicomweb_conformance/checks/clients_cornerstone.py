"""What cornerstone3D's @cornerstonejs/dicom-image-loader 5.14.0 (npm, the current release) sends for WADO-RS
frames, and what it needs of the answer to show the image.

Every function here does what the loader's own code does (the published package's dist/esm; line numbers of its
5.14.0 files), so a check judges the answer as the viewer would:
`xhrRequest` takes 200 and 206 only, `extractMultipart` cuts the frame out of the body,
`getTransferSyntaxForContentType` names its transfer syntax, `decodeImageFrame` picks a decoder by that syntax (or
throws), and the WADO-RS metadata provider reads the Image Pixel attributes with `parseFloat`.
tests/integration/test_cornerstone_parsing_agrees.py runs the published package's JS on the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import requests

from dicomweb_conformance.checks.clients import ClientStudy, build_client_study
from dicomweb_conformance.checks.common import fail, status_line
from dicomweb_conformance.dicom import part10
from dicomweb_conformance.dicom.codecs import (
    LOSSY_SYNTAXES,
    LOSSY_TOLERANCE,
    ImageDescription,
    decode_frame,
    decode_frames,
    frame_magic_matches,
)
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb

CLIENT = "@cornerstonejs/dicom-image-loader 5.14.0"
# imageLoader/wadors/loadImage.js (62): the Accept of every frame request, unquoted.
ACCEPT_FRAMES = "multipart/related; type=application/octet-stream; transfer-syntax=*"
# What OHIF's data source (dicomweb-client JS) asks metadata with, the JSON the app hands to wadors.metaDataManager.
ACCEPT_METADATA = "application/dicom+json"
# imageLoader/wadors/loadImage.js getTransferSyntaxForContentType (16): no syntax named or guessed.
DEFAULT_SYNTAX = "1.2.840.10008.1.2"
# loadImage.js (29): the syntax guessed from a media type when no transfer-syntax parameter names one.
SYNTAX_BY_MEDIA_TYPE = {
    "image/jpeg": "1.2.840.10008.1.2.4.50",
    "image/x-dicom-rle": "1.2.840.10008.1.2.5",
    "image/x-jls": "1.2.840.10008.1.2.4.80",
    "image/jls": "1.2.840.10008.1.2.4.80",
    "image/jll": "1.2.840.10008.1.2.4.70",
    "image/jp2": "1.2.840.10008.1.2.4.90",
    "image/jpx": "1.2.840.10008.1.2.4.92",
    "image/jxl": "1.2.840.10008.1.2.4.110",
    "application/x-deflate": "1.2.840.10008.1.2.8.1",
    "image/jphc": "3.2.840.10008.1.2.4.96",
}
# decodeImageFrameWorker.js decodeImageFrame (213): the cases of its switch; any other syntax throws
# "no decoder for transfer syntax".
DECODED_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.1.98",
        "1.2.840.10008.1.2.8.1",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.53",
        "1.2.840.10008.1.2.4.55",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "3.2.840.10008.1.2.4.96",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
        "1.2.840.10008.1.2.4.110",
        "1.2.840.10008.1.2.4.111",
        "1.2.840.10008.1.2.4.112",
    }
)
# decodeLittleEndian / decodeBigEndian / decodeEncapsulatedUncompressed: the bytes as they are (a deflated dataset's
# frame is inflated by the server).
_NATIVE = frozenset(
    {
        "1.2.840.10008.1.2",
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.2",
        "1.2.840.10008.1.2.1.99",
        "1.2.840.10008.1.2.1.98",
    }
)

# The study the CL-CS3D checks read: the dicomweb-client study's three files (native, 120-frame MR, JPEG 2000)
# and one built-in corpus file per further syntax or colour form the loader decodes.
CS3D_FILES = (
    "sc8_explicit",
    "enhmr120_explicit",
    "ct16s_j2k_lossless",
    "ct16s_deflated",
    "rgb_explicit",
    "sc8_jpeg_baseline",
    "rgb_jpeg_baseline",
    "ct16s_jpeg_lossless_sv1",
    "ct16s_jpegls_lossless",
    "mr12_jpegls_near_lossless",
    "mr12_j2k_lossy",
    "rgb_j2k_lossless",
    "ct16s_rle",
    "enhmr120_j2k_lossless",
)
# The frames viewed: frame 1 of each, and the last frame of each multi-frame (frame N of the encapsulated data).
FRAME_CASES = tuple(
    f"{name}-{frame}" for name in CS3D_FILES for frame in ((1, 120) if name.startswith("enhmr120") else (1,))
)


def build_cornerstone_study(run_id: str) -> ClientStudy:
    return build_client_study(run_id, CS3D_FILES)


def store_cornerstone_study(dicomweb: Dicomweb, run_id: str) -> ClientStudy:
    study = build_cornerstone_study(run_id)
    dicomweb.store_and_wait(list(study.instances.values()), what="the cornerstone study")
    return study


# --- extractMultipart and getTransferSyntaxForContentType, line for line ------------------------------------------


class ExtractError(ValueError):
    """What extractMultipart throws (its own message)."""


@dataclass(frozen=True)
class Extracted:
    content_type: str | None  # the part's `Content-Type:` header value, or the response's for a single part
    pixel_data: bytes


def extract_multipart(content_type: str, body: bytes) -> Extracted:
    """imageLoader/wadors/extractMultipart.js extractMultipart (4), as getPixelData.js (29) calls it: a Content-Type
    without 'multipart' is one part; else the head is everything up to the first CRLFCRLF, the boundary is its first
    line starting '--' (the whole line), the frame ends 2 bytes before that line's next occurrence."""
    if "multipart" not in content_type:
        return Extracted(content_type, body)
    token_index = body.find(b"\r\n\r\n")
    if token_index == -1:
        raise ExtractError("invalid response - no multipart mime header")
    # uint8ArrayToString(response, 0, tokenIndex): a length of 0 is taken as "to the end".
    head = body[: token_index or len(body)].decode("latin-1")
    lines = head.split("\r\n")
    boundary = next((line for line in lines if line[:2] == "--"), None)
    if not boundary:
        raise ExtractError("invalid response - no boundary marker")
    offset = token_index + 4
    end_index = body.find(boundary.encode("latin-1"), offset)
    if end_index == -1:
        raise ExtractError("invalid response - terminating boundary not found")
    part_type = next((line[13:].strip() for line in lines if line[:13] == "Content-Type:"), None)
    return Extracted(part_type, body[offset : max(offset, end_index - 2)])


def transfer_syntax_for_content_type(content_type: str | None) -> str:
    """imageLoader/wadors/loadImage.js getTransferSyntaxForContentType (16)."""
    if not content_type:
        return DEFAULT_SYNTAX
    params: dict[str, str] = {}
    for parameter in content_type.split(";"):
        values = parameter.split("=")
        if len(values) != 2:
            continue
        params[values[0].strip()] = values[1].strip().replace('"', "")
    if params.get("transfer-syntax"):
        return params["transfer-syntax"]
    if not params and content_type in SYNTAX_BY_MEDIA_TYPE:
        return SYNTAX_BY_MEDIA_TYPE[content_type]
    if params.get("type") in SYNTAX_BY_MEDIA_TYPE:
        return SYNTAX_BY_MEDIA_TYPE[params["type"]]
    return SYNTAX_BY_MEDIA_TYPE.get(content_type, DEFAULT_SYNTAX)


# --- the checks' steps ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewedFrame:
    instance: SampleInstance
    number: int
    response: requests.Response
    extracted: Extracted

    @property
    def syntax(self) -> str:
        return transfer_syntax_for_content_type(self.extracted.content_type)

    @property
    def what(self) -> str:
        return f"frame {self.number} of {self.instance.name} ({self.instance.transfer_syntax_uid} stored)"


def frame_instance(study: ClientStudy, case: str) -> tuple[SampleInstance, int]:
    name, _, number = case.rpartition("-")
    return study[name], int(number)


def view_frame(client: DicomwebClient, study: ClientStudy, case: str) -> ViewedFrame:
    """GET frames/N as loadImage -> getPixelData -> xhrRequest sends it; extracted as the loader extracts it."""
    instance, number = frame_instance(study, case)
    path = (
        f"studies/{instance.study_uid}/series/{instance.series_uid}/instances/{instance.sop_instance_uid}"
        f"/frames/{number}"
    )
    response = client.get(path, accept=ACCEPT_FRAMES)
    extracted = read_frame(response, f"frame {number} of {instance.name} ({ACCEPT_FRAMES})")
    return ViewedFrame(instance, number, response, extracted)


def read_frame(response: requests.Response, what: str) -> Extracted:
    """What the loader makes of a frames answer: xhrRequest's status test, then extractMultipart."""
    if response.status_code not in (200, 206):  # internal/xhrRequest.js (60)
        raise fail(
            f"{what}: xhrRequest rejects every status but 200 and 206; the viewport shows no image",
            expected="200 (or 206)",
            actual=status_line(response),
            response=response,
        )
    content_type = response.headers.get("Content-Type") or "application/octet-stream"  # getPixelData.js (29)
    try:
        return extract_multipart(content_type, response.content)
    except ExtractError as error:
        raise fail(
            f"{what}: extractMultipart throws {str(error)!r}",
            expected="a first CRLFCRLF, a '--boundary' line before it, that line again after the frame",
            actual=f"Content-Type {content_type!r}, body starts {response.content[:160]!r}",
            response=response,
        ) from None


def image_of(instance: SampleInstance) -> ImageDescription:
    return ImageDescription.of(instance.dataset)


def check_syntax(frame: ViewedFrame) -> None:
    """The derived syntax has a decoder, and the bytes are a frame of it (a native frame's length, a codestream's
    signature), so decodeImageFrame hands them to the decoder that reads them."""
    syntax, data = frame.syntax, frame.extracted.pixel_data
    shown = f"part Content-Type {frame.extracted.content_type!r} -> {syntax}"
    if syntax not in DECODED_SYNTAXES:
        raise fail(
            f"{frame.what}: decodeImageFrame throws 'no decoder for transfer syntax {syntax}'",
            expected="a transfer syntax the loader decodes (from the part's 'Content-Type:' header)",
            actual=shown,
            response=frame.response,
        )
    image = image_of(frame.instance)
    checked = part10.EXPLICIT_VR_LITTLE_ENDIAN if syntax in _NATIVE else syntax
    if not frame_magic_matches(data, checked, image):
        raise fail(
            f"{frame.what}: the bytes are not a frame of the syntax the loader derived"
            "; its decoder fails or shows noise",
            expected=f"a {syntax} frame"
            + (f" of {image.native_frame_size} bytes (Rows x Columns x Samples x Bits/8)" if syntax in _NATIVE else ""),
            actual=f"{shown}; {len(data)} bytes starting {data[:16]!r}",
            response=frame.response,
        )


def check_pixels(frame: ViewedFrame) -> None:
    """Decoded by the derived syntax, the frame shows the stored frame N (exactly; within the corpus's lossy tolerance
    when a lossy syntax is involved)."""
    check_syntax(frame)
    syntax, data = frame.syntax, frame.extracted.pixel_data
    image = image_of(frame.instance)
    if syntax == part10.EXPLICIT_VR_BIG_ENDIAN and image.bits_allocated > 8:
        data = np.frombuffer(data, dtype=f">u{image.bits_allocated // 8}").byteswap().tobytes()
    checked = part10.EXPLICIT_VR_LITTLE_ENDIAN if syntax in _NATIVE else syntax
    stored = decode_frames(frame.instance.dataset)[frame.number - 1]
    try:
        shown = decode_frame(data, checked, image)
    except Exception as error:  # the codec's own error: the loader's decoder fails on the same bytes
        raise fail(
            f"{frame.what}: the {syntax} decoder fails on the frame",
            expected=f"a {syntax} frame that decodes",
            actual=f"{type(error).__name__}: {error}",
            response=frame.response,
        ) from None
    lossy = syntax in LOSSY_SYNTAXES or frame.instance.transfer_syntax_uid in LOSSY_SYNTAXES
    if not _same_pixels(shown, stored, image, lossy):
        raise fail(
            f"{frame.what}: the viewer shows other pixels than the stored frame {frame.number}",
            expected=f"frame {frame.number} as stored" + (" (within the lossy tolerance)" if lossy else ", exactly"),
            actual=f"decoded {shown.shape} differs from {stored.shape}",
            response=frame.response,
        )


def _same_pixels(shown: np.ndarray, stored: np.ndarray, image: ImageDescription, lossy: bool) -> bool:
    if shown.shape != stored.shape:
        return False
    if not lossy:
        return bool(np.array_equal(shown, stored))
    worst = np.abs(shown.astype(np.int64) - stored.astype(np.int64)).max()
    return bool(worst <= LOSSY_TOLERANCE * (2**image.bits_stored - 1))


# --- the metadata provider (imageLoader/wadors/metaData/metaDataProvider.js) ---------------------------------------

# IMAGE_PIXEL (171) and MULTIFRAME (15, via combineFrameInstance.js 19): read with getNumberValue (parseFloat) or
# getValue; MODALITY_LUT (200) reads the rescale pair, checked where the instance has it.
IMAGE_PIXEL_NUMBERS = {
    "00280002": "SamplesPerPixel",
    "00280010": "Rows",
    "00280011": "Columns",
    "00280100": "BitsAllocated",
    "00280101": "BitsStored",
    "00280103": "PixelRepresentation",
}
PHOTOMETRIC = "00280004"
RESCALE = {"00281052": "RescaleIntercept", "00281053": "RescaleSlope"}
NUMBER_OF_FRAMES = "00280008"
_JS_FLOAT = re.compile(r"\s*([+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))")


def js_parse_float(value: Any) -> float | None:
    """JavaScript's parseFloat of a DICOM JSON value (None for NaN)."""
    match = _JS_FLOAT.match(str(value))
    return float(match.group(1)) if match else None


def get_value(dataset: dict[str, Any], tag: str) -> Any:
    """metaData/getValue.js: Value[0], or undefined when the element, its Value or the first value is missing."""
    element = dataset.get(tag)
    if not isinstance(element, dict):
        return None
    value = element.get("Value")
    if not value or not isinstance(value, list):
        return None
    return value[0]


def pixel_module_problems(dataset: dict[str, Any], instance: SampleInstance) -> list[str]:
    """What the provider would give the image wrong or not at all, against the stored instance."""
    stored = instance.dataset
    wanted: dict[str, tuple[str, float]] = {
        tag: (keyword, float(stored[keyword].value)) for tag, keyword in IMAGE_PIXEL_NUMBERS.items()
    }
    wanted.update(
        {tag: (keyword, float(stored[keyword].value)) for tag, keyword in RESCALE.items() if keyword in stored}
    )
    frames = int(stored.get("NumberOfFrames") or 1)
    if frames > 1:
        wanted[NUMBER_OF_FRAMES] = ("NumberOfFrames", float(frames))
    problems = []
    for tag, (keyword, expected) in wanted.items():
        raw = get_value(dataset, tag)
        number = None if raw is None else js_parse_float(raw)
        if number is None or abs(number - expected) > 1e-6 * max(1.0, abs(expected)):
            problems.append(f"{keyword} ({tag}): parseFloat gives {number}, stored {expected:g}")
    photometric = get_value(dataset, PHOTOMETRIC)
    if photometric != str(stored.PhotometricInterpretation):
        problems.append(
            f"PhotometricInterpretation ({PHOTOMETRIC}): {photometric!r}, stored {stored.PhotometricInterpretation!r}"
        )
    return problems


def metadata_dataset(response: requests.Response, instance: SampleInstance, what: str) -> dict[str, Any]:
    if response.status_code != 200:
        raise fail(
            f"{what}: no metadata for the loader", expected="200", actual=status_line(response), response=response
        )
    try:
        document = response.json()
    except ValueError:
        raise fail(
            f"{what}: not JSON", expected="a DICOM JSON array", actual=response.text[:200], response=response
        ) from None
    found = [
        item
        for item in (document if isinstance(document, list) else [])
        if isinstance(item, dict) and get_value(item, "00080018") == instance.sop_instance_uid
    ]
    if len(found) != 1:
        raise fail(
            f"{what}: the instance's dataset is not in it once; the loader has no metadata for its imageId",
            expected=f"one dataset with SOPInstanceUID {instance.sop_instance_uid}",
            actual=f"{len(found)} of {len(document) if isinstance(document, list) else type(document).__name__}",
            response=response,
        )
    return found[0]
