"""The tutorial's retrieves (WADO-RS): study, series, instance, metadata and frames, checked against the upload."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

import pydicom
import pytest

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail, multipart_parts
from dicomweb_conformance.checks.store import check_metadata_lists
from dicomweb_conformance.checks.transcoding import any_syntax_difference
from dicomweb_conformance.dicom.dicomjson import shape_problems
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.fixtures.resources import TutorialSet
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.multipart import Part, parse_media_type
from dicomweb_conformance.transport.store import DICOM_JSON, MULTIPART_DICOM_ANY_TS, instance_path, series_path

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
FRAME_ACCEPTS = {
    "DW-WADO-010": f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT_VR_LITTLE_ENDIAN}',
    "DW-WADO-011": 'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    "DW-WADO-012": 'multipart/related; type="application/octet-stream"',
}


def retrieve_parts(client: DicomwebClient, path: str, accept: str, what: str) -> list[Part]:
    with client.streamed(path, accept=accept) as response:
        expect_status(response, 200, what)
        return list(multipart_parts(response, what))


def sop_uids_of_parts(parts: Sequence[Part], what: str) -> list[tuple[str, bytes]]:
    """(SOP Instance UID, content) of every part, in order; duplicates are kept so they can be caught."""
    found = []
    for index, part in enumerate(parts):
        kind, _ = parse_media_type(part.content_type or "")
        if kind != "application/dicom":
            raise fail(
                f"{what}: part {index + 1} is not application/dicom",
                expected="application/dicom",
                actual=part.content_type,
            )
        try:
            sop = pydicom.dcmread(BytesIO(part.content), stop_before_pixels=True).SOPInstanceUID
        except Exception as error:
            raise fail(
                f"{what}: part {index + 1} is not a DICOM Part 10 file", expected="a Part 10 file", actual=str(error)
            ) from None
        found.append((str(sop), part.content))
    return found


def check_exactly(
    found: list[tuple[str, bytes]], expected: Sequence[SampleInstance], what: str, *, byte_identical: bool
) -> None:
    """Each expected instance exactly once, nothing else; with transfer-syntax=* the bytes as uploaded."""
    wanted = {i.sop_instance_uid: i for i in expected}
    if sorted(uid for uid, _ in found) != sorted(wanted):
        raise fail(
            f"{what}: wrong instances (each exactly once)",
            expected=sorted(wanted),
            actual=sorted(uid for uid, _ in found),
        )
    if byte_identical:
        changed = {
            wanted[uid].name: difference
            for uid, data in found
            if (difference := any_syntax_difference(data, wanted[uid].data)) is not None
        }
        if changed:
            raise fail(
                f"{what}: transfer-syntax=* must return the stored instance (PS3.18 8.7.3.5.2)",
                expected="the bytes as uploaded, or the same attributes and pixels in Explicit VR Little Endian",
                actual=f"changed: {changed}",
            )


@pytest.mark.req("DW-WADO-001")
def test_retrieve_study_returns_its_three_instances(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study} with multipart/related application/dicom returns exactly the three tutorial instances."""
    study = tutorial_corpus["red-triangle"].study_uid
    parts = retrieve_parts(client, f"studies/{study}", MULTIPART_DICOM_ANY_TS, "study retrieve")
    check_exactly(
        sop_uids_of_parts(parts, "study retrieve"),
        list(tutorial_corpus.values()),
        "study retrieve",
        byte_identical=False,
    )


@pytest.mark.req("DW-WADO-002")
def test_retrieve_study_with_any_transfer_syntax_is_byte_identical(
    client: DicomwebClient, tutorial_corpus: TutorialSet
) -> None:
    """GET /studies/{study} with transfer-syntax=* returns each instance exactly as uploaded."""
    study = tutorial_corpus["red-triangle"].study_uid
    parts = retrieve_parts(client, f"studies/{study}", MULTIPART_DICOM_ANY_TS, "study retrieve")
    check_exactly(
        sop_uids_of_parts(parts, "study retrieve"),
        list(tutorial_corpus.values()),
        "study retrieve",
        byte_identical=True,
    )


@pytest.mark.req("DW-WADO-003")
def test_retrieve_series_returns_its_two_instances(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/series/{series} returns exactly green-square and red-triangle."""
    pair = [tutorial_corpus["green-square"], tutorial_corpus["red-triangle"]]
    parts = retrieve_parts(client, series_path(pair[0]), MULTIPART_DICOM_ANY_TS, "series retrieve")
    check_exactly(sop_uids_of_parts(parts, "series retrieve"), pair, "series retrieve", byte_identical=True)


@pytest.mark.req("DW-WADO-004")
def test_retrieve_instance_as_multipart(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET the red-triangle instance as multipart/related application/dicom returns red-triangle alone."""
    red = tutorial_corpus["red-triangle"]
    parts = retrieve_parts(client, instance_path(red), MULTIPART_DICOM_ANY_TS, "instance retrieve")
    check_exactly(sop_uids_of_parts(parts, "instance retrieve"), [red], "instance retrieve", byte_identical=True)


@pytest.mark.req("DW-WADO-005")
def test_retrieve_instance_as_single_part(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET red-triangle with Accept 'application/dicom; transfer-syntax=*' returns the file as the body."""
    red = tutorial_corpus["red-triangle"]
    response = client.get(instance_path(red), accept="application/dicom; transfer-syntax=*")
    expect_status(response, 200, "single-part instance retrieve")
    expect_media_type(response, "application/dicom", "single-part instance retrieve")
    difference = any_syntax_difference(response.content, red.data)
    if difference is not None:
        raise fail(
            "single-part instance retrieve: body is not the stored instance (PS3.18 8.7.3.5.2)",
            expected=f"the {len(red.data)} bytes as uploaded, or the same instance in Explicit VR Little Endian",
            actual=f"{len(response.content)} bytes: {difference}",
            response=response,
        )


@pytest.mark.req("DW-WADO-006")
def test_study_metadata_lists_every_instance(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/metadata answers one DICOM JSON dataset for each of the three instances."""
    response = client.get(f"studies/{tutorial_corpus['red-triangle'].study_uid}/metadata", accept=DICOM_JSON)
    check_metadata_lists(response, list(tutorial_corpus.values()), "study metadata")


@pytest.mark.req("DW-WADO-007")
def test_series_metadata_lists_its_instances(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET /studies/{study}/series/{series}/metadata answers datasets for green-square and red-triangle only."""
    pair = [tutorial_corpus["green-square"], tutorial_corpus["red-triangle"]]
    response = client.get(series_path(pair[0]) + "/metadata", accept=DICOM_JSON)
    check_metadata_lists(response, pair, "series metadata")


@pytest.mark.req("DW-WADO-008")
def test_instance_metadata_is_that_instance(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """GET red-triangle's metadata answers exactly one dataset, red-triangle's."""
    red = tutorial_corpus["red-triangle"]
    check_metadata_lists(client.get(instance_path(red) + "/metadata", accept=DICOM_JSON), [red], "instance metadata")


@pytest.mark.req("DW-WADO-009")
def test_metadata_follows_the_dicom_json_model(client: DicomwebClient, tutorial_corpus: TutorialSet) -> None:
    """Every study metadata dataset has 8-hex uppercase keys in order, a vr on each attribute and Value arrays."""
    response = client.get(f"studies/{tutorial_corpus['red-triangle'].study_uid}/metadata", accept=DICOM_JSON)
    datasets = check_metadata_lists(response, list(tutorial_corpus.values()), "study metadata")
    problems = [problem for dataset in datasets for problem in shape_problems(dataset)]
    if problems:
        raise fail(
            "metadata breaks the DICOM JSON model (Annex F)",
            expected="no problems",
            actual="\n    ".join(problems[:10]),
            response=response,
        )


@pytest.mark.parametrize(
    "requirement",
    [pytest.param(key, id=key, marks=pytest.mark.req(key)) for key in FRAME_ACCEPTS],
)
def test_frame_one_of_red_triangle(client: DicomwebClient, tutorial_corpus: TutorialSet, requirement: str) -> None:
    """frames/1 of red-triangle, with each of the tutorial's three Accept headers, is its native pixel data."""
    red = tutorial_corpus["red-triangle"]
    accept = FRAME_ACCEPTS[requirement]
    with client.streamed(instance_path(red) + "/frames/1", accept=accept) as response:
        expect_status(response, 200, "frames/1 retrieve")
        parts = list(multipart_parts(response, "frames/1 retrieve"))
    if len(parts) != 1:
        raise fail("frames/1 must return one part", expected=1, actual=len(parts), response=response)
    part_type, params = parse_media_type(parts[0].content_type or "application/octet-stream")
    if part_type != "application/octet-stream":
        raise fail(
            "frame part has the wrong media type",
            expected="application/octet-stream",
            actual=parts[0].content_type,
            response=response,
        )
    syntax = params.get("transfer-syntax")
    if syntax not in (None, EXPLICIT_VR_LITTLE_ENDIAN):
        raise fail(
            "frame part declares another transfer syntax",
            expected=EXPLICIT_VR_LITTLE_ENDIAN,
            actual=syntax,
            response=response,
        )
    if parts[0].content != red.pixel_frames()[0]:
        raise fail(
            "frame 1 differs from red-triangle's pixel data",
            expected=f"{len(red.pixel_frames()[0])} bytes",
            actual=f"{len(parts[0].content)} bytes",
            response=response,
        )
