"""WADO-RS 404s (PS3.18 10.4.3): resources never stored, and stored ones addressed under the wrong parent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dicomweb_conformance.checks.retrieve import RetrieveCorpus, dicom_accept, expect_not_found, octet_accept
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient

PathOf = Callable[[RetrieveCorpus], str]


def _study(corpus: RetrieveCorpus) -> str:
    return corpus.study_uid


def _series(corpus: RetrieveCorpus) -> str:
    return corpus.multiframe.series_uid


def _sop(corpus: RetrieveCorpus) -> str:
    return corpus.multiframe.sop_instance_uid


def _other_series(corpus: RetrieveCorpus) -> str:
    """The study's other series: the Implicit VR instance's."""
    return corpus.require_implicit().series_uid


# Fresh UIDs are drawn when a check runs, so they were never stored anywhere.
NEVER_STORED: dict[str, PathOf] = {
    "study": lambda c: f"studies/{new_uid()}",
    "series-in-a-stored-study": lambda c: f"studies/{_study(c)}/series/{new_uid()}",
    "instance-in-a-stored-series": lambda c: f"studies/{_study(c)}/series/{_series(c)}/instances/{new_uid()}",
    "instance-study-and-series": lambda c: f"studies/{new_uid()}/series/{new_uid()}/instances/{new_uid()}",
}

WRONG_PARENT: dict[str, PathOf] = {
    "instance-under-its-studys-other-series": lambda c: (
        f"studies/{_study(c)}/series/{_other_series(c)}/instances/{_sop(c)}"
    ),
    "instance-under-a-fresh-study": lambda c: f"studies/{new_uid()}/series/{_series(c)}/instances/{_sop(c)}",
    "series-under-a-fresh-study": lambda c: f"studies/{new_uid()}/series/{_series(c)}",
}

FRAMES_OF: dict[str, PathOf] = {
    "never-stored-instance": lambda c: f"studies/{_study(c)}/series/{_series(c)}/instances/{new_uid()}/frames/1",
    "instance-under-the-wrong-series": lambda c: (
        f"studies/{_study(c)}/series/{_other_series(c)}/instances/{_sop(c)}/frames/1"
    ),
}


@pytest.mark.req("DW-WADO-160")
@pytest.mark.parametrize("case", list(NEVER_STORED))
def test_never_stored_resource(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, case: str) -> None:
    """A study, series or instance under fresh UIDs that were never stored answers 404."""
    response = client.get(NEVER_STORED[case](retrieve_corpus), accept=dicom_accept("*"))
    expect_not_found(response, case)


@pytest.mark.req("DW-WADO-161")
@pytest.mark.parametrize("case", list(WRONG_PARENT))
def test_stored_resource_under_the_wrong_parent(
    client: DicomwebClient, retrieve_corpus: RetrieveCorpus, case: str
) -> None:
    """A stored instance or series addressed under a study or series it does not belong to answers 404."""
    response = client.get(WRONG_PARENT[case](retrieve_corpus), accept=dicom_accept("*"))
    expect_not_found(response, case)


@pytest.mark.req("DW-WADO-162")
@pytest.mark.parametrize("case", list(FRAMES_OF))
def test_frames_of_a_missing_instance(client: DicomwebClient, retrieve_corpus: RetrieveCorpus, case: str) -> None:
    """frames/1 of a never-stored instance, or of a stored one under the wrong series, answers 404."""
    response = client.get(FRAMES_OF[case](retrieve_corpus), accept=octet_accept())
    expect_not_found(response, f"frames/1 of {case}")


@pytest.mark.req("DW-WADO-163")
def test_rendered_of_a_never_stored_instance(client: DicomwebClient, retrieve_corpus: RetrieveCorpus) -> None:
    """The rendered resource of an instance UID that was never stored answers 404."""
    path = f"studies/{_study(retrieve_corpus)}/series/{_series(retrieve_corpus)}/instances/{new_uid()}/rendered"
    expect_not_found(client.get(path, accept="image/jpeg"), "rendered never-stored instance")
