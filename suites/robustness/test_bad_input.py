"""Bad input to STOW-RS (issue #4): each malformed request must get a 4xx, never a 5xx, a hang, or a success
for what was not kept; afterwards nothing it carried may be served, least of all a corrupt object."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.stow import check_refused_without_trace, forget_unreachable, send_bad_input
from dicomweb_conformance.corpora.stow_inputs import (
    HUGE_UID,
    BodyBuilder,
    bare_lf_line_endings,
    dataset_with,
    empty_body,
    empty_boundary_parameter,
    empty_part,
    garbage_after_dicm_prefix,
    header_line_without_colon,
    many_empty_parts,
    missing_close_delimiter,
    no_boundary_parameter,
    no_part_header_block,
    part_cut_inside_dataset,
    part_cut_inside_pixel_data,
    text_part,
    truncated_inside_the_part,
    unterminated_quoted_boundary,
    wrong_boundary,
)
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import Dicomweb

MALFORMED_MULTIPART = [
    pytest.param(no_boundary_parameter, id="no-boundary-parameter"),
    pytest.param(empty_boundary_parameter, id="empty-boundary-parameter"),
    pytest.param(unterminated_quoted_boundary, id="unterminated-quoted-boundary"),
    pytest.param(wrong_boundary, id="wrong-boundary"),
    pytest.param(truncated_inside_the_part, id="truncated-inside-the-part"),
    pytest.param(missing_close_delimiter, id="missing-close-delimiter"),
    pytest.param(bare_lf_line_endings, id="bare-lf-line-endings"),
    pytest.param(no_part_header_block, id="no-part-header-block"),
    pytest.param(header_line_without_colon, id="header-line-without-colon"),
    pytest.param(empty_body, id="empty-body"),
]

INCOMPLETE_DICOM = [
    pytest.param(text_part, id="text-instead-of-dicom"),
    pytest.param(empty_part, id="empty-part"),
    pytest.param(garbage_after_dicm_prefix, id="garbage-after-dicm-prefix"),
    pytest.param(part_cut_inside_dataset, id="cut-inside-the-dataset"),
    pytest.param(part_cut_inside_pixel_data, id="cut-inside-pixel-data"),
    pytest.param(many_empty_parts, id="5000-empty-parts"),
]

INVALID_UIDS = [
    pytest.param(dataset_with(StudyInstanceUID=HUGE_UID), id="huge-study-uid"),
    pytest.param(dataset_with(SOPInstanceUID=HUGE_UID), id="huge-sop-instance-uid"),
    pytest.param(dataset_with(StudyInstanceUID=""), id="empty-study-uid"),
    pytest.param(dataset_with(SeriesInstanceUID=""), id="empty-series-uid"),
    pytest.param(dataset_with(SOPInstanceUID=""), id="empty-sop-instance-uid"),
    pytest.param(dataset_with(StudyInstanceUID=None), id="no-study-uid"),
    pytest.param(dataset_with(SeriesInstanceUID=None), id="no-series-uid"),
    pytest.param(dataset_with(SOPInstanceUID=None), id="no-sop-instance-uid"),
    pytest.param(dataset_with(SOPClassUID=None), id="no-sop-class-uid"),
]


@pytest.mark.req("DW-ROBUST-001")
@pytest.mark.parametrize("build", MALFORMED_MULTIPART)
def test_malformed_multipart_is_refused(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """A multipart body broken in one way is refused with 4xx, and the valid instance inside is not claimed stored."""
    request = build(stow_instance)
    response = send_bad_input(dicomweb, request, build.__name__)
    check_refused_without_trace(client, response, request, intact=True, what=build.__name__)


@pytest.mark.req("DW-ROBUST-002")
@pytest.mark.parametrize("build", INCOMPLETE_DICOM)
def test_incomplete_dicom_is_refused(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """A part that is not a complete DICOM file is refused with 4xx and never served as if valid."""
    request = build(stow_instance)
    response = send_bad_input(dicomweb, request, build.__name__)
    check_refused_without_trace(client, response, request, intact=False, what=build.__name__)


@pytest.mark.req("DW-ROBUST-003")
@pytest.mark.parametrize("build", INVALID_UIDS)
def test_invalid_identifying_uids_are_refused(
    dicomweb: Dicomweb, client: DicomwebClient, stow_instance: SampleInstance, build: BodyBuilder
) -> None:
    """An instance with a huge, empty or absent identifying UID is refused with 4xx and never stored."""
    request = build(stow_instance)
    response = send_bad_input(dicomweb, request, build.__name__)
    forget_unreachable(dicomweb, request.instances, response)
    check_refused_without_trace(client, response, request, intact=False, what=build.__name__)
