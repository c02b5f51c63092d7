"""WADO-RS transfer syntaxes (PS3.18 8.7.3, 8.7.8.2, 8.7.9): the default, '*', forbidden and unsupported syntaxes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.retrieve import (
    DicomPart,
    RetrieveCorpus,
    check_declared_syntax,
    check_instances,
    check_same_pixels,
    check_syntax,
    dicom_accept,
    dicom_parts,
    expect_not_acceptable,
    retrieve_dicom,
)
from dicomweb_conformance.checks.transcoding import check_transcoded_attributes
from dicomweb_conformance.dicom.part10 import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MPEG2_MAIN_PROFILE,
    instance_difference,
)
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import instance_path, series_path


def only_part(parts: list[DicomPart], instance: SampleInstance, what: str) -> DicomPart:
    check_instances(parts, [instance], what)
    return parts[0]


def check_same_instance(part: DicomPart, instance: SampleInstance, what: str) -> None:
    """The transcoded part is the stored instance: every attribute (PS3.5 allowances aside) and the pixel data."""
    check_transcoded_attributes(part.content, instance, what)
    check_same_pixels(part, instance, what)


@pytest.mark.req("DW-WADO-110")
def test_default_syntax_transcodes_implicit_vr(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The Implicit VR instance, requested with no transfer-syntax, comes back Explicit VR LE with the same pixels."""
    implicit = retrieve_corpus.require_implicit()
    what = "Implicit VR instance, no transfer-syntax"
    part = only_part(retrieve_dicom(client, instance_path(implicit), dicom_accept(), what), implicit, what)
    check_syntax([part], EXPLICIT_VR_LITTLE_ENDIAN, what)
    check_same_instance(part, implicit, what)


@pytest.mark.req("DW-WADO-111")
def test_study_default_syntax_is_explicit_little_endian(
    client: DicomwebClient, retrieve_corpus: RetrieveCorpus
) -> None:
    """The study, requested with no transfer-syntax, returns every instance in Explicit VR Little Endian."""
    what = "study, no transfer-syntax"
    parts = retrieve_dicom(client, f"studies/{retrieve_corpus.study_uid}", dicom_accept(), what)
    check_instances(parts, retrieve_corpus.stored, what)
    check_syntax(parts, EXPLICIT_VR_LITTLE_ENDIAN, what)
    by_uid = {instance.sop_instance_uid: instance for instance in retrieve_corpus.stored}
    for part in parts:
        check_same_instance(part, by_uid[part.sop_instance_uid], what)


@pytest.mark.req("AZ-WADO-101")
@pytest.mark.parametrize("level", ["study", "series"])
def test_several_instances_need_any_syntax(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str) -> None:
    """The study or the two-instance series, requested without transfer-syntax=*, answers 406."""
    path = f"studies/{retrieve_corpus.study_uid}" if level == "study" else series_path(retrieve_corpus.multiframe)
    expect_not_acceptable(client.get(path, accept=dicom_accept()), f"{level} without transfer-syntax=*")


@pytest.mark.req("DW-WADO-112")
def test_explicit_little_endian_on_request(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The Implicit VR instance requested with transfer-syntax=1.2.840.10008.1.2.1 is transcoded to it."""
    implicit = retrieve_corpus.require_implicit()
    what = "Implicit VR instance as Explicit VR Little Endian"
    accept = dicom_accept(EXPLICIT_VR_LITTLE_ENDIAN)
    part = only_part(retrieve_dicom(client, instance_path(implicit), accept, what), implicit, what)
    check_syntax([part], EXPLICIT_VR_LITTLE_ENDIAN, what)
    check_same_instance(part, implicit, what)


@pytest.mark.req("DW-WADO-113")
@pytest.mark.parametrize(
    "syntax", [IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN], ids=["implicit-le", "big-endian"]
)
def test_forbidden_syntax_is_never_served(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, syntax: str) -> None:
    """An instance requested in Implicit VR LE or Explicit VR BE answers 406, or 200 in Explicit VR LE; never in it."""
    what = f"instance as {syntax}"
    response = client.get(instance_path(retrieve_corpus.multiframe), accept=dicom_accept(syntax))
    if response.status_code != 200:
        expect_not_acceptable(response, what)
        return
    # PS3.18 8.7.3: these two syntaxes shall not be used with Web Services, so the server does not support the
    # parameter value; 8.7.7: "Any Accept header field values, including media type parameters, that are not valid
    # or not supported shall be ignored"; 8.7.3 (8.7.3.4 in 2024c) and 8.7.8.2 step 2: without a transfer syntax the
    # default, Explicit VR Little Endian, is returned. 8.7.8.1 step 5 allows 406 instead. Nothing else.
    returned = sorted({part.syntax for part in dicom_parts(response, what)})
    if returned != [EXPLICIT_VR_LITTLE_ENDIAN]:
        raise fail(
            f"{what}: PS3.18 8.7.3 forbids this syntax in Web Services; a 200 must be in the default syntax",
            expected=f"406 Not Acceptable, or 200 with every part in {EXPLICIT_VR_LITTLE_ENDIAN}",
            actual=f"200 with parts in {returned}",
            response=response,
        )


@pytest.mark.req("DW-WADO-114")
def test_any_syntax_keeps_or_modernises_implicit_vr(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The Implicit VR instance with transfer-syntax=* is its stored bytes, or else Explicit VR LE with its pixels."""
    implicit = retrieve_corpus.require_implicit()
    what = "Implicit VR instance with transfer-syntax=*"
    part = only_part(retrieve_dicom(client, instance_path(implicit), dicom_accept("*"), what), implicit, what)
    # PS3.18 8.7.3.5.2: '*' lets the server skip transcoding; 8.7.3 lets it answer in Explicit VR LE instead.
    if instance_difference(part.content, implicit.data) is None:
        return
    if part.syntax != EXPLICIT_VR_LITTLE_ENDIAN:
        raise fail(
            f"{what}: neither the stored file nor its Explicit VR Little Endian transcoding",
            expected=f"the {len(implicit.data)} stored bytes, or (0002,0010) {EXPLICIT_VR_LITTLE_ENDIAN}",
            actual=f"{len(part.content)} bytes in {part.syntax}",
        )
    check_same_instance(part, implicit, what)


DECLARED_CASES: dict[str, tuple[Callable[[RetrieveCorpus], str], str | None]] = {
    "study-any-syntax": (lambda corpus: f"studies/{corpus.study_uid}", "*"),
    "implicit-instance-default": (lambda corpus: instance_path(corpus.require_implicit()), None),
    "implicit-instance-any-syntax": (lambda corpus: instance_path(corpus.require_implicit()), "*"),
}


@pytest.mark.req("DW-WADO-115")
@pytest.mark.parametrize("case", list(DECLARED_CASES))
def test_declared_syntax_matches_file_meta(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, case: str) -> None:
    """Where a part's Content-Type names a transfer syntax, it is the (0002,0010) of the file in that part."""
    path_of, syntax = DECLARED_CASES[case]
    parts = retrieve_dicom(client, path_of(retrieve_corpus), dicom_accept(syntax), case)
    check_declared_syntax(parts, case)


@pytest.mark.req("DW-WADO-116")
def test_parts_name_their_syntax(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """Every application/dicom part of the study answer carries a transfer-syntax parameter."""
    parts = retrieve_dicom(client, f"studies/{retrieve_corpus.study_uid}", dicom_accept("*"), "study retrieve")
    unnamed = [part.number for part in parts if part.declared_syntax is None]
    if unnamed:
        raise fail(
            "study retrieve: parts without a transfer-syntax parameter (PS3.18 8.7.9)",
            expected="application/dicom; transfer-syntax=<UID> on every part",
            actual=f"parts {unnamed} of {len(parts)} say only application/dicom",
        )
    check_declared_syntax(parts, "study retrieve")


@pytest.mark.req("DW-WADO-117")
@pytest.mark.parametrize("level", ["instance", "study"])
def test_unsupported_target_syntax(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str) -> None:
    """A request for MPEG2 (1.2.840.10008.1.2.4.100), which these images cannot be made into: 406, or the default."""
    multiframe = retrieve_corpus.multiframe
    path = instance_path(multiframe) if level == "instance" else f"studies/{multiframe.study_uid}"
    what = f"{level} as MPEG2"
    response = client.get(path, accept=dicom_accept(MPEG2_MAIN_PROFILE))
    if response.status_code != 200:
        expect_not_acceptable(response, what)
        return
    # PS3.18 8.7.7: an Accept parameter value the server does not support is ignored; 8.7.3: without a transfer
    # syntax the default, Explicit VR Little Endian, is returned. 8.7.8.1 step 5 allows 406 instead; nothing else.
    check_syntax(dicom_parts(response, what), EXPLICIT_VR_LITTLE_ENDIAN, what)
