"""STOW-RS request bodies built on purpose: instances changed or cut short, multipart bodies spelled in
equivalent ways, and multipart bodies malformed in exactly one way each (issue #4, bad input).

Every builder takes a fresh SampleInstance and returns a StowBody: the bytes, the Content-Type to send
them with, and the instances the body carries, so a check can record them in the ledger first and look
them up afterwards.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from urllib3.filepost import encode_multipart_formdata

from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance
from dicomweb_conformance.transport.multipart import Part, choose_boundary, encode_related, related_content_type

DICOM = "application/dicom"
CRLF = b"\r\n"
# PS3.5 9.1: a UID has at most 64 characters. A 10,000-digit value is a UID only in its alphabet.
HUGE_UID = "1." + "2" * 9998
# Explicit VR Little Endian encodings (PS3.5 7.1.2) of the tags the cutters look for.
_PATIENT_NAME_HEADER = b"\x10\x00\x10\x00PN"  # (0010,0010) PN, 2-byte length follows
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010), then OB/OW, 2 reserved bytes, 4-byte length
_FILE_META_END = 132  # 128-byte preamble + "DICM"
NOT_DICOM_TEXT = b"This part is not a DICOM file. " * 32


@dataclass(frozen=True)
class StowBody:
    """A request body, the Content-Type to send it with, and the instances it carries."""

    body: bytes
    content_type: str
    instances: tuple[SampleInstance, ...] = ()


BodyBuilder = Callable[[SampleInstance], StowBody]


def related(
    instances: Sequence[SampleInstance],
    parts: Sequence[Part | bytes] | None = None,
    *,
    part_content_type: str = DICOM,
) -> StowBody:
    """The canonical body: multipart/related; type="application/dicom", one application/dicom part per item."""
    chosen = parts if parts is not None else [instance.data for instance in instances]
    body, content_type = encode_related(chosen, part_content_type=part_content_type)
    return StowBody(body, content_type, tuple(instances))


# --- instances changed on purpose -----------------------------------------------------------------------------


def with_attributes(instance: SampleInstance, **changes: str | None) -> SampleInstance:
    """A copy of `instance` with attributes set (a value) or removed (None); its file meta is kept unchanged."""
    dataset = instance.dataset
    with warnings.catch_warnings():
        # pydicom warns about the invalid UI values these instances carry on purpose.
        warnings.simplefilter("ignore")
        for keyword, value in changes.items():
            if value is None:
                if keyword in dataset:
                    delattr(dataset, keyword)
            else:
                setattr(dataset, keyword, value)
        buffer = io.BytesIO()
        dcmwrite(buffer, dataset, enforce_file_format=True)
    return SampleInstance(
        name=instance.name,
        study_uid=str(dataset.get("StudyInstanceUID", "")),
        series_uid=str(dataset.get("SeriesInstanceUID", "")),
        sop_instance_uid=str(dataset.get("SOPInstanceUID", "")),
        sop_class_uid=str(dataset.get("SOPClassUID", "")),
        transfer_syntax_uid=str(dataset.file_meta.TransferSyntaxUID),
        data=buffer.getvalue(),
    )


def _explicit_little_endian(instance: SampleInstance) -> bytes:
    if instance.transfer_syntax_uid != ExplicitVRLittleEndian:
        raise ValueError(
            f"{instance.name}: the cutters read Explicit VR Little Endian, not {instance.transfer_syntax_uid}"
        )
    return instance.data


def cut_inside_dataset(instance: SampleInstance) -> bytes:
    """The file cut in the middle of the PatientName value: the element's length promises more than follows."""
    data = _explicit_little_endian(instance)
    header = data.find(_PATIENT_NAME_HEADER, _FILE_META_END)
    if header < 0:
        raise ValueError(f"{instance.name}: no PatientName element to cut")
    length = int.from_bytes(data[header + 6 : header + 8], "little")
    return data[: header + 8 + max(1, length // 2)]


def cut_inside_pixel_data(instance: SampleInstance) -> bytes:
    """The file cut half way through the PixelData value."""
    data = _explicit_little_endian(instance)
    tag = data.rfind(_PIXEL_DATA_TAG)
    if tag < 0:
        raise ValueError(f"{instance.name}: no PixelData element to cut")
    length = int.from_bytes(data[tag + 8 : tag + 12], "little")
    return data[: tag + 12 + length // 2]


def large_instance(run_id: str, size: int, *, seed: int = 4) -> SampleInstance:
    """A single-frame 8-bit instance of about `size` bytes; pseudo-random pixels, so a shifted chunk shows."""
    side = math.isqrt(size)
    pixels = np.random.default_rng(seed).integers(0, 256, side * side, dtype=np.uint8).tobytes()

    def enlarge(dataset: Dataset) -> None:
        dataset.Rows = side
        dataset.Columns = side
        dataset.PixelData = pixels

    return synthetic_instance(run_id, name="large", extra=enlarge)


# --- request Content-Types other than multipart/related (PS3.18 10.5.3 Table 10.5.3-1: 415) ------------------


def form_data(instance: SampleInstance) -> StowBody:
    body, content_type = encode_multipart_formdata({"file": ("instance.dcm", instance.data, DICOM)}, choose_boundary())
    return StowBody(body, content_type, (instance,))


def multipart_mixed(instance: SampleInstance) -> StowBody:
    canonical = related([instance])
    return StowBody(canonical.body, canonical.content_type.replace("multipart/related", "multipart/mixed"), (instance,))


def plain_json(instance: SampleInstance) -> StowBody:
    body = json.dumps([instance.dataset.to_json_dict()]).encode()
    return StowBody(body, "application/json", (instance,))


def plain_text(instance: SampleInstance) -> StowBody:
    return StowBody(instance.data, "text/plain", (instance,))


# --- parts and parameters spelled in other ways --------------------------------------------------------------


def part_labelled(content_type: str) -> BodyBuilder:
    def build(instance: SampleInstance) -> StowBody:
        return related([instance], part_content_type=content_type)

    return build


def root_part_without_content_type(instance: SampleInstance) -> StowBody:
    return related([instance], [Part({}, instance.data)])


def unquoted_type(instance: SampleInstance) -> StowBody:
    canonical = related([instance])
    return StowBody(canonical.body, canonical.content_type.replace(f'"{DICOM}"', DICOM), (instance,))


def quoted_boundary(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary()
    body, _ = encode_related([instance.data], boundary=boundary)
    return StowBody(body, f'multipart/related; type="{DICOM}"; boundary="{boundary}"', (instance,))


def mixed_case_media_types(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary()
    body, _ = encode_related([instance.data], boundary=boundary)
    return StowBody(body, f'Multipart/Related; Type="Application/DICOM"; Boundary={boundary}', (instance,))


def preamble_and_epilogue(instance: SampleInstance) -> StowBody:
    canonical = related([instance])
    body = b"This preamble is to be ignored." + CRLF + canonical.body + b"This epilogue is to be ignored." + CRLF
    return StowBody(body, canonical.content_type, (instance,))


def transport_padding(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary()
    body, content_type = encode_related([instance.data], boundary=boundary)
    # RFC 2046 5.1.1: dash-boundary transport-padding CRLF, where transport-padding is *LWSP-char.
    padded = body.replace(b"--" + boundary.encode() + CRLF, b"--" + boundary.encode() + b" \t " + CRLF)
    return StowBody(padded, content_type, (instance,))


def extra_part_headers(instance: SampleInstance) -> StowBody:
    headers = {
        "Content-Type": DICOM,
        "Content-ID": "<instance-1@dicomweb-conformance>",
        "Content-Description": "one DICOM instance",
        "Content-Length": str(len(instance.data)),
    }
    return related([instance], [Part(headers, instance.data)])


# --- malformed multipart framing (RFC 2046 5.1.1) -----------------------------------------------------------


def _with_content_type(body: StowBody, content_type: str) -> StowBody:
    return StowBody(body.body, content_type, body.instances)


def no_boundary_parameter(instance: SampleInstance) -> StowBody:
    return _with_content_type(related([instance]), f'multipart/related; type="{DICOM}"')


def empty_boundary_parameter(instance: SampleInstance) -> StowBody:
    return _with_content_type(related([instance]), f'multipart/related; type="{DICOM}"; boundary=')


def unterminated_quoted_boundary(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary()
    body, _ = encode_related([instance.data], boundary=boundary)
    return StowBody(body, f'multipart/related; type="{DICOM}"; boundary="{boundary}', (instance,))


def wrong_boundary(instance: SampleInstance) -> StowBody:
    body, _ = encode_related([instance.data])
    return StowBody(body, related_content_type(choose_boundary()), (instance,))


def truncated_inside_the_part(instance: SampleInstance) -> StowBody:
    canonical = related([instance])
    return StowBody(canonical.body[: len(canonical.body) // 2], canonical.content_type, (instance,))


def missing_close_delimiter(instance: SampleInstance) -> StowBody:
    canonical = related([instance])
    # The body stops right after the part's content: no CRLF "--boundary--" ever follows.
    return StowBody(canonical.body[: canonical.body.rindex(CRLF + b"--")], canonical.content_type, (instance,))


def bare_lf_line_endings(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary().encode()
    body = b"--" + boundary + b"\nContent-Type: application/dicom\n\n" + instance.data + b"\n--" + boundary + b"--\n"
    return StowBody(body, related_content_type(boundary.decode()), (instance,))


def no_part_header_block(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary().encode()
    # The part's content follows the boundary line directly: its preamble bytes are read as header lines.
    body = b"--" + boundary + CRLF + instance.data + CRLF + b"--" + boundary + b"--" + CRLF
    return StowBody(body, related_content_type(boundary.decode()), (instance,))


def header_line_without_colon(instance: SampleInstance) -> StowBody:
    boundary = choose_boundary().encode()
    head = b"Content-Type application/dicom" + CRLF + CRLF
    body = b"--" + boundary + CRLF + head + instance.data + CRLF + b"--" + boundary + b"--" + CRLF
    return StowBody(body, related_content_type(boundary.decode()), (instance,))


def empty_body(instance: SampleInstance) -> StowBody:
    return StowBody(b"", related_content_type(choose_boundary()))


def zero_parts(instance: SampleInstance) -> StowBody:
    """Only the close delimiter: the degenerate body RFC 2046 5.1.1's grammar does not allow."""
    return related([], [])


# --- parts that are not a complete DICOM file ---------------------------------------------------------------


def text_part(instance: SampleInstance) -> StowBody:
    return related([], [NOT_DICOM_TEXT])


def empty_part(instance: SampleInstance) -> StowBody:
    return related([], [b""])


def garbage_after_dicm_prefix(instance: SampleInstance) -> StowBody:
    # PS3.10 7.1: the magic is right, what follows is not a File Meta Information group.
    return related([], [b"\x00" * 128 + b"DICM" + bytes(range(256)) * 4])


def part_cut_inside_dataset(instance: SampleInstance) -> StowBody:
    return related([instance], [cut_inside_dataset(instance)])


def part_cut_inside_pixel_data(instance: SampleInstance) -> StowBody:
    return related([instance], [cut_inside_pixel_data(instance)])


def many_empty_parts(instance: SampleInstance) -> StowBody:
    return related([], [b""] * 5000)


# --- invalid identifying UIDs in the dataset ----------------------------------------------------------------


def dataset_with(**changes: str | None) -> BodyBuilder:
    """A canonical body carrying `instance` with attributes set or removed (see with_attributes)."""

    def build(instance: SampleInstance) -> StowBody:
        return related([with_attributes(instance, **changes)])

    build.__name__ = "an instance with " + ", ".join(_described(keyword, value) for keyword, value in changes.items())
    return build


def _described(keyword: str, value: str | None) -> str:
    if value is None:
        return f"no {keyword}"
    return f"{keyword} of {len(value)} characters" if len(value) > 64 else f"{keyword}={value!r}"
