"""QIDO-RS paging (limit, offset, the additional-results Warning) and searches with no result (PS3.18 8.3.4.4).

The corpus scope holds 5 studies, 7 series and 9 instances: odd counts, so a walk with limit=2 ends on a
short page.
"""

from __future__ import annotations

import pytest
import requests

from fixtures.checks import fail
from fixtures.client import DicomwebClient
from fixtures.qido_checks import (
    check_no_content,
    describe,
    has_warning_299,
    results_of,
    scoped,
    search,
    uids_of,
    warning_headers,
)
from fixtures.qido_corpus import LEVEL_KEY, QidoCorpus
from fixtures.qido_matching import (
    INSTANCES_ROUTE,
    ROUTES,
    SERIES_ROUTE,
    STUDIES_ROUTE,
    STUDY_INSTANCES_ROUTE,
    MatchRules,
    Route,
    expected_results,
)
from fixtures.uids import new_uid

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


@pytest.mark.req("DW-QIDO-150")
@pytest.mark.parametrize("route", WALK_ROUTES, ids=lambda r: r.name)
def test_walk_pages(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, route: Route
) -> None:
    """Pages of limit=2 at offsets 0, 2, 4 ... hold at most two results each; together, each match exactly once."""
    wanted = matches(qido_depth_corpus, route, qido_match_rules)
    seen: list[str] = []
    for offset in range(0, len(wanted) + PAGE, PAGE):
        # The walk ends on the first short page; a server that keeps answering full pages is caught below.
        found, response = page(client, qido_depth_corpus, route, ("limit", str(PAGE)), ("offset", str(offset)))
        if len(found) > PAGE:
            raise fail(
                f"{route.name}: page at offset {offset} exceeds limit={PAGE}",
                expected=f"at most {PAGE} results",
                actual=found,
                response=response,
            )
        seen += found
        if len(found) < PAGE:
            break
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
    """limit=3 with five or more matches answers exactly three distinct matches, or fewer with the Warning that
    the server's own maximum was reached (PS3.18 8.3.4.4: a server may cap a page below the limit asked for)."""
    wanted = matches(qido_depth_corpus, route, qido_match_rules)
    found, response = page(client, qido_depth_corpus, route, ("limit", "3"))
    capped = 0 < len(found) < 3 and has_warning_299(response, "")
    if not (len(found) == 3 or capped) or len(set(found)) != len(found) or not set(found) <= wanted:
        expected = f"3 of {sorted(wanted)} (fewer only with a Warning 299)"
        raise fail(f"{route.name}: limit=3", expected=expected, actual=found, response=response)


@pytest.mark.req("DW-QIDO-152")
def test_offset_without_limit(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules
) -> None:
    """offset=2 answers all the matches but two, none twice."""
    wanted = matches(qido_depth_corpus, SERIES_ROUTE, qido_match_rules)
    found, response = page(client, qido_depth_corpus, SERIES_ROUTE, ("offset", "2"))
    if len(found) != len(wanted) - 2 or len(set(found)) != len(found) or not set(found) <= wanted:
        expected = f"{len(wanted) - 2} of {sorted(wanted)}"
        raise fail("series: offset=2", expected=expected, actual=found, response=response)


@pytest.mark.req("DW-QIDO-153")
@pytest.mark.parametrize("route", [STUDIES_ROUTE, SERIES_ROUTE, INSTANCES_ROUTE], ids=lambda r: r.name)
def test_offset_past_the_end(client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route) -> None:
    """An offset past the last match answers 204 No Content."""
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


@pytest.mark.req("DW-QIDO-155")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_no_match_is_no_content(client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route) -> None:
    """A search that matches nothing answers 204 No Content with no body."""
    query = nothing_matches(qido_depth_corpus, route)
    check_no_content(search(client, route.path(qido_depth_corpus), query), describe(route, query))
