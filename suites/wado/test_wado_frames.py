"""WADO-RS frames resources (PS3.18 10.4.1.1.1): a 3-frame instance, frame lists, bad and missing frame numbers."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail
from dicomweb_conformance.checks.retrieve import (
    OCTET_STREAM,
    RetrieveCorpus,
    check_frames,
    expect_not_acceptable,
    expect_not_found,
    frames_path,
    octet_accept,
)
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.dicom.part10 import MPEG2_MAIN_PROFILE
from dicomweb_conformance.transport.client import DicomwebClient


@pytest.mark.req("DW-WADO-120")
def test_three_frames_in_order(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1,2,3 returns the three frames of the multi-frame instance, each byte for byte, in that order."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "1,2,3"), accept=octet_accept())
    check_frames(response, multiframe, [1, 2, 3], "frames/1,2,3")


@pytest.mark.req("DW-WADO-121")
def test_frames_come_in_request_order(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/3,1,2 returns frame 3, then frame 1, then frame 2."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "3,1,2"), accept=octet_accept())
    check_frames(response, multiframe, [3, 1, 2], "frames/3,1,2")


@pytest.mark.req("DW-WADO-122")
def test_middle_frame_alone(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/2 returns one part holding exactly frame 2."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "2"), accept=octet_accept("*"))
    check_frames(response, multiframe, [2], "frames/2")


@pytest.mark.req("DW-WADO-123")
@pytest.mark.parametrize("frame_list", ["0", "-1", "1,-1", "0,1"])
def test_frame_numbers_start_at_one(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, frame_list: str) -> None:
    """A frame list holding 0 or a negative frame number answers 400 Bad Request."""
    response = client.get(frames_path(retrieve_corpus.multiframe, frame_list), accept=octet_accept())
    expect_status(response, 400, f"frames/{frame_list}")


@pytest.mark.req("DW-WADO-124")
@pytest.mark.parametrize(
    ("which", "frame_list"),
    [("multiframe", "4"), ("multiframe", "2,4"), ("rgb", "2")],
    ids=["past-the-end", "past-the-end-in-a-list", "second-of-a-single-frame"],
)
def test_frame_past_the_end_is_not_found(
    client: DicomwebClient, retrieve_corpus: RetrieveCorpus, which: str, frame_list: str
) -> None:
    """A frame number beyond NumberOfFrames names no resource: 404 Not Found."""
    instance = retrieve_corpus.multiframe if which == "multiframe" else retrieve_corpus.rgb
    response = client.get(frames_path(instance, frame_list), accept=octet_accept())
    expect_not_found(response, f"frames/{frame_list} of the {which} instance")


@pytest.mark.req("DW-WADO-125")
def test_frames_without_accept_are_not_acceptable(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1,3 with no Accept header answers 406, like every WADO-RS request without Accept."""
    # PS3.18 8.7.8.1: with no Accept, no step selects a media type (step 4 needs a wildcard range), so step 5: 406.
    response = client.get_without_accept(frames_path(retrieve_corpus.multiframe, "1,3"))
    expect_not_acceptable(response, "frames/1,3 without Accept")


@pytest.mark.req("DW-WADO-126")
def test_single_frame_as_single_part(
    client: DicomwebClient, retrieve_corpus: RetrieveCorpus, target: TargetConfig
) -> None:
    """frames/2 with Accept 'application/octet-stream; transfer-syntax=*' is frame 2 as the whole body."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "2"), accept=f"{OCTET_STREAM}; transfer-syntax=*")
    expect_status(response, 200, "single-part frames/2")
    expect_media_type(response, OCTET_STREAM, "single-part frames/2")
    if response.content != multiframe.pixel_frames()[1]:
        raise fail(
            "single-part frames/2: the body is not frame 2",
            expected=f"frame 2 ({len(multiframe.pixel_frames()[1])} bytes)",
            actual=f"{len(response.content)} other bytes",
            response=response,
        )


@pytest.mark.req("AZ-WADO-102")
def test_several_frames_as_single_part_are_refused(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1,2 with Accept application/octet-stream (single part) answers 400."""
    response = client.get(frames_path(retrieve_corpus.multiframe, "1,2"), accept=f"{OCTET_STREAM}; transfer-syntax=*")
    expect_status(response, 400, "single-part frames/1,2")


@pytest.mark.req("DW-WADO-127")
def test_rgb_frame_is_interleaved_pixel_data(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1 of the 8 x 12 RGB instance is its 288 bytes of colour-by-pixel data."""
    rgb = retrieve_corpus.rgb
    response = client.get(frames_path(rgb, "1"), accept=octet_accept())
    check_frames(response, rgb, [1], "frames/1 of the RGB instance")


@pytest.mark.req("DW-WADO-128")
def test_frame_of_implicit_vr_instance(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1 of the instance stored in Implicit VR Little Endian is its native pixel data."""
    implicit = retrieve_corpus.require_implicit()
    response = client.get(frames_path(implicit, "1"), accept=octet_accept())
    check_frames(response, implicit, [1], "frames/1 of the Implicit VR instance")


@pytest.mark.req("DW-WADO-129")
def test_frames_in_unsupported_syntax(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1 requested in MPEG2 (1.2.840.10008.1.2.4.100), which an 8-bit still image cannot be: 406, or native."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "1"), accept=octet_accept(MPEG2_MAIN_PROFILE))
    if response.status_code != 200:
        expect_not_acceptable(response, "frames/1 in MPEG2")
        return
    # PS3.18 8.7.7: the unsupported transfer-syntax value is ignored; Table 8.7.3-4: application/octet-stream then
    # defaults to Explicit VR Little Endian, the native pixel data. 8.7.8.1 step 5 allows 406 instead.
    check_frames(response, multiframe, [1], "frames/1 in MPEG2, answered in the default syntax")


@pytest.mark.req("DW-WADO-130")
def test_frames_in_unknown_media_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1 with Accept image/foo answers 406."""
    response = client.get(frames_path(retrieve_corpus.multiframe, "1"), accept="image/foo")
    expect_not_acceptable(response, "frames/1 as image/foo")


@pytest.mark.req("DW-WADO-131")
def test_frames_with_unquoted_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/2,3 with Accept 'multipart/related; type=application/octet-stream' returns frames 2 and 3."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "2,3"), accept=octet_accept(quoted=False))
    check_frames(response, multiframe, [2, 3], "frames/2,3 with an unquoted type")


@pytest.mark.req("DW-WADO-132")
def test_frames_answer_names_its_part_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The frames answer is 'multipart/related; type="application/octet-stream"', type holding no parameters."""
    response = client.get(frames_path(retrieve_corpus.multiframe, "1"), accept=octet_accept())
    expect_status(response, 200, "frames/1")
    params = expect_media_type(response, "multipart/related", "frames/1")
    if params.get("type") != OCTET_STREAM:
        raise fail(
            "frames/1: the type parameter must be the parts' type/subtype (RFC 2387 3.1)",
            expected=f'type="{OCTET_STREAM}"',
            actual=response.headers.get("Content-Type"),
            response=response,
        )


@pytest.mark.req("AZ-WADO-103")
def test_frame_list_with_encoded_commas(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/3%2C1 returns frame 3, then frame 1."""
    multiframe = retrieve_corpus.multiframe
    response = client.get(frames_path(multiframe, "3%2C1"), accept=octet_accept())
    check_frames(response, multiframe, [3, 1], "frames/3%2C1")
