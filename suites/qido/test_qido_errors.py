"""QIDO-RS bad and absurd parameters: ignored where PS3.18 says so, 400 where the Azure service says so, and
never a 5xx or a hang (every request here has a finite timeout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.qido import (
    check_finds,
    check_returned_values,
    check_status_in,
    describe,
    encode_query,
    results_of,
    scoped,
    search,
    uids_of,
)
from dicomweb_conformance.checks.qido_matching import (
    STUDIES_ROUTE,
    STUDY_SERIES_ROUTE,
    MatchRules,
    Route,
    expected_results,
)
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.transport.client import DicomwebClient

# A server that takes longer than this over a search of a few studies is hanging.
ANSWER_WITHIN_S = 30.0
LONG = 10_000


def timed_search(client: DicomwebClient, corpus: QidoCorpus, route: Route, raw: str) -> requests.Response:
    try:
        return search(client, route.path(corpus), raw=raw, timeout=ANSWER_WITHIN_S)
    except requests.Timeout:
        raise fail(
            f"GET {route.name} ?{raw[:200]}: no answer",
            expected=f"an answer within {ANSWER_WITHIN_S:.0f} s",
            actual="timed out",
        ) from None


@pytest.mark.req("DW-QIDO-180")
@pytest.mark.parametrize(
    "ignored",
    [
        pytest.param(("foo", "bar"), id="unknown-parameter"),
        pytest.param(("NotAKeyword", "1"), id="unknown-keyword"),
        pytest.param(("includefield", "NotAKeyword"), id="unknown-includefield"),
    ],
)
def test_unsupported_parameter_is_ignored(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, ignored: tuple[str, str]
) -> None:
    """A parameter the server does not know is ignored: the search finds what it finds without it."""
    query = scoped(qido_depth_corpus, STUDIES_ROUTE, [("PatientName", "Plato")])
    expected = expected_results(qido_depth_corpus, STUDIES_ROUTE, query, qido_match_rules)
    response = search(client, STUDIES_ROUTE.path(qido_depth_corpus), [*query, ignored])
    check_finds(response, "StudyInstanceUID", expected, describe(STUDIES_ROUTE, [*query, ignored]))


@dataclass(frozen=True)
class Absurd:
    """An absurd parameter, the errors RFC 9110 allows for it, and what a server that answers must find."""

    parameter: str
    value: str
    errors: tuple[int, ...] = (400,)
    # "none": the value matches nothing; "all": the parameter is ignored (PS3.18 8.3.4.4 for limit and offset).
    finds: str = "none"


ABSURD_CASES = [
    # RFC 9110 15.5.15: 414 URI Too Long is the server's right for a URI it will not read.
    pytest.param(Absurd("PatientName", "A" * LONG, (400, 414)), id="10000-char-name"),
    pytest.param(Absurd("StudyInstanceUID", "1." * (LONG // 2) + "1", (400, 414)), id="10000-char-uid"),
    pytest.param(Absurd("includefield", "A" * LONG, (400, 414), finds="all"), id="10000-char-includefield"),
    pytest.param(Absurd("StudyDate", "99999999"), id="impossible-date"),
    pytest.param(Absurd("StudyDate", "2024-01-15"), id="malformed-date"),
    pytest.param(Absurd("StudyDate", "20240101-20230101"), id="reversed-date-range"),
    pytest.param(Absurd("StudyTime", "256199"), id="impossible-time"),
    pytest.param(Absurd("limit", "-1", finds="all"), id="negative-limit"),
    pytest.param(Absurd("limit", "1000000000000", finds="all"), id="huge-limit"),
    pytest.param(Absurd("offset", "abc", finds="all"), id="non-numeric-offset"),
    pytest.param(Absurd("offset", "-5", finds="all"), id="negative-offset"),
    pytest.param(Absurd("fuzzymatching", "maybe", finds="all"), id="fuzzymatching-maybe"),
    pytest.param(Absurd("PatientName", "\x00"), id="nul-character"),
    pytest.param(Absurd("PatientName", "%FF%FE"), id="invalid-utf8"),
]


def absurd_query(corpus: QidoCorpus, absurd: Absurd) -> str:
    scope = encode_query([corpus.scope])
    # The invalid UTF-8 case is already percent-encoded: bytes FF FE are not a character to encode.
    value = absurd.value if absurd.value.startswith("%") else encode_query([("", absurd.value)])[1:]
    return f"{scope}&{absurd.parameter}={value}"


@pytest.mark.req("DW-QIDO-181")
@pytest.mark.parametrize("absurd", ABSURD_CASES)
def test_absurd_value_is_never_a_server_error(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, absurd: Absurd
) -> None:
    """An absurd query value answers 400 (or 414) or the correct result, in time; never 5xx."""
    raw = absurd_query(qido_depth_corpus, absurd)
    response = timed_search(client, qido_depth_corpus, STUDIES_ROUTE, raw)
    if response.status_code in absurd.errors:
        return
    what = f"GET studies ?{raw[:120]}"
    if not 200 <= response.status_code < 300:
        allowed = " or ".join(map(str, absurd.errors))
        raise fail(
            f"{what}: wrong status",
            expected=f"{allowed}, or a correct 2xx answer",
            actual=f"{response.status_code} {response.text[:200]!r}",
            response=response,
        )
    scope = [qido_depth_corpus.scope]
    everything = expected_results(qido_depth_corpus, STUDIES_ROUTE, scope, qido_match_rules)
    expected = sorted(everything) if absurd.finds == "all" else []
    # 204 and 200 [] both say "nothing"; which of them a no-match search owes is DW-QIDO-155's business.
    found = uids_of(results_of(response, what), "StudyInstanceUID")
    if found != expected:
        raise fail(f"{what}: a 2xx answer with the wrong results", expected=expected, actual=found, response=response)


@pytest.mark.req("DW-QIDO-182")
@pytest.mark.parametrize(
    "route", [pytest.param(STUDIES_ROUTE, id="studies"), pytest.param(STUDY_SERIES_ROUTE, id="study-series")]
)
def test_search_without_accept_is_not_acceptable(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route
) -> None:
    """A search with no Accept header answers 406 Not Acceptable."""
    query = scoped(qido_depth_corpus, route, [])
    response = client.get_without_accept(route.path(qido_depth_corpus), params=encode_query(query) or None)
    check_status_in(response, [406], f"{describe(route, query)} without Accept")


# --- Azure: documented 400s (reference 1.3, "Errors -> 400") ------------------------------------------


def check_bad_request(client: DicomwebClient, corpus: QidoCorpus, route: Route, query: list[tuple[str, str]]) -> None:
    response = timed_search(client, corpus, route, encode_query(query))
    check_status_in(response, [400], describe(route, query))


@pytest.mark.req("AZ-QIDO-140")
@pytest.mark.parametrize(
    "unknown",
    [
        pytest.param(("foo", "bar"), id="unknown-parameter"),
        pytest.param(("NotAKeyword", "1"), id="unknown-keyword"),
        # Reference 1.3: keywords are case-sensitive.
        pytest.param(("patientname", "Plato"), id="keyword-in-lower-case"),
    ],
)
def test_azure_unknown_parameter_is_bad_request(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, unknown: tuple[str, str]
) -> None:
    """An unknown query parameter or keyword answers 400."""
    check_bad_request(
        client, qido_depth_corpus, STUDIES_ROUTE, [*scoped(qido_depth_corpus, STUDIES_ROUTE, []), unknown]
    )


@pytest.mark.req("AZ-QIDO-141")
@pytest.mark.parametrize(
    ("route", "key"),
    [
        pytest.param(STUDIES_ROUTE, ("Modality", "CT"), id="Modality-at-studies"),
        pytest.param(STUDY_SERIES_ROUTE, ("PatientName", "Plato"), id="PatientName-under-a-study"),
    ],
)
def test_azure_key_of_another_level_is_bad_request(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route, key: tuple[str, str]
) -> None:
    """A matching key the resource does not take answers 400."""
    check_bad_request(client, qido_depth_corpus, route, scoped(qido_depth_corpus, route, [key]))


@pytest.mark.req("AZ-QIDO-142")
@pytest.mark.parametrize("keyword", ["PatientID", "StudyDate"])
def test_azure_empty_value_is_bad_request(client: DicomwebClient, qido_depth_corpus: QidoCorpus, keyword: str) -> None:
    """A matching key with an empty value answers 400."""
    check_bad_request(
        client, qido_depth_corpus, STUDIES_ROUTE, scoped(qido_depth_corpus, STUDIES_ROUTE, [(keyword, "")])
    )


@pytest.mark.req("AZ-QIDO-143")
@pytest.mark.parametrize("value", ["2024-01-15", "-", "20240230"], ids=["dashes", "dash-alone", "february-30"])
def test_azure_bad_date_is_bad_request(client: DicomwebClient, qido_depth_corpus: QidoCorpus, value: str) -> None:
    """A StudyDate that is not yyyyMMdd, or a range without ends, answers 400."""
    query = scoped(qido_depth_corpus, STUDIES_ROUTE, [("StudyDate", value)])
    check_bad_request(client, qido_depth_corpus, STUDIES_ROUTE, query)


@pytest.mark.req("AZ-QIDO-144")
@pytest.mark.parametrize(
    ("parameter", "value"),
    [("limit", "0"), ("limit", "201"), ("limit", "-1"), ("limit", "abc"), ("offset", "-1"), ("offset", "abc")],
    ids=["limit-0", "limit-201", "limit-negative", "limit-abc", "offset-negative", "offset-abc"],
)
def test_azure_bad_paging_is_bad_request(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, parameter: str, value: str
) -> None:
    """limit outside 1..200, or a negative or non-integer limit or offset, answers 400."""
    query = [*scoped(qido_depth_corpus, STUDIES_ROUTE, []), (parameter, value)]
    check_bad_request(client, qido_depth_corpus, STUDIES_ROUTE, query)


@pytest.mark.req("AZ-QIDO-145")
def test_azure_unknown_includefield_is_bad_request(client: DicomwebClient, qido_depth_corpus: QidoCorpus) -> None:
    """includefield=NotAKeyword answers 400."""
    query = [*scoped(qido_depth_corpus, STUDIES_ROUTE, []), ("includefield", "NotAKeyword")]
    check_bad_request(client, qido_depth_corpus, STUDIES_ROUTE, query)


@pytest.mark.req("AZ-QIDO-146")
def test_azure_includefield_all_with_another(client: DicomwebClient, qido_depth_corpus: QidoCorpus) -> None:
    """includefield=all with includefield=PatientAge answers 400 (the code) or the all result (the docs)."""
    uid = qido_depth_corpus.uid("A")
    query = scoped(
        qido_depth_corpus,
        STUDIES_ROUTE,
        [("StudyInstanceUID", uid), ("includefield", "all"), ("includefield", "PatientAge")],
    )
    response = timed_search(client, qido_depth_corpus, STUDIES_ROUTE, encode_query(query))
    # Reference 1.12 #3: the documentation and the code disagree; either answer is Azure's.
    if response.status_code != 400:
        check_returned_values(response, qido_depth_corpus, STUDIES_ROUTE, [uid], ["PatientAge", "PatientWeight"])


TWICE_CASES = [
    pytest.param(STUDIES_ROUTE, lambda c: [c.scope] * 2, id="AccessionNumber-twice"),
    pytest.param(
        STUDY_SERIES_ROUTE, lambda c: [("StudyInstanceUID", c.focus_study())], id="StudyInstanceUID-in-path-and-query"
    ),
]


@pytest.mark.req("AZ-QIDO-147")
@pytest.mark.parametrize(("route", "build"), TWICE_CASES)
def test_azure_key_given_twice_is_bad_request(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    route: Route,
    build: Callable[[QidoCorpus], list[tuple[str, str]]],
) -> None:
    """A key given twice, or a StudyInstanceUID both in the path and in the query, answers 400."""
    check_bad_request(client, qido_depth_corpus, route, build(qido_depth_corpus))


@pytest.mark.req("AZ-QIDO-148")
@pytest.mark.parametrize(
    "query",
    [
        pytest.param([("PatientName", "Plato"), ("fuzzymatching", "maybe")], id="fuzzymatching-maybe"),
        pytest.param([("PatientName", 'Pla"to'), ("fuzzymatching", "true")], id="double-quote-in-fuzzy-name"),
    ],
)
def test_azure_bad_fuzzy_search_is_bad_request(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, query: list[tuple[str, str]]
) -> None:
    """fuzzymatching=maybe, or a fuzzy name with a double quote, answers 400."""
    check_bad_request(client, qido_depth_corpus, STUDIES_ROUTE, scoped(qido_depth_corpus, STUDIES_ROUTE, query))
