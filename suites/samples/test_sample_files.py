"""Every scenario, per sample file: the user's own files (--dicomweb-samples) or the built-in corpus of compressed,
multi-frame and non-image objects. Stored once per file (fixtures/sample_fixtures.py), then retrieved as stored and
in the default syntax, as metadata, frame by frame and rendered, searched for, and deleted where the target can.
"""

from __future__ import annotations

from io import BytesIO

import pytest
import requests
from pydicom import dcmread

from dicomweb_conformance.checks.common import expect_status, fail, json_body, not_applicable, status_line
from dicomweb_conformance.checks.rendered import JPEG, check_size, image_header, rendered
from dicomweb_conformance.checks.retrieve import (
    check_declared_syntax,
    check_instances,
    dicom_accept,
    dicom_parts,
    related_accept,
    retrieve_dicom,
)
from dicomweb_conformance.checks.sample_files import StoredSample, check_decoded_pixels, decode_returned_frame
from dicomweb_conformance.checks.sample_frames import (
    OCTET_STREAM,
    FramePart,
    check_part_labels,
    decompressed,
    decompression_differences,
    frame_parts,
)
from dicomweb_conformance.checks.store import check_metadata_lists
from dicomweb_conformance.checks.transcoding import transcoding_differences
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.dicom.annex_f import metadata_differences, reference_json
from dicomweb_conformance.dicom.codecs import ENCAPSULATED_MEDIA_TYPES, NATIVE_SYNTAXES, decode_frames
from dicomweb_conformance.dicom.dicomjson import DatasetJson
from dicomweb_conformance.dicom.part10 import EXPLICIT_VR_LITTLE_ENDIAN, instance_difference
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.suites.delete.deletion import check_instance_gone, delete
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb, instance_path

PROBLEMS_SHOWN = 8


@pytest.mark.req("DW-DATA-001")
def test_stored(target: TargetConfig, stored_sample: StoredSample) -> None:
    """The file is stored: 200 naming it in ReferencedSOPSequence, then found by QIDO (a FailureReason: declined,
    unless the target claims to store the file's syntax)."""
    for failure in (stored_sample.store_failure, stored_sample.refusal_problem):
        if failure is not None:
            raise failure
    syntax = stored_sample.instance.transfer_syntax_uid
    if stored_sample.refusal is not None and syntax in target.stores_syntaxes:
        raise fail(
            f"{_named(stored_sample.instance)}: declined, though the target claims to store {syntax}",
            expected="200, the file stored ([transfer_syntaxes] stores)",
            actual=stored_sample.refusal,
        )
    stored_sample.require_stored()


@pytest.mark.req("DW-DATA-002")
def test_any_syntax_is_the_stored_file(client: DicomwebClient, stored_sample: StoredSample) -> None:
    """transfer-syntax=* answers the stored file, or its Explicit VR Little Endian form with the same pixels."""
    instance = stored_sample.require_stored()
    what = f"{_named(instance)} with transfer-syntax=*"
    parts = retrieve_dicom(client, instance_path(instance), dicom_accept("*"), what)
    check_instances(parts, [instance], what)
    check_declared_syntax(parts, what)
    [part] = parts
    if instance_difference(part.content, instance.data) is None:
        return
    # PS3.18 8.7.3.5.2: '*' lets the server answer without transcoding, or in Explicit VR Little Endian.
    if part.syntax not in (instance.transfer_syntax_uid, EXPLICIT_VR_LITTLE_ENDIAN):
        raise fail(
            f"{what}: neither the stored syntax nor Explicit VR Little Endian",
            expected=f"{instance.transfer_syntax_uid} or {EXPLICIT_VR_LITTLE_ENDIAN}",
            actual=part.syntax,
        )
    _check_same_instance(stored_sample, part.content, part.syntax, what)


@pytest.mark.req("DW-DATA-003")
def test_default_syntax(client: DicomwebClient, stored_sample: StoredSample) -> None:
    """With no transfer-syntax: Explicit VR Little Endian with the same attributes and pixels, or 406; never 5xx."""
    instance = stored_sample.require_stored()
    what = f"{_named(instance)}, no transfer-syntax"
    response = client.get(instance_path(instance), accept=dicom_accept())
    if response.status_code == 406 and instance.transfer_syntax_uid != EXPLICIT_VR_LITTLE_ENDIAN:
        return  # PS3.18 8.7.8.1 step 5: the server cannot make the default syntax out of this file
    expect_status(response, 200, what)
    parts = dicom_parts(response, what)
    check_instances(parts, [instance], what)
    [part] = parts
    # PS3.18 8.7.3.5.2 (8.7.3.4 in 2024c): without a transfer-syntax parameter the default is Explicit VR LE.
    if part.syntax != EXPLICIT_VR_LITTLE_ENDIAN:
        raise fail(
            f"{what}: not in the default transfer syntax",
            expected=EXPLICIT_VR_LITTLE_ENDIAN,
            actual=part.syntax,
            response=response,
        )
    _check_same_instance(stored_sample, part.content, part.syntax, what)


def _named(instance: SampleInstance) -> str:
    return f"{instance.name} (stored in {instance.transfer_syntax_uid})"


def _check_same_instance(sample: StoredSample, content: bytes, syntax: str, what: str) -> None:
    """A re-encoded file is the stored instance: its attributes (what PS3.5 lets a transcoder change aside) and its
    pixels, decoded."""
    instance = sample.instance
    if syntax == instance.transfer_syntax_uid:
        lines = transcoding_differences(content, instance.data)
    else:
        photometric = str(instance.dataset.get("PhotometricInterpretation", ""))
        lines = decompression_differences(content, instance.data, photometric, lossy=sample.lossy)
    if lines:
        raise fail(
            f"{what}: the re-encoded file is not the stored instance, attribute by attribute",
            expected=f"every attribute of {instance.name} as stored (PS3.5 8.2 allowances aside)",
            actual="; ".join(lines[:PROBLEMS_SHOWN]),
        )
    if sample.image is None:
        return
    image, stored_frames = sample.require_pixels()
    try:
        returned = decode_frames(dcmread(BytesIO(content)))
    except Exception as error:  # the codec's own error: the pixel data is not what the file says it is
        raise fail(
            f"{what}: the returned file's pixel data does not decode",
            expected=f"pixel data in {syntax}",
            actual=f"{type(error).__name__}: {error}",
        ) from None
    # In the stored syntax the file is the stored one, pixel data included (PS3.18 8.7.3.5.2); only a
    # decompressed lossy file may differ, by what two decoders of one bitstream may.
    lossy = sample.lossy and syntax != instance.transfer_syntax_uid
    check_decoded_pixels(returned, stored_frames, lossy=lossy, bits_stored=image.bits_stored, what=what)


@pytest.mark.req("DW-DATA-004")
def test_metadata_is_the_file(client: DicomwebClient, target: TargetConfig, stored_sample: StoredSample) -> None:
    """The instance's metadata is the file's DICOM JSON, as far as Annex F lets it vary."""
    instance = stored_sample.require_stored()
    response = client.get(instance_path(instance) + "/metadata", accept=DICOM_JSON)
    [dataset] = check_metadata_lists(response, [instance], f"metadata of {instance.name}")
    expected = _metadata_reference(instance)
    dataset.pop(TRAILING_PADDING, None)
    # Azure conformance statement (reference 1.2, Metadata): attributes of binary VRs are left out.
    problems = metadata_differences(expected, dataset, binary_may_be_omitted=target.profile == "azure")
    if problems:
        raise fail(
            f"metadata of {instance.name} differs from the file (PS3.18 10.4.3.3.2, Annex F)",
            expected="pydicom's DICOM JSON of the stored file, varying only as Annex F allows",
            actual="\n    ".join(problems[:PROBLEMS_SHOWN]),
            response=response,
        )


# PS3.10 7.2: Data Set Trailing Padding (FFFC,FFFC) has no meaning; an implementation may keep or drop it.
TRAILING_PADDING = "FFFCFFFC"


def _metadata_reference(instance: SampleInstance) -> DatasetJson:
    """The file's DICOM JSON, less what carries no information and with the VR the standard fixes."""
    expected = reference_json(instance.dataset)
    expected.pop(TRAILING_PADDING, None)
    if "7FE00010" in expected and instance.transfer_syntax_uid not in NATIVE_SYNTAXES:
        # PS3.5 A.4: encapsulated Pixel Data is OB, whatever VR a writer gave it.
        expected["7FE00010"] = {**expected["7FE00010"], "vr": "OB"}
    return expected


@pytest.mark.req("DW-DATA-005")
@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_found_by_uid(dicomweb: Dicomweb, stored_sample: StoredSample, level: str) -> None:
    """A search by the file's Study, Series or SOP Instance UID finds exactly it (PS3.18 10.6, PS3.4 C.2.2.2.2)."""
    instance = stored_sample.require_stored()
    client = dicomweb.client
    if level == "study":
        response = client.get("studies", accept=DICOM_JSON, params={"StudyInstanceUID": instance.study_uid})
        uid_key, uid = "0020000D", instance.study_uid
    elif level == "series":
        params = {"SeriesInstanceUID": instance.series_uid}
        response = client.get(f"studies/{instance.study_uid}/series", accept=DICOM_JSON, params=params)
        uid_key, uid = "0020000E", instance.series_uid
    else:
        response = dicomweb.search_instance(instance)
        uid_key, uid = "00080018", instance.sop_instance_uid
    _expect_only_match(response, uid_key, uid, f"{level} search for {instance.name}")


# The file's own attributes a user searches by, each with the level and route it is matched at.
ATTRIBUTE_SEARCHES = {
    "PatientName": "studies",
    "StudyDate": "studies",
    "AccessionNumber": "studies",
    "Modality": "series",
}


@pytest.mark.req("DW-DATA-006")
@pytest.mark.parametrize("keyword", list(ATTRIBUTE_SEARCHES))
def test_found_by_attribute(client: DicomwebClient, stored_sample: StoredSample, keyword: str) -> None:
    """A search by the file's own PatientName, StudyDate, AccessionNumber or Modality (with its PatientID) finds it."""
    instance = stored_sample.require_stored()
    ds = instance.dataset
    value = ds.get(keyword)
    text = str(value.components[0] if keyword == "PatientName" and value else value or "")
    if not text or any(c in text for c in "*?\\"):
        not_applicable(f"{instance.name} has no single {keyword} value to search by")
    params = {keyword: text, "PatientID": str(ds.PatientID)}
    route = ATTRIBUTE_SEARCHES[keyword]
    path = "studies" if route == "studies" else f"studies/{instance.study_uid}/series"
    response = client.get(path, accept=DICOM_JSON, params=params)
    uid_key, uid = ("0020000D", instance.study_uid) if route == "studies" else ("0020000E", instance.series_uid)
    what = f"{route} search by {keyword}={text!r} for {instance.name}"
    if response.status_code != 204:
        expect_status(response, 200, what)
    # Other files of this run may share the patient: the file's study or series is among the matches.
    found = _matched_uids(response, uid_key, what)
    if uid not in found:
        raise fail(f"{what}: the stored one is not found", expected=f"{uid} among the matches", actual=found)


def _matched_uids(response: requests.Response, uid_key: str, what: str) -> list[str]:
    if response.status_code == 204:
        return []  # reference 1.3 (azure profile): an empty search answers 204; the caller judges the emptiness
    body = json_body(response, what)
    if not isinstance(body, list):
        raise fail(f"{what}: not a JSON array", expected="[{...}]", actual=str(body)[:200], response=response)
    return [str((item.get(uid_key) or {}).get("Value", [""])[0]) for item in body if isinstance(item, dict)]


def _expect_only_match(response: requests.Response, uid_key: str, uid: str, what: str) -> None:
    expect_status(response, 200, what)
    found = _matched_uids(response, uid_key, what)
    if found != [uid]:
        raise fail(f"{what}: not exactly the stored one", expected=[uid], actual=found, response=response)


def _frame_numbers(count: int) -> dict[str, list[int]]:
    return {"first": [1], "last": [count], "list": [1, count] if count > 1 else [1]}


@pytest.mark.req("DW-DATA-007")
@pytest.mark.parametrize("which", ["first", "last", "list"])
def test_frames_any_syntax(client: DicomwebClient, stored_sample: StoredSample, which: str) -> None:
    """Frames with transfer-syntax=*: each part labelled with a syntax its bytes are in, decoding to the frame."""
    accept = related_accept(OCTET_STREAM, "*")
    _check_frames(client, stored_sample, which, accept, "transfer-syntax=*", wanted=None, may_refuse=False)


@pytest.mark.req("DW-DATA-008")
@pytest.mark.parametrize("which", ["first", "last", "list"])
def test_frames_default_syntax(client: DicomwebClient, stored_sample: StoredSample, which: str) -> None:
    """Frames with no transfer-syntax: Explicit VR Little Endian decoding to the frame, or 406; never 5xx."""
    compressed = stored_sample.instance.transfer_syntax_uid != EXPLICIT_VR_LITTLE_ENDIAN
    accept = related_accept(OCTET_STREAM)
    _check_frames(
        client,
        stored_sample,
        which,
        accept,
        "no transfer-syntax",
        wanted=EXPLICIT_VR_LITTLE_ENDIAN,
        may_refuse=compressed,
    )


@pytest.mark.req("DW-DATA-009")
def test_frames_natural_media_type(client: DicomwebClient, stored_sample: StoredSample) -> None:
    """A compressed file's frames asked for in their own media type: parts of that type and syntax, or 406."""
    stored_sample.require_pixels()
    syntax = stored_sample.instance.transfer_syntax_uid
    natural = ENCAPSULATED_MEDIA_TYPES.get(syntax)
    if natural is None:
        not_applicable(f"{stored_sample.instance.name} is not in a compressed syntax ({syntax})")
    accept = related_accept(natural, syntax)
    _check_frames(client, stored_sample, "list", accept, f"{natural}; {syntax}", wanted=syntax, may_refuse=True)


# Two lossless syntaxes every image can be made into (PS3.5 A.4.3, A.4.4), each in its own frame media type.
TRANSCODE_TARGETS = {"jpeg-ls": "1.2.840.10008.1.2.4.80", "jpeg2000": "1.2.840.10008.1.2.4.90"}


@pytest.mark.req("DW-DATA-013")
@pytest.mark.parametrize("into", list(TRANSCODE_TARGETS))
def test_frames_transcoded(
    client: DicomwebClient, target: TargetConfig, stored_sample: StoredSample, into: str
) -> None:
    """Frames asked for in another compressed syntax: in it, decoding to the stored frames, where the target claims
    that transcoding ([transfer_syntaxes] transcodes_to); 406 or the same where it does not; never 5xx."""
    stored_sample.require_pixels()
    syntax = TRANSCODE_TARGETS[into]
    if stored_sample.instance.transfer_syntax_uid == syntax:
        not_applicable(f"{stored_sample.instance.name} is stored in {syntax} already")
    claimed = syntax in target.transcodes_to
    accept = related_accept(ENCAPSULATED_MEDIA_TYPES[syntax], syntax)
    how = f"{accept} ({'claimed' if claimed else 'not claimed'} by the target)"
    _check_frames(client, stored_sample, "first", accept, how, wanted=syntax, may_refuse=not claimed)


@pytest.mark.req("DW-DATA-010")
def test_frames_media_type_mismatch(client: DicomwebClient, stored_sample: StoredSample) -> None:
    """Frames asked for as a media type with a transfer syntax it cannot hold are refused: 400 or 406."""
    instance = stored_sample.instance
    stored_sample.require_pixels()
    other = "image/jls" if ENCAPSULATED_MEDIA_TYPES.get(instance.transfer_syntax_uid) == "image/jp2" else "image/jp2"
    accept = related_accept(other, instance.transfer_syntax_uid)
    response = client.get(f"{instance_path(instance)}/frames/1", accept=accept)
    # PS3.18 Table 8.7.3-4 pairs each frame media type with its transfer syntaxes: this pair names no
    # representation. 8.7.3.5.2 constrains the parameter per media type (an invalid request: 400, 8.6.1.2.2?) and
    # 8.7.8.1 step 5 answers 406 when no acceptable media type is supported; the standard names both.
    if response.status_code not in (400, 406):
        raise fail(
            f"frames of {instance.name} as {other} in {instance.transfer_syntax_uid}: not refused",
            expected="400 or 406",
            actual=f"{response.status_code} {response.headers.get('Content-Type')}",
            response=response,
        )


def _check_frames(
    client: DicomwebClient,
    sample: StoredSample,
    which: str,
    accept: str,
    how: str,
    *,
    wanted: str | None,
    may_refuse: bool,
) -> None:
    """GET the frames; `wanted`: the one syntax the parts must be in (None: the stored one or Explicit VR LE, as for
    '*'); `may_refuse`: a 406 is a right answer (PS3.18 8.7.8.1 step 5: this representation cannot be made)."""
    image, stored_frames = sample.require_pixels()
    instance = sample.instance
    stored = instance.transfer_syntax_uid
    numbers = _frame_numbers(len(stored_frames))[which]
    what = f"frames {','.join(map(str, numbers))} of {_named(instance)}, {how}"
    response = client.get(f"{instance_path(instance)}/frames/{','.join(map(str, numbers))}", accept=accept)
    if response.status_code == 406 and may_refuse:
        return
    if response.status_code != 200 and may_refuse:
        raise fail(
            f"{what}: neither the frames nor 406",
            expected="200 with the frames, or 406 Not Acceptable (PS3.18 8.7.8.1 step 5)",
            actual=status_line(response),
            response=response,
        )
    parts = frame_parts(response, what)
    if len(parts) != len(numbers):
        raise fail(f"{what}: wrong number of parts", expected=len(numbers), actual=len(parts), response=response)
    _check_part_syntaxes(parts, wanted, stored, what, response)
    # A frame re-encoded out of a compressed one holds the decompressed image (RGB, not a compressed-only YBR form).
    native = decompressed(image) if stored not in NATIVE_SYNTAXES else image
    check_part_labels(parts, native, image, what)
    returned = [
        decode_returned_frame(part.content, part.syntax, image if part.syntax == stored else native, what)
        for part in parts
    ]
    expected = [stored_frames[n - 1] for n in numbers]
    # In the stored syntax a frame is the stored bitstream; only a re-encoded lossy frame may differ.
    lossy = sample.lossy and any(part.syntax != stored for part in parts)
    check_decoded_pixels(returned, expected, lossy=lossy, bits_stored=image.bits_stored, what=what)


def _check_part_syntaxes(
    parts: list[FramePart], wanted: str | None, stored: str, what: str, response: requests.Response
) -> None:
    # wanted None (transfer-syntax=*): PS3.18 8.7.3.5.2 lets the server keep the stored syntax or answer in
    # Explicit VR Little Endian.
    allowed = {wanted} if wanted else {stored, EXPLICIT_VR_LITTLE_ENDIAN}
    wrong = {part.number: part.syntax for part in parts if part.syntax not in allowed}
    if wrong:
        raise fail(f"{what}: parts in another syntax", expected=sorted(allowed), actual=wrong, response=response)


@pytest.mark.req("DW-DATA-011")
def test_rendered(client: DicomwebClient, stored_sample: StoredSample) -> None:
    """The rendered instance is a JPEG of the image's size (PS3.18 10.4.1.1.3, 8.7.4)."""
    image, _ = stored_sample.require_pixels()
    instance = stored_sample.instance
    what = f"rendered {_named(instance)}"
    response = rendered(client, instance_path(instance), JPEG, what)
    check_size(image_header(response, JPEG, what), image.columns, image.rows, what, response)


@pytest.mark.req("DW-DATA-012")
@pytest.mark.destructive
def test_deleted(dicomweb: Dicomweb, stored_sample: StoredSample) -> None:
    """Where the target deletes over DICOMweb, the file's instance is deleted: 204, then gone from WADO and QIDO."""
    instance = stored_sample.require_stored()
    what = f"DELETE of {instance.name}"
    delete(dicomweb, instance_path(instance), what)
    check_instance_gone(dicomweb, instance, what)
