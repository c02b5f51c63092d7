"""The WADO-RS checks' shared steps: Accept values, the retrieve corpus as the checks read it, Part 10 parts and
their transfer syntaxes, frames, and the status of answers that must refuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

import pydicom
import requests
from pydicom.dataset import Dataset

from dicomweb_conformance.checks.common import (
    BlockedBy,
    expect_status,
    fail,
    media_type,
    multipart_parts,
    not_applicable,
)
from dicomweb_conformance.corpora.retrieve import build_first_series, build_implicit
from dicomweb_conformance.dicom.part10 import EXPLICIT_VR_LITTLE_ENDIAN
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import Part, parse_media_type
from dicomweb_conformance.transport.store import Dicomweb, instance_path

DICOM = "application/dicom"
OCTET_STREAM = "application/octet-stream"


# --- Accept values -------------------------------------------------------------------------------------------------


def related_accept(part_type: str, transfer_syntax: str | None = None, *, quoted: bool = True) -> str:
    """'multipart/related; type="<part_type>"[; transfer-syntax=<ts>]', with type quoted or not (PS3.18 8.7)."""
    type_value = f'"{part_type}"' if quoted else part_type
    syntax = f"; transfer-syntax={transfer_syntax}" if transfer_syntax else ""
    return f"multipart/related; type={type_value}{syntax}"


def dicom_accept(transfer_syntax: str | None = None, *, quoted: bool = True) -> str:
    return related_accept(DICOM, transfer_syntax, quoted=quoted)


def octet_accept(transfer_syntax: str | None = None, *, quoted: bool = True) -> str:
    return related_accept(OCTET_STREAM, transfer_syntax, quoted=quoted)


def frames_path(instance: SampleInstance, frame_list: str) -> str:
    return f"{instance_path(instance)}/frames/{frame_list}"


# --- the corpus ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrieveCorpus:
    """What the retrieve checks read. `implicit` is None when the target would not store an Implicit VR file."""

    multiframe: SampleInstance
    rgb: SampleInstance
    implicit: SampleInstance | None
    implicit_missing: str | BlockedBy | None = None  # why `implicit` is None: the server's refusal, or a failure

    @property
    def study_uid(self) -> str:
        return self.multiframe.study_uid

    @property
    def first_series(self) -> list[SampleInstance]:
        """The series holding the multi-frame and the RGB instance."""
        return [self.multiframe, self.rgb]

    @property
    def stored(self) -> list[SampleInstance]:
        return [i for i in (self.multiframe, self.rgb, self.implicit) if i is not None]

    def require_implicit(self) -> SampleInstance:
        if isinstance(self.implicit_missing, BlockedBy):
            raise self.implicit_missing
        if self.implicit is None:
            not_applicable(str(self.implicit_missing))
        return self.implicit


def store_retrieve_corpus(dicomweb: Dicomweb, run_id: str) -> RetrieveCorpus:
    """Store the retrieve corpus and wait for it; the Implicit VR instance only where the target stores it."""
    multiframe, rgb = build_first_series(run_id)
    dicomweb.store_and_wait([multiframe, rgb], what="the retrieve corpus")
    implicit = build_implicit(run_id, multiframe.study_uid)
    try:
        dicomweb.store_accepted([implicit], what="the Implicit VR Little Endian instance of the retrieve corpus")
    except BlockedBy as refused:
        # A server may refuse a transfer syntax it does not store (PS3.18 10.5.3, Table 10.5.3-2 failure 0xC122);
        # a refusal is no verdict, a lost or unlisted instance after a 202 is.
        if refused.failure.requirement != "DW-STOW-001":
            raise
        return RetrieveCorpus(multiframe, rgb, None, f"the target refused to store it: {refused.failure.actual}")
    try:
        dicomweb.wait_found([implicit], what="the Implicit VR Little Endian instance of the retrieve corpus")
    except BlockedBy as blocked:
        return RetrieveCorpus(multiframe, rgb, None, blocked)
    return RetrieveCorpus(multiframe, rgb, implicit)


# --- Part 10 parts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DicomPart:
    """One application/dicom part: the transfer syntax its header declares and the one its file meta names."""

    number: int
    content: bytes
    dataset: Dataset
    declared_syntax: str | None

    @property
    def sop_instance_uid(self) -> str:
        return str(self.dataset.SOPInstanceUID)

    @property
    def syntax(self) -> str:
        return str(self.dataset.file_meta.TransferSyntaxUID)


def dicom_parts(response: requests.Response, what: str) -> list[DicomPart]:
    """The parts of a multipart/related application/dicom answer, each a Part 10 file (PS3.18 10.4.3.3)."""
    return [_dicom_part(number, part, response, what) for number, part in enumerate(multipart_parts(response, what), 1)]


def _dicom_part(number: int, part: Part, response: requests.Response, what: str) -> DicomPart:
    kind, params = parse_media_type(part.content_type or "")
    if kind != DICOM:
        raise fail(f"{what}: part {number} is not application/dicom", expected=DICOM, actual=part.content_type)
    try:
        dataset = pydicom.dcmread(BytesIO(part.content))
        str(dataset.file_meta.TransferSyntaxUID)
    except Exception as error:
        raise fail(
            f"{what}: part {number} is not a DICOM Part 10 file with File Meta Information (PS3.10 7.1)",
            expected="a Part 10 file",
            actual=f"{type(error).__name__}: {error}",
            response=response,
        ) from None
    return DicomPart(number, part.content, dataset, params.get("transfer-syntax"))


def retrieve_dicom(client: DicomwebClient, path: str, accept: str | None, what: str) -> list[DicomPart]:
    """GET a DICOM resource that must answer 200 multipart/related application/dicom."""
    response = client.get(path, accept=accept)
    expect_status(response, 200, what)
    return dicom_parts(response, what)


def check_instances(parts: Sequence[DicomPart], expected: Sequence[SampleInstance], what: str) -> None:
    """Exactly the expected instances, each once."""
    found = sorted(part.sop_instance_uid for part in parts)
    wanted = sorted(instance.sop_instance_uid for instance in expected)
    if found != wanted:
        raise fail(f"{what}: wrong set of instances", expected=wanted, actual=found)


def check_syntax(parts: Sequence[DicomPart], expected: str, what: str) -> None:
    """Every part's File Meta Transfer Syntax UID (0002,0010) is `expected`."""
    wrong = {part.sop_instance_uid: part.syntax for part in parts if part.syntax != expected}
    if wrong:
        raise fail(f"{what}: (0002,0010) of a returned part", expected=expected, actual=wrong)


def check_same_pixels(part: DicomPart, instance: SampleInstance, what: str) -> None:
    """A transcoded part still holds the stored instance's pixel data (8-bit native: identical bytes)."""
    original = instance.dataset.PixelData
    returned = part.dataset.get("PixelData")
    if returned != original:
        raise fail(
            f"{what}: the pixel data changed in transcoding",
            expected=f"{len(original)} bytes as stored",
            actual="no PixelData" if returned is None else f"{len(returned)} different bytes",
        )


def check_declared_syntax(parts: Sequence[DicomPart], what: str) -> None:
    """PS3.18 8.7.9: a part's transfer-syntax parameter, when present, names the syntax the file meta names."""
    conflicts = {
        part.sop_instance_uid: f"declared {part.declared_syntax}, file meta {part.syntax}"
        for part in parts
        if part.declared_syntax is not None and part.declared_syntax != part.syntax
    }
    if conflicts:
        raise fail(f"{what}: part Content-Type contradicts (0002,0010)", expected="the same UID", actual=conflicts)


# --- frames --------------------------------------------------------------------------------------------------------


def frame_parts(response: requests.Response, what: str) -> list[bytes]:
    """The frames of a 200 multipart/related application/octet-stream answer in Explicit VR Little Endian."""
    expect_status(response, 200, what)
    contents = []
    for number, part in enumerate(multipart_parts(response, what), 1):
        kind, params = parse_media_type(part.content_type or OCTET_STREAM)
        syntax = params.get("transfer-syntax", EXPLICIT_VR_LITTLE_ENDIAN)
        # PS3.18 Table 8.7.3-4: uncompressed frames are application/octet-stream, Explicit VR Little Endian.
        if kind != OCTET_STREAM or syntax != EXPLICIT_VR_LITTLE_ENDIAN:
            raise fail(
                f"{what}: part {number} is not an Explicit VR Little Endian octet-stream",
                expected=f"{OCTET_STREAM}[; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}]",
                actual=part.content_type,
                response=response,
            )
        contents.append(part.content)
    return contents


def check_frames(response: requests.Response, instance: SampleInstance, numbers: Sequence[int], what: str) -> None:
    """The answer holds exactly the requested frames (numbered from 1), in the order requested, byte for byte."""
    returned = frame_parts(response, what)
    frames = instance.pixel_frames()
    expected = [frames[n - 1] for n in numbers]
    if len(returned) != len(expected):
        raise fail(f"{what}: wrong number of frames", expected=len(expected), actual=len(returned), response=response)
    for position, (number, got, want) in enumerate(zip(numbers, returned, expected, strict=True), 1):
        if got != want:
            which = [k + 1 for k, frame in enumerate(frames) if frame == got]
            raise fail(
                f"{what}: part {position} is not frame {number}",
                expected=f"frame {number} ({len(want)} bytes)",
                actual=f"frame(s) {which}" if which else f"{len(got)} bytes matching no frame",
                response=response,
            )


# --- status checks -------------------------------------------------------------------------------------------------


def expect_not_acceptable(response: requests.Response, what: str) -> None:
    """PS3.18 8.7.8.1 step 5: no supported media type in the Accept header answers 406 (Not Acceptable)."""
    if response.status_code != 406:
        raise fail(
            f"{what}: nothing acceptable can be produced, so the answer is 406 (PS3.18 8.7.8.1)",
            expected="406 Not Acceptable",
            actual=f"{response.status_code} {_summary(response)}",
            response=response,
        )


def expect_not_found(response: requests.Response, what: str) -> None:
    """404 (PS3.18 10.4.3), with an error body rather than a representation of some other resource."""
    expect_status(response, 404, what)
    kind = media_type(response)[0] if response.headers.get("Content-Type") else ""
    if kind.startswith(("multipart/", "image/")) or kind == DICOM or response.content[128:132] == b"DICM":
        raise fail(
            f"{what}: a 404 answer carries a representation",
            expected="an error body",
            actual=f"{kind or '(no Content-Type)'}, {len(response.content)} bytes",
            response=response,
        )


def _summary(response: requests.Response) -> str:
    return f"{response.headers.get('Content-Type', '(no Content-Type)')} {response.content[:160]!r}"
