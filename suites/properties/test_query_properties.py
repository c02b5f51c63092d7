"""Property checks on QIDO-RS: generated searches over this run's corpus agree with matching computed locally.

The corpus (corpora/qido_corpus.py, CORPUS_PLAN) is stored once under a PatientID of its own, and every
search carries that PatientID, so no other data can answer. Queries are drawn from the plan (UIDs as entity
labels, replaced by this run's UIDs when sent). The local matcher applies PS3.4 C.2.2.2 (or the Azure DICOM
service's documented rules on the azure profile) in its strictest and in its most lenient permitted reading:
the server must return every entity the strict reading matches and none the lenient one rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
import requests
from hypothesis import assume, example, given

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.properties import (
    found_uids,
    search_path,
)
from dicomweb_conformance.checks.qido_matching import (
    MATCHING_RULES,
    expected_matches,
    searchable,
)
from dicomweb_conformance.checks.qido_queries import (
    Page,
    pages,
    person_name_queries,
    range_queries,
    single_value_queries,
    uid_list_queries,
    wildcard_queries,
)
from dicomweb_conformance.corpora.qido_corpus import (
    RANGE,
    SINGLE,
    UID_LIST,
    WILDCARD,
    Corpus,
    Query,
    planned,
    stored_values,
)
from dicomweb_conformance.dicom.levels import (
    LEVEL_NAMES,
)
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON


def search(client: DicomwebClient, corpus: Corpus, level: str, parameters: dict[str, str]) -> requests.Response:
    return client.get(search_path(level, corpus.patient_id, parameters), accept=DICOM_JSON)


def titles(labels: Iterable[str], level: str) -> list[str]:
    return [f"{LEVEL_NAMES[level]} {label}" for label in sorted(labels)]


def check_search_agrees_with_matcher(client: DicomwebClient, corpus: Corpus, profile: str, query: Query) -> None:
    """Each match once; every entity the strict reading matches; none the lenient reading rejects."""
    # The profile's rule (checks/qido_matching.py, searchable): only attributes and kinds it matches on.
    assume(searchable(profile, query))
    if not expected_matches(query, MATCHING_RULES[profile]).must:
        # A search that must find nothing proves little alone: the same key with a stored value must find its
        # entities (a positive control; if it fails, that is a failure of this matching requirement).
        # Preferably a value needing no percent-encoding, so that the control tests matching, not decoding.
        stored = sorted(stored_values(query.level, query.keyword), key=lambda v: re.fullmatch(r"[\w.-]+", v) is None)
        if stored:
            control = Query(query.level, query.keyword, SINGLE, stored[0])
            check_search_agrees_with_matcher(client, corpus, profile, control)
    response = search(client, corpus, query.level, corpus.parameters(query))
    found = [corpus.label(uid) for uid in found_uids(response, query.level, f"search {query!r}")]
    expectation = expected_matches(query, MATCHING_RULES[profile])
    repeated = {label for label in found if found.count(label) > 1}
    missing = expectation.must - set(found)
    unexpected = set(found) - expectation.may
    if repeated or missing or unexpected:
        lenient_only = expectation.may - expectation.must
        raise fail(
            f"search {query!r} disagrees with {query.kind} matching (matching rules of the {profile} profile)",
            expected=f"{titles(expectation.must, query.level)}"
            + (f", and may also match {titles(lenient_only, query.level)}" if lenient_only else ""),
            actual=f"{titles(found, query.level)}: missing {titles(missing, query.level)}, should not match "
            f"{titles(unexpected, query.level)}, listed twice {titles(repeated, query.level)}",
            response=response,
        )


# Explicit examples run first under every hypothesis profile: each pins a failure class seen on a real server
# (see the deviations in targets/*.toml), so a declared deviation never depends on what generation happens to hit.
@pytest.mark.req("DW-PROP-007")
@given(query=single_value_queries())
@example(query=Query("studies", "AccessionNumber", SINGLE, "ACC-001"))
@example(query=Query("studies", "AccessionNumber", SINGLE, "ACC 002"))
def test_single_value_matching_agrees_with_the_matcher(
    client: DicomwebClient, qido_corpus: Corpus, target_profile: str, query: Query
) -> None:
    """Searches for stored values, their case variants and unknown values of every non-PN matching attribute, at
    study, series and instance level, return exactly the entities single value matching selects."""
    check_search_agrees_with_matcher(client, qido_corpus, target_profile, query)


@pytest.mark.req("DW-PROP-008")
@given(query=wildcard_queries())
@example(query=Query("studies", "AccessionNumber", WILDCARD, "ACC*"))
def test_wildcard_matching_agrees_with_the_matcher(
    client: DicomwebClient, qido_corpus: Corpus, target_profile: str, query: Query
) -> None:
    """Searches with "*" and "?" patterns made from stored CS/LO/SH values return exactly the entities wild card
    matching selects."""
    check_search_agrees_with_matcher(client, qido_corpus, target_profile, query)


@pytest.mark.req("DW-PROP-009")
@given(query=range_queries())
@example(query=Query("studies", "StudyDate", RANGE, "-19991231"))
def test_date_range_matching_agrees_with_the_matcher(
    client: DicomwebClient, qido_corpus: Corpus, target_profile: str, query: Query
) -> None:
    """Searches with "a-b", "-b" and "a-" ranges on the matching dates return exactly the entities whose
    (non-empty) date lies in the range."""
    check_search_agrees_with_matcher(client, qido_corpus, target_profile, query)


@pytest.mark.req("DW-PROP-010")
@given(query=uid_list_queries())
@example(query=Query("series", "SeriesInstanceUID", UID_LIST, "S1/1,S3/1,unknown"))
def test_uid_list_matching_agrees_with_the_matcher(
    client: DicomwebClient, qido_corpus: Corpus, target_profile: str, query: Query
) -> None:
    """Searches with comma-separated lists of stored and unknown UIDs return exactly the listed entities."""
    check_search_agrees_with_matcher(client, qido_corpus, target_profile, query)


@pytest.mark.req("DW-PROP-011")
@given(query=person_name_queries())
@example(query=Query("studies", "ReferringPhysicianName", SINGLE, "Smith^Anna"))
def test_person_name_matching_agrees_with_the_matcher(
    client: DicomwebClient, qido_corpus: Corpus, target_profile: str, pn_wildcards: bool, query: Query
) -> None:
    """Searches on PatientName and ReferringPhysicianName (whole names with "^", case and accent variants, family
    names alone, and wildcards where the target claims them) return exactly the entities PN matching selects."""
    # PS3.4 C.2.2.2.4: wild card matching of person names is implementation dependent; only a target that
    # claims it (capability qido.wildcard_pn) is searched with PN wildcards.
    assume(query.kind != WILDCARD or pn_wildcards)
    check_search_agrees_with_matcher(client, qido_corpus, target_profile, query)


@pytest.mark.req("DW-PROP-012")
@given(page=pages())
@example(page=Page("instances", limit=5, offset=3))
def test_pages_are_slices_of_the_whole_answer(client: DicomwebClient, qido_corpus: Corpus, page: Page) -> None:
    """A search with generated limit and offset returns exactly that slice of the same search without them, which
    returns every corpus entity once; under a server cap on answers, min(matches - offset, limit, cap) of them."""
    whole = search(client, qido_corpus, page.level, {})
    everything = [qido_corpus.label(uid) for uid in found_uids(whole, page.level, f"unpaged search of {page.level}")]
    planned_labels = sorted(entity.label for entity in planned(page.level))
    if not everything or len(set(everything)) != len(everything) or not set(everything) <= set(planned_labels):
        raise fail(
            f"the unpaged search of {page.level} does not return corpus entities, each once (PS3.4 C.2.2.2.1)",
            expected=titles(planned_labels, page.level),
            actual=[f"{LEVEL_NAMES[page.level]} {label}" for label in everything],
            response=whole,
        )
    parameters = {"limit": str(page.limit), "offset": str(page.offset)}
    paged = search(client, qido_corpus, page.level, parameters)
    found = [qido_corpus.label(uid) for uid in found_uids(paged, page.level, f"paged search of {page.level}")]
    # PS3.18 8.3.4.4.1: results = min(max(0, matches - offset), maxResults, limit), offset counting matches of
    # the search's ordered list. maxResults, the server's own cap (no minimum is set), shows in the unpaged
    # answer: if it cut that answer, the slice past the cap is unknown here, and only the count is judged.
    cap = len(everything)
    if cap == len(planned_labels):
        expected: list[str] | str = everything[page.offset : page.offset + page.limit]
        wrong = found != expected
    else:
        count = min(max(0, len(planned_labels) - page.offset), page.limit, cap)
        expected = f"{count} distinct of {titles(planned_labels, page.level)} (the server caps answers at {cap})"
        wrong = len(found) != count or len(set(found)) != len(found) or not set(found) <= set(planned_labels)
    if wrong:
        raise fail(
            f"limit={page.limit}&offset={page.offset} is not that slice of the whole answer (PS3.18 8.3.4.4.1)",
            expected=expected,
            actual=found,
            response=paged,
        )
