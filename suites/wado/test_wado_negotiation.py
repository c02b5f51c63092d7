"""WADO-RS Accept negotiation (PS3.18 8.7, 8.7.8): type parameters, lists, q values, no Accept, unsupported types."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_media_type, expect_status, fail
from dicomweb_conformance.checks.retrieve import (
    DICOM,
    RetrieveCorpus,
    check_instances,
    check_syntax,
    dicom_accept,
    dicom_parts,
    expect_not_acceptable,
    related_accept,
    retrieve_dicom,
)
from dicomweb_conformance.dicom.part10 import EXPLICIT_VR_LITTLE_ENDIAN
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import instance_path, series_path

LEVELS = ["study", "series", "instance"]


def resource(corpus: RetrieveCorpus, level: str) -> tuple[str, list[SampleInstance]]:
    """The path of the corpus' study, first series or multi-frame instance, and the instances it holds."""
    if level == "study":
        return f"studies/{corpus.study_uid}", corpus.stored
    if level == "series":
        return series_path(corpus.multiframe), corpus.first_series
    return instance_path(corpus.multiframe), [corpus.multiframe]


@pytest.mark.req("DW-WADO-100")
@pytest.mark.parametrize("level", LEVELS)
def test_unquoted_type_is_equivalent(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str) -> None:
    """Accept 'multipart/related; type=application/dicom; transfer-syntax=*' (unquoted) returns the resource."""
    path, instances = resource(retrieve_corpus, level)
    accept = related_accept(DICOM, "*", quoted=False)
    check_instances(retrieve_dicom(client, path, accept, f"{level} with an unquoted type"), instances, level)


@pytest.mark.req("DW-WADO-101")
def test_unsupported_entry_before_a_supported_one(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """Accept 'image/foo, multipart/related; type="application/dicom"' is served as multipart application/dicom."""
    accept = f"image/foo, {dicom_accept('*')}"
    parts = retrieve_dicom(
        client, instance_path(retrieve_corpus.multiframe), accept, "instance, image/foo listed first"
    )
    check_instances(parts, [retrieve_corpus.multiframe], "instance, image/foo listed first")


@pytest.mark.req("DW-WADO-102")
@pytest.mark.parametrize("preferred_first", [True, False], ids=["preferred-first", "preferred-last"])
def test_highest_q_value_wins(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, preferred_first: bool) -> None:
    """Explicit VR Little Endian at q=0.9 beats transfer-syntax=* at q=0.1: the Implicit VR instance is transcoded."""
    implicit = retrieve_corpus.require_implicit()
    entries = [f"{dicom_accept(EXPLICIT_VR_LITTLE_ENDIAN)}; q=0.9", f"{dicom_accept('*')}; q=0.1"]
    accept = ", ".join(entries if preferred_first else reversed(entries))
    parts = retrieve_dicom(client, instance_path(implicit), accept, "q-weighted transfer syntaxes")
    check_instances(parts, [implicit], "q-weighted transfer syntaxes")
    check_syntax(parts, EXPLICIT_VR_LITTLE_ENDIAN, "q=0.9 Explicit VR Little Endian over q=0.1 *")


@pytest.mark.req("DW-WADO-103")
def test_q_zero_is_not_acceptable(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """Accept 'multipart/related; type="application/dicom"; q=0' refuses the only type offered: 406."""
    response = client.get(instance_path(retrieve_corpus.multiframe), accept=f"{dicom_accept()}; q=0")
    expect_not_acceptable(response, "instance with q=0")


@pytest.mark.req("DW-WADO-104")
def test_study_as_any_media_type_uses_the_default(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """GET the study with Accept */*: multipart/related application/dicom, every part Explicit VR LE."""
    what = "study with Accept */*"
    response = client.get(f"studies/{retrieve_corpus.study_uid}", accept="*/*")
    expect_status(response, 200, what)
    params = expect_media_type(response, "multipart/related", what)
    if params.get("type", DICOM) != DICOM:
        raise fail(f"{what}: not the default media type", expected=DICOM, actual=params.get("type"))
    parts = dicom_parts(response, what)
    check_instances(parts, retrieve_corpus.stored, what)
    check_syntax(parts, EXPLICIT_VR_LITTLE_ENDIAN, what)


@pytest.mark.req("DW-WADO-109")
@pytest.mark.parametrize("level", ["study", "instance"])
def test_no_accept_is_not_acceptable(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str) -> None:
    """GET the study or an instance with no Accept header answers 406."""
    path, _ = resource(retrieve_corpus, level)
    expect_not_acceptable(client.get_without_accept(path), f"{level} without Accept")


@pytest.mark.req("DW-WADO-105")
@pytest.mark.parametrize(("level", "unknown"), [("study", "image/foo"), ("instance", "application/x-nope")])
def test_unknown_media_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str, unknown: str) -> None:
    """A DICOM resource requested as a media type nobody defines answers 406."""
    path, _ = resource(retrieve_corpus, level)
    expect_not_acceptable(client.get(path, accept=unknown), f"{level} as {unknown}")


@pytest.mark.req("DW-WADO-106")
@pytest.mark.parametrize(
    "accept",
    ["image/foo, application/x-nope", 'multipart/related; type="image/foo"'],
    ids=["list-of-unknown-types", "multipart-of-an-unknown-type"],
)
def test_only_unsupported_entries(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, accept: str) -> None:
    """An instance requested with an Accept whose every entry is unsupported answers 406."""
    response = client.get(instance_path(retrieve_corpus.multiframe), accept=accept)
    expect_not_acceptable(response, f"instance as {accept}")


@pytest.mark.req("DW-WADO-107")
@pytest.mark.parametrize("level", ["study", "series"])
def test_single_part_dicom_for_several_instances(
    client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str
) -> None:
    """The study or series (several instances) requested as single-part application/dicom answers 406."""
    path, _ = resource(retrieve_corpus, level)
    expect_not_acceptable(client.get(path, accept=f"{DICOM}; transfer-syntax=*"), f"{level} as single-part {DICOM}")


@pytest.mark.req("DW-WADO-108")
@pytest.mark.parametrize("level", ["study", "instance"])
def test_answer_names_its_part_type(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, level: str) -> None:
    """The multipart answer's Content-Type is 'multipart/related; type="application/dicom"; boundary=...'."""
    path, _ = resource(retrieve_corpus, level)
    response = client.get(path, accept=dicom_accept("*"))
    expect_status(response, 200, f"{level} retrieve")
    params = expect_media_type(response, "multipart/related", f"{level} retrieve")
    if params.get("type") != DICOM:
        raise fail(
            f"{level} retrieve: the type parameter must name the parts' media type (RFC 2387 3.1)",
            expected=f'type="{DICOM}"',
            actual=response.headers.get("Content-Type"),
            response=response,
        )
