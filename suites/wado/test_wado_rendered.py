"""WADO-RS rendered resources (PS3.18 10.4.1.1.3, 8.7.4), where the target claims them: real JPEG and PNG images."""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import fail, untestable
from dicomweb_conformance.checks.rendered import JPEG, PNG, check_size, image_header, rendered
from dicomweb_conformance.checks.retrieve import RetrieveCorpus, expect_not_acceptable, expect_not_found, frames_path
from dicomweb_conformance.corpora.retrieve import RGB_COLUMNS, RGB_ROWS
from dicomweb_conformance.dicom.images import (
    ImageFormatError,
    Pixels,
    UndecodedImage,
    best_matching_frame,
    frame_images,
    jpeg_quantization_total,
    png_gray,
)
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import instance_path


def gray_pixels(response: requests.Response, what: str) -> Pixels:
    try:
        return png_gray(response.content)
    except UndecodedImage as error:
        untestable(f"{what}: the suite decodes only 8-bit non-interlaced PNG ({error})")
    except ImageFormatError as error:
        raise fail(f"{what}: the PNG cannot be decoded", expected=PNG, actual=str(error), response=response) from None


@pytest.mark.req("DW-WADO-140")
def test_rendered_jpeg(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The RGB instance rendered as image/jpeg is a 12 x 8 JPEG with three colour components."""
    response = rendered(client, instance_path(retrieve_corpus.rgb), JPEG, "RGB instance as JPEG")
    header = image_header(response, JPEG, "RGB instance as JPEG")
    check_size(header, RGB_COLUMNS, RGB_ROWS, "RGB instance as JPEG", response)
    if header.components != 3:
        raise fail("RGB instance as JPEG: not a colour JPEG", expected=3, actual=header.components, response=response)


@pytest.mark.req("DW-WADO-141")
def test_rendered_png(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The RGB instance rendered as image/png is a well-formed 12 x 8 PNG."""
    what = "RGB instance as PNG"
    response = rendered(client, instance_path(retrieve_corpus.rgb), PNG, what)
    check_size(image_header(response, PNG, what), RGB_COLUMNS, RGB_ROWS, what, response)


@pytest.mark.req("DW-WADO-142")
def test_rendered_frame_shows_that_frame(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/1, /2 and /3 rendered as PNG each look most like the frame they name (each frame has its own mark)."""
    multiframe = retrieve_corpus.multiframe
    frames = frame_images(multiframe)
    for number in range(1, len(frames) + 1):
        what = f"frames/{number} rendered as PNG"
        response = rendered(client, frames_path(multiframe, str(number)), PNG, what)
        check_size(image_header(response, PNG, what), frames[0].shape[1], frames[0].shape[0], what, response)
        shown, scores = best_matching_frame(gray_pixels(response, what), frames)
        if shown != number:
            raise fail(
                f"{what}: the image shows another frame",
                expected=f"frame {number}",
                actual=f"frame {shown} (correlation with frames 1..{len(frames)}: {[round(s, 3) for s in scores]})",
                response=response,
            )


@pytest.mark.req("DW-WADO-143")
def test_rendered_without_accept_is_not_acceptable(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The RGB instance rendered with no Accept header answers 406."""
    # PS3.18 8.7.8.1: with no Accept, no step selects a media type (step 4 needs a wildcard range), so step 5: 406.
    response = client.get_without_accept(f"{instance_path(retrieve_corpus.rgb)}/rendered")
    expect_not_acceptable(response, "RGB instance rendered without Accept")


@pytest.mark.req("AZ-WADO-106")
def test_rendered_default_is_jpeg(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """On Azure, the RGB instance rendered with no Accept header is an image/jpeg of 12 x 8."""
    response = rendered(client, instance_path(retrieve_corpus.rgb), None, "RGB instance rendered without Accept")
    header = image_header(response, JPEG, "RGB instance rendered without Accept")
    check_size(header, RGB_COLUMNS, RGB_ROWS, "RGB instance rendered without Accept", response)


@pytest.mark.req("DW-WADO-144")
def test_rendered_frame_past_the_end(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """frames/4/rendered of the 3-frame instance answers 404."""
    response = client.get(f"{frames_path(retrieve_corpus.multiframe, '4')}/rendered", accept=PNG)
    expect_not_found(response, "frames/4 rendered")


@pytest.mark.req("DW-WADO-145")
def test_rendered_in_unknown_media_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The RGB instance rendered with Accept image/foo answers 406."""
    response = client.get(f"{instance_path(retrieve_corpus.rgb)}/rendered", accept="image/foo")
    expect_not_acceptable(response, "rendered as image/foo")


@pytest.mark.req("AZ-WADO-104")
def test_rendered_quality(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """quality=1 and quality=100 both give a 12 x 8 JPEG; quality=1 quantizes more coarsely."""
    path = instance_path(retrieve_corpus.rgb)
    totals = {}
    for quality in ("1", "100"):
        what = f"RGB instance as JPEG, quality={quality}"
        response = rendered(client, path, JPEG, what, quality=quality)
        check_size(image_header(response, JPEG, what), RGB_COLUMNS, RGB_ROWS, what, response)
        totals[quality] = jpeg_quantization_total(response.content)
    if totals["1"] <= totals["100"]:
        raise fail(
            "quality=1 is not coarser than quality=100: the parameter was ignored",
            expected="larger quantization tables at quality=1",
            actual=f"sum of quantization entries: quality=1 {totals['1']}, quality=100 {totals['100']}",
        )


@pytest.mark.req("AZ-WADO-105")
def test_rendered_multiframe_shows_first_frame(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The 3-frame instance rendered as a whole (PNG) shows its first frame."""
    multiframe = retrieve_corpus.multiframe
    what = "multi-frame instance rendered"
    response = rendered(client, instance_path(multiframe), PNG, what)
    image_header(response, PNG, what)
    shown, scores = best_matching_frame(gray_pixels(response, what), frame_images(multiframe))
    if shown != 1:
        raise fail(
            "multi-frame instance rendered: not the first frame",
            expected="frame 1",
            actual=f"frame {shown} (correlations {[round(s, 3) for s in scores]})",
            response=response,
        )
