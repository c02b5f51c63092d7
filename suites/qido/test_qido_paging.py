"""QIDO-RS paging (limit, offset, the additional-results Warning) and searches with no result (PS3.18 8.3.4.4).

The corpus scope holds 5 studies, 7 series and 9 instances: odd counts, so a walk with limit=2 ends on a
short page.
"""

from __future__ import annotations

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.qido import (
    check_no_content,
    describe,
    has_warning_299,
    results_of,
    scoped,
    search,
    uids_of,
    warning_headers,
)
from dicomweb_conformance.checks.qido_matching import (
    INSTANCES_ROUTE,
    ROUTES,
    SERIES_ROUTE,
    STUDIES_ROUTE,
    STUDY_INSTANCES_ROUTE,
    MatchRules,
    Route,
    expected_results,
)
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.dicom.levels import LEVEL_KEY
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.client import DicomwebClient

PAGE = 2
WALK_ROUTES = [STUDIES_ROUTE, SERIES_ROUTE, INSTANCES_ROUTE, STUDY_INSTANCES_ROUTE]


def scope_query(corpus: QidoCorpus, route: Route, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [*scoped(corpus, route, []), *extra]


def page(
    client: DicomwebClient, corpus: QidoCorpus, route: Route, *extra: tuple[str, str]
) -> tuple[list[str], requests.Response]:
    query = scope_query(corpus, route, *extra)
    response = search(client, route.path(corpus), query)
    return uids_of(results_of(response, describe(route, query)), LEVEL_KEY[route.level]), response


def matches(corpus: QidoCorpus, route: Route, rules: MatchRules) -> set[str]:
    return expected_results(corpus, route, scope_query(corpus, route), rules)


def unpaged(client: DicomwebClient, corpus: QidoCorpus, route: Route, wanted: set[str]) -> list[str]:
    """The search without limit and offset: distinct matches, all of them unless the server caps its answers.

    PS3.18 8.3.4.4.1: results = min(max(0, matches - offset), maxResults, limit), maxResults being the server's
    own cap on one response; the standard sets no minimum for it, so the checks learn it from this answer
    (a cap below the matches is the server's right, announced or not: the Warning is DW-QIDO-154's business).
    """
    found, response = page(client, corpus, route)
    if not found or len(set(found)) != len(found) or not set(found) <= wanted:
        raise fail(
            f"{route.name}: the search without limit or offset",
            expected=f"distinct results among {sorted(wanted)}",
            actual=found,
            response=response,
        )
    return found


@pytest.mark.req("DW-QIDO-150")
@pytest.mark.parametrize("route", WALK_ROUTES, ids=lambda r: r.name)
def test_walk_pages(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, route: Route
) -> None:
    """Pages of limit=2, each starting where the previous one ended, hold at most two results each; together,
    each match exactly once."""
    wanted = matches(qido_depth_corpus, route, qido_match_rules)
    seen: list[str] = []
    offset = 0
    for _ in range(len(wanted) + 1):
        # A server may cap a page below the limit (maxResults), so the next offset is where this page ended.
        found, response = page(client, qido_depth_corpus, route, ("limit", str(PAGE)), ("offset", str(offset)))
        if len(found) > PAGE:
            raise fail(
                f"{route.name}: page at offset {offset} exceeds limit={PAGE}",
                expected=f"at most {PAGE} results",
                actual=found,
                response=response,
            )
        if not found:
            break
        seen += found
        offset += len(found)
    if sorted(seen) != sorted(wanted):
        raise fail(
            f"{route.name}: the pages of limit={PAGE} do not add up to the matches",
            expected=f"each of {sorted(wanted)} once",
            actual=f"pages gave {seen}",
            response=response,
        )


@pytest.mark.req("DW-QIDO-151")
@pytest.mark.parametrize("route", [STUDIES_ROUTE, INSTANCES_ROUTE], ids=lambda r: r.name)
def test_limit(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, route: Route
) -> None:
    """limit=3 with five or more matches answers min(3, the server's cap) distinct matches."""
    wanted = matches(qido_depth_corpus, route, qido_match_rules)
    expected = min(3, len(unpaged(client, qido_depth_corpus, route, wanted)))
    found, response = page(client, qido_depth_corpus, route, ("limit", "3"))
    if len(found) != expected or len(set(found)) != expected or not set(found) <= wanted:
        raise fail(
            f"{route.name}: limit=3", expected=f"{expected} of {sorted(wanted)}", actual=found, response=response
        )


@pytest.mark.req("DW-QIDO-152")
def test_offset_without_limit(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules
) -> None:
    """offset=2 answers all the matches but two (or as many as the server's cap allows), none twice."""
    wanted = matches(qido_depth_corpus, SERIES_ROUTE, qido_match_rules)
    cap = len(unpaged(client, qido_depth_corpus, SERIES_ROUTE, wanted))
    found, response = page(client, qido_depth_corpus, SERIES_ROUTE, ("offset", "2"))
    count = min(len(wanted) - 2, cap)
    if len(found) != count or len(set(found)) != len(found) or not set(found) <= wanted:
        raise fail("series: offset=2", expected=f"{count} of {sorted(wanted)}", actual=found, response=response)


@pytest.mark.req("DW-QIDO-153")
@pytest.mark.parametrize("route", [STUDIES_ROUTE, SERIES_ROUTE, INSTANCES_ROUTE], ids=lambda r: r.name)
def test_offset_past_the_end(client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route) -> None:
    """An offset past the last match answers 204 No Content, while offset 0 finds the matches."""
    # Positive control: the same search at offset=0 finds results, so the empty page is the offset's doing.
    control, response = page(client, qido_depth_corpus, route, ("offset", "0"))
    if not control:
        raise fail(f"{route.name}: offset=0 finds nothing", expected="the matches", actual=[], response=response)
    query = scope_query(qido_depth_corpus, route, ("offset", "100"))
    check_no_content(search(client, route.path(qido_depth_corpus), query), describe(route, query))


@pytest.mark.req("DW-QIDO-154")
@pytest.mark.parametrize("route", [STUDIES_ROUTE, INSTANCES_ROUTE], ids=lambda r: r.name)
def test_warning_when_results_remain(client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route) -> None:
    """A search cut by limit=2 says in a Warning 299 header that additional results can be requested."""
    query = scope_query(qido_depth_corpus, route, ("limit", str(PAGE)))
    response = search(client, route.path(qido_depth_corpus), query)
    results_of(response, describe(route, query))
    if not has_warning_299(response, "additional results"):
        raise fail(
            f"{describe(route, query)}: results were cut without a Warning header (PS3.18 8.3.4.4)",
            expected="Warning: 299 {service}: There are N additional results that can be requested",
            actual=warning_headers(response) or "no Warning header",
            response=response,
        )


def nothing_matches(corpus: QidoCorpus, route: Route) -> list[tuple[str, str]]:
    # A fresh UID names no stored entity.
    return scoped(corpus, route, [(LEVEL_KEY[route.level], new_uid())])


# Entities under the focus study A and series A1, so that every route's path holds them.
CONTROL_ENTITY = {STUDIES_ROUTE.level: "A", SERIES_ROUTE.level: "A1", INSTANCES_ROUTE.level: "A1-1"}


@pytest.mark.req("DW-QIDO-155")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_no_match_is_no_content(client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route) -> None:
    """A search that matches nothing answers 204 No Content with no body, while a stored UID is found."""
    # Positive control: the same search with the UID of a stored entity (under the route's path) finds it.
    uid = qido_depth_corpus.uid(CONTROL_ENTITY[route.level])
    found, response = page(client, qido_depth_corpus, route, (LEVEL_KEY[route.level], uid))
    if found != [uid]:
        raise fail(f"{route.name}: a stored UID", expected=[uid], actual=found, response=response)
    query = nothing_matches(qido_depth_corpus, route)
    check_no_content(search(client, route.path(qido_depth_corpus), query), describe(route, query))
