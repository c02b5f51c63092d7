"""QIDO-RS matching (PS3.4 C.2.2.2 as PS3.18 8.3.4.1 uses it): wildcards, UID lists, ranges, case, fuzzy names.

The expected entities are computed by checks/qido_matching.py from the stored corpus, under the rules of the
target's profile: PS3.4 for standard, the documented Azure rules for azure.
"""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import fail, poll
from dicomweb_conformance.checks.qido import (
    Case,
    case,
    check_no_content,
    describe,
    has_warning_299,
    results_of,
    run_case,
    scoped,
    search,
    uids_of,
    warning_headers,
)
from dicomweb_conformance.checks.qido_matching import (
    INSTANCES_ROUTE,
    SERIES_INSTANCES_ROUTE,
    SERIES_ROUTE,
    STANDARD_RULES,
    STUDIES_ROUTE,
    MatchRules,
    expected_results,
)
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.dicom.levels import LEVEL_KEY
from dicomweb_conformance.transport.client import DicomwebClient


def patient_id_prefix(corpus: QidoCorpus) -> str:
    # PatientID is DWCS-<run>-Q<nonce>-<code>; the code's first letter groups studies A, B (A1, A2) and C, D (B1, B2).
    return corpus.value("A", "PatientID")[:-2]


def accession_star(corpus: QidoCorpus) -> str:
    # The scope's AccessionNumber Q<nonce> with a run of its nonce replaced: A-E, not F (R<nonce>).
    accession = corpus.scope_accession
    return f"{accession[:5]}*{accession[8:]}"


def uids(corpus: QidoCorpus, *names: str) -> str:
    return ",".join(corpus.uid(name) for name in names)


# PS3.4 C.2.2.2.4: wild card matching shall apply to AE, CS, LO, SH ... values; for person names it is
# implementation dependent (DW-QIDO-119, for targets that claim it).
STAR_CASES = [
    case("PatientID", STUDIES_ROUTE, lambda c: [("PatientID", patient_id_prefix(c) + "A*")]),
    # Unscoped: AccessionNumber is the scope's own key, and the pattern keeps the corpus nonce.
    case("AccessionNumber", STUDIES_ROUTE, lambda c: [("AccessionNumber", accession_star(c))]),
    case("Modality-series", SERIES_ROUTE, lambda c: [("Modality", "M*")]),
]
QUESTION_MARK_CASES = [
    case("PatientID", STUDIES_ROUTE, lambda c: [("PatientID", patient_id_prefix(c) + "B?")]),
    case("AccessionNumber", STUDIES_ROUTE, lambda c: [("AccessionNumber", c.scope_accession[:-1] + "?")]),
]
PERSON_NAME_WILDCARD_CASES = [
    case("PatientName-prefix", STUDIES_ROUTE, lambda c: [("PatientName", "Smith*")]),
    case("PatientName-suffix", STUDIES_ROUTE, lambda c: [("PatientName", "*Anna")]),
    case("PatientName-alone", STUDIES_ROUTE, lambda c: [("PatientName", "*")], discriminating=False),
    case("PatientName-question-mark", STUDIES_ROUTE, lambda c: [("PatientName", "Plat?")]),
    case("ReferringPhysicianName", STUDIES_ROUTE, lambda c: [("ReferringPhysicianName", "Hou*")]),
]
UID_LIST_CASES = [
    case("studies", STUDIES_ROUTE, lambda c: [("StudyInstanceUID", uids(c, "A", "C"))]),
    case("series", SERIES_ROUTE, lambda c: [("SeriesInstanceUID", uids(c, "A1", "B2", "E1"))]),
    case("instances", INSTANCES_ROUTE, lambda c: [("SOPInstanceUID", uids(c, "A1-1", "C1-1", "E1-1"))]),
    # A UID of another series, then one of this series: only the second is under this path.
    case("series-instances", SERIES_INSTANCES_ROUTE, lambda c: [("SOPInstanceUID", uids(c, "C1-1", "A1-2"))]),
]
DATE_RANGE_CASES = [
    # Both ends are stored dates (B and D): the range must include them.
    case("closed-studies", STUDIES_ROUTE, lambda c: [("StudyDate", "20200610-20210101")]),
    case("open-end", STUDIES_ROUTE, lambda c: [("StudyDate", "20200611-")]),
    case("open-start", STUDIES_ROUTE, lambda c: [("StudyDate", "-20200610")]),
    case("closed-series", SERIES_ROUTE, lambda c: [("StudyDate", "20200610-20210101")]),
    case("closed-instances", INSTANCES_ROUTE, lambda c: [("StudyDate", "20200610-20210101")]),
    case("procedure-date-series", SERIES_ROUTE, lambda c: [("PerformedProcedureStepStartDate", "20190316-20200610")]),
]
TIME_RANGE_CASES = [
    case("closed", STUDIES_ROUTE, lambda c: [("StudyTime", "083000-141500")]),
    case("open-end", STUDIES_ROUTE, lambda c: [("StudyTime", "141500-")]),
    case("open-start", STUDIES_ROUTE, lambda c: [("StudyTime", "-083000")]),
    case("procedure-time-series", SERIES_ROUTE, lambda c: [("PerformedProcedureStepStartTime", "083100-141600")]),
]
CONJUNCTION_CASES = [
    # Welby referred B and E, and F (outside the scope); 20200610 is the date of B and F.
    case("studies", STUDIES_ROUTE, lambda c: [("ReferringPhysicianName", "Welby"), ("StudyDate", "20200610")]),
    case("series", SERIES_ROUTE, lambda c: [("Modality", "CT"), ("StudyDate", "20200611")]),
]
# (keyword, the study whose stored value is sent in lower case)
CASE_SENSITIVE_CASES = [
    pytest.param("PatientID", "B", id="PatientID"),
    pytest.param("AccessionNumber", "B", id="AccessionNumber"),
    pytest.param("StudyID", "C", id="StudyID"),
]


@pytest.mark.req("DW-QIDO-110")
@pytest.mark.parametrize("search_case", STAR_CASES)
def test_wildcard_star(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A value with * matches any run of characters in its place."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-111")
@pytest.mark.parametrize("search_case", QUESTION_MARK_CASES)
def test_wildcard_question_mark(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A value with ? matches exactly one character in its place."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-119")
@pytest.mark.parametrize("search_case", PERSON_NAME_WILDCARD_CASES)
def test_person_name_wildcards(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """On a target claiming PN wild card matching, * and ? in a person name match as in PS3.4 C.2.2.2.4."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-112")
@pytest.mark.parametrize("search_case", UID_LIST_CASES)
def test_uid_list(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A comma-separated list of UIDs matches each entity whose UID is listed."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-113")
@pytest.mark.parametrize("search_case", DATE_RANGE_CASES)
def test_date_range(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A date range matches the dates between its ends, both included; an open end is unbounded."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-114")
@pytest.mark.parametrize("search_case", TIME_RANGE_CASES)
def test_time_range(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A time range matches the times between its ends, both included; an open end is unbounded."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-115")
@pytest.mark.parametrize("search_case", CONJUNCTION_CASES)
def test_keys_combine(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """Two matching keys select only the entities matching both."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("DW-QIDO-116")
@pytest.mark.parametrize(("keyword", "study"), CASE_SENSITIVE_CASES)
def test_single_value_is_case_sensitive(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, keyword: str, study: str
) -> None:
    """A non-PN value in the wrong case matches nothing, while the stored value finds its study."""
    stored = qido_depth_corpus.value(study, keyword)
    # Positive control: the same search with the stored value finds exactly the studies holding it, so an
    # empty answer below is the case rule at work, not a search that finds nothing at all.
    # (The AccessionNumber of B is the scope's own, shared by A-E: its control selects the whole scope.)
    control = Case(STUDIES_ROUTE, lambda c: [(keyword, stored)], discriminating=keyword != "AccessionNumber")
    run_case(client, qido_depth_corpus, qido_match_rules, control)
    query = scoped(qido_depth_corpus, STUDIES_ROUTE, [(keyword, stored.lower())])
    response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), query)
    # 204 and 200 [] both say "no match"; which one a search owes is DW-QIDO-155's business, not this check's.
    found = uids_of(results_of(response, describe(STUDIES_ROUTE, query)), LEVEL_KEY[STUDIES_ROUTE.level])
    if found:
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: a value in another case matched (PS3.4 C.2.2.2.1)",
            expected="no result",
            actual=found,
            response=response,
        )


def fuzzy_query(corpus: QidoCorpus, keyword: str, prefix: str) -> list[tuple[str, str]]:
    return scoped(corpus, STUDIES_ROUTE, [(keyword, prefix), ("fuzzymatching", "true")])


FUZZY_CASES = [
    # "smi" is literally nobody's name; any fuzzy matcher finds Smith^John and Smithson^Anna (B, C), and none
    # finds Müller^Jürgen, Van Dyke^Dick or Plato (A, D, E), which share no word, sound or letter run with it.
    pytest.param("PatientName", "smi", ("B", "C"), ("A", "D", "E"), id="PatientName"),
    # House^Gregory referred A and C; Welby and de la Cruz (B, D, E) are nothing like "hous".
    pytest.param("ReferringPhysicianName", "hous", ("A", "C"), ("B", "D", "E"), id="ReferringPhysicianName"),
]


@pytest.mark.req("DW-QIDO-117")
@pytest.mark.parametrize(("keyword", "prefix", "names", "unrelated"), FUZZY_CASES)
def test_fuzzy_matching_or_warning(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    keyword: str,
    prefix: str,
    names: tuple[str, ...],
    unrelated: tuple[str, ...],
) -> None:
    """fuzzymatching=true either finds the names fuzzily, and not the unrelated ones, or warns (299) that only
    literal matching was done."""
    query = fuzzy_query(qido_depth_corpus, keyword, prefix)
    response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), query)
    found = set(uids_of(results_of(response, describe(STUDIES_ROUTE, query)), "StudyInstanceUID"))
    literal = expected_results(qido_depth_corpus, STUDIES_ROUTE, query, STANDARD_RULES)
    fuzzy_targets = {qido_depth_corpus.uid(name) for name in names}
    # PS3.18 8.3.4.2: without fuzzy support the server matches literally and says so in a Warning header.
    if has_warning_299(response, "fuzzymatching"):
        if found != literal:
            raise fail(
                "a search that warns of literal matching must match literally",
                expected=sorted(literal),
                actual=sorted(found),
                response=response,
            )
        return
    scope = expected_results(
        qido_depth_corpus, STUDIES_ROUTE, scoped(qido_depth_corpus, STUDIES_ROUTE, []), STANDARD_RULES
    )
    if found >= scope and not fuzzy_targets >= scope:
        # Fuzzy matching is the implementation's (PS3.18 8.3.4.2), but it still matches on the key: an answer
        # holding every study in scope, names unrelated to the value included, ignored the key.
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: every study in scope came back: the key was ignored",
            expected=f"results including {sorted(fuzzy_targets)}, not all of {sorted(scope)}",
            actual=sorted(found),
            response=response,
        )
    if not fuzzy_targets <= found:
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: neither fuzzy matching nor a Warning 299 (PS3.18 8.3.4.2)",
            expected=f"results including {sorted(fuzzy_targets)}, or Warning: 299 ... fuzzymatching ... not supported",
            actual=f"results {sorted(found)}; Warning headers {warning_headers(response)}",
            response=response,
        )
    # A fuzzy matcher still matches (PS3.4 C.2.2.2.1.1): a server that ignores the name key finds everyone.
    strangers = sorted(found & {qido_depth_corpus.uid(name) for name in unrelated})
    if strangers:
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: fuzzy matching found names that have nothing of {prefix!r}",
            expected=f"results including {sorted(fuzzy_targets)} and none of {sorted(strangers)} "
            f"(studies {', '.join(unrelated)} of the corpus)",
            actual=f"results {sorted(found)}",
            response=response,
        )


@pytest.mark.req("DW-QIDO-118")
@pytest.mark.parametrize("flag", ["true", "false"])
def test_fuzzy_matching_is_never_an_error(client: DicomwebClient, qido_depth_corpus: QidoCorpus, flag: str) -> None:
    """fuzzymatching=true or false is accepted: a search for a stored name answers 200 with that study."""
    query = scoped(qido_depth_corpus, STUDIES_ROUTE, [("PatientName", "Plato"), ("fuzzymatching", flag)])
    response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), query)
    found = uids_of(results_of(response, describe(STUDIES_ROUTE, query)), "StudyInstanceUID")
    # Literal and any fuzzy matching both find the exact stored name.
    if qido_depth_corpus.uid("E") not in found:
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: the exact name was not found",
            expected=[qido_depth_corpus.uid("E")],
            actual=found,
            response=response,
        )


AZURE_FOLDED_CASES = [
    case("PatientName-upper", STUDIES_ROUTE, lambda c: [("PatientName", "PLATO")]),
    case("PatientName-lower-components", STUDIES_ROUTE, lambda c: [("PatientName", "smith^john")]),
]
AZURE_ACCENT_CASES = [case("PatientName", STUDIES_ROUTE, lambda c: [("PatientName", "Muller^Jurgen")])]
AZURE_TEXT_CASE_CASES = [
    case("AccessionNumber", STUDIES_ROUTE, lambda c: [("AccessionNumber", c.value("B", "AccessionNumber").lower())]),
    case("StudyDescription", STUDIES_ROUTE, lambda c: [("StudyDescription", "chestct")]),
]


@pytest.mark.req("AZ-QIDO-110")
@pytest.mark.parametrize("search_case", AZURE_FOLDED_CASES)
def test_azure_person_name_ignores_case(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """A PatientName in another case finds the stored name."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("AZ-QIDO-111")
@pytest.mark.parametrize("search_case", AZURE_ACCENT_CASES)
def test_azure_person_name_ignores_accents(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """Muller^Jurgen finds the study of Müller^Jürgen stored in ISO_IR 192."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


@pytest.mark.req("AZ-QIDO-112")
@pytest.mark.parametrize("search_case", AZURE_TEXT_CASE_CASES)
def test_azure_text_ignores_case(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, search_case: Case
) -> None:
    """AccessionNumber and StudyDescription in lower case find the stored values."""
    run_case(client, qido_depth_corpus, qido_match_rules, search_case)


# (value with * or ?, the stored name the same search finds without them, the corpus study holding it)
AZURE_LITERAL_CASES = [
    pytest.param("Smith*", "Smith^John", "B", id="Smith*"),
    pytest.param("Plat?", "Plato", "E", id="Plat?"),
]


@pytest.mark.req("AZ-QIDO-113")
@pytest.mark.parametrize(("value", "control", "holder"), AZURE_LITERAL_CASES)
def test_azure_wildcards_are_literal(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, value: str, control: str, holder: str
) -> None:
    """A PatientName with * or ? is matched literally: nobody has that name, so the answer is 204, while the same
    search with a stored name finds that study (the positive control: a server that finds nothing at all fails)."""
    found = search_studies(client, qido_depth_corpus, [("PatientName", control)])
    if qido_depth_corpus.uid(holder) not in found:
        raise fail(
            f"PatientName={control}: the stored name is not found, so a 204 for {value} would prove nothing",
            expected=[qido_depth_corpus.uid(holder)],
            actual=found,
        )
    query = scoped(qido_depth_corpus, STUDIES_ROUTE, [("PatientName", value)])
    response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), query)
    check_no_content(response, describe(STUDIES_ROUTE, query))


def search_studies(client: DicomwebClient, corpus: QidoCorpus, terms: list[tuple[str, str]]) -> list[str]:
    query = scoped(corpus, STUDIES_ROUTE, terms)
    response = search(client, STUDIES_ROUTE.path(corpus), query)
    return uids_of(results_of(response, describe(STUDIES_ROUTE, query)), "StudyInstanceUID")


AZURE_FUZZY_CASES = [
    pytest.param("PatientName", "joh", ("B",), id="PatientName-given-name"),
    pytest.param("PatientName", "smi", ("B", "C"), id="PatientName-family-name"),
    pytest.param("ReferringPhysicianName", "greg", ("A", "C"), id="ReferringPhysicianName"),
]


@pytest.mark.req("AZ-QIDO-114")
@pytest.mark.parametrize(("keyword", "prefix", "names"), AZURE_FUZZY_CASES)
def test_azure_fuzzy_word_prefix(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, keyword: str, prefix: str, names: tuple[str, ...]
) -> None:
    """With fuzzymatching=true, the prefix of a word of a person name finds exactly the names having it.

    Azure matches fuzzily on a SQL full-text index that is filled asynchronously, so Microsoft's own test asks
    again until the match shows up ("Retrying the query ... to give sql FT index time to catch up":
    microsoft/dicom-server eeefbe4d7 test/Microsoft.Health.Dicom.Web.Tests.E2E/Rest/QueryTransactionTests.cs,
    GivenSearchRequest_PatientNameFuzzyMatch_MatchResult). So does this check, within the target's
    fuzzy_index_timeout (its visibility_timeout unless the file says otherwise); what it still answers then is the
    verdict.
    """
    query = fuzzy_query(qido_depth_corpus, keyword, prefix)
    expected = sorted(qido_depth_corpus.uid(name) for name in names)
    last: list[tuple[requests.Response, list[str]]] = []

    def probe() -> bool:
        response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), query)
        last[:] = [(response, uids_of(results_of(response, describe(STUDIES_ROUTE, query)), "StudyInstanceUID"))]
        return last[0][1] == expected

    if not poll(probe, timeout=client.target.fuzzy_index_timeout, interval=client.target.poll_interval):
        response, found = last[0]
        raise fail(
            f"{describe(STUDIES_ROUTE, query)}: wrong fuzzy results after {client.target.fuzzy_index_timeout} s",
            expected=expected,
            actual=found,
            response=response,
        )
