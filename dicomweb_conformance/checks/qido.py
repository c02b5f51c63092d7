"""QIDO-RS requests and checks: exact query encoding, result sets, empty answers, returned attributes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests

from dicomweb_conformance.checks.common import dicom_json_array, expect_media_type, expect_status, fail
from dicomweb_conformance.checks.qido_matching import MatchRules, Route, expected_results, keyword_of
from dicomweb_conformance.corpora.qido_depth_corpus import SCOPE_KEY, Attributes, QidoCorpus
from dicomweb_conformance.dicom.dicomjson import DatasetJson, first, key
from dicomweb_conformance.dicom.levels import INSTANCE, LEVEL_KEY, SERIES
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON

Query = Sequence[tuple[str, str]]

# RFC 3986 3.4: "*", "," and "?" may appear unencoded in a query; "^", space and non-ASCII may not.
# Wildcards and UID lists are sent as written, so that only the checks about percent-encoding depend on it.
QUERY_SAFE = "*,?-._~"


def encode_query(query: Query, *, safe: str = QUERY_SAFE) -> str:
    """The query string with each key and value percent-encoded as UTF-8 (RFC 3986 2.1, 2.5)."""
    return "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" for k, v in query)


def search(
    client: DicomwebClient, path: str, query: Query = (), *, raw: str | None = None, timeout: float | None = None
) -> requests.Response:
    """GET a search resource; `raw` is a query string sent exactly as given (already percent-encoded)."""
    params = raw if raw is not None else encode_query(query)
    return client.get(path, accept=DICOM_JSON, params=params or None, timeout=timeout)


def results_of(response: requests.Response, what: str) -> list[DatasetJson]:
    """The datasets of a successful search: 200 with a DICOM JSON array, or 204 with no body (no match)."""
    if response.status_code == 204:
        return []
    expect_status(response, 200, what)
    expect_media_type(response, DICOM_JSON, what)
    return dicom_json_array(response, what)


def uids_of(results: Iterable[DatasetJson], keyword: str) -> list[str]:
    return sorted(str(first(result, keyword)) for result in results)


def check_finds(response: requests.Response, keyword: str, expected: Iterable[str], what: str) -> None:
    """200 application/dicom+json with exactly the expected entities, each once."""
    wanted = sorted(set(expected))
    if not wanted:
        raise ValueError(f"{what}: the corpus gives this search no match; a search check needs at least one")
    expect_status(response, 200, what)
    found = uids_of(results_of(response, what), keyword)
    if found != wanted:
        raise fail(f"{what}: wrong results", expected=wanted, actual=found, response=response)


def check_search_finds_exactly(response: requests.Response, keyword: str, expected: Iterable[str], what: str) -> None:
    """200 application/dicom+json whose results carry exactly the expected values of `keyword`."""
    expect_status(response, 200, what)
    expect_media_type(response, DICOM_JSON, what)
    results = dicom_json_array(response, what)
    found = uids_of(results, keyword)
    wanted = sorted(set(expected))
    if found != wanted:
        raise fail(f"{what}: wrong results for {keyword}", expected=wanted, actual=found, response=response)


def check_no_content(response: requests.Response, what: str) -> None:
    """PS3.18 8.3.4.4.1: a search with no result answers 204 No Content with an empty payload."""
    if response.status_code != 204 or response.content:
        shown = f"{response.status_code} {response.content[:120]!r}"
        raise fail(
            f"{what}: no match must answer 204 with no body", expected="204, empty", actual=shown, response=response
        )


def check_status_in(response: requests.Response, allowed: Sequence[int], what: str) -> None:
    if response.status_code not in allowed:
        shown = f"{response.status_code} {response.text[:200]!r}"
        raise fail(f"{what}: wrong status", expected=" or ".join(map(str, allowed)), actual=shown, response=response)


def element(dataset: DatasetJson, keyword: str) -> dict[str, Any] | None:
    found = dataset.get(key(keyword))
    return found if isinstance(found, dict) else None


def json_values(dataset: DatasetJson, keyword: str) -> list[str]:
    """The values of an attribute as strings: PN as its Alphabetic group, numbers without a trailing .0."""
    found = element(dataset, keyword)
    values = found.get("Value", []) if found else []
    return [_as_text(value) for value in values if value is not None] if isinstance(values, list) else []


def _as_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("Alphabetic", ""))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def warning_headers(response: requests.Response) -> list[str]:
    """Every Warning field value (RFC 9111 5.5); requests joins repeated fields with ', '."""
    raw = response.raw.headers.getlist("Warning") if response.raw is not None else []
    return list(raw) or ([response.headers["Warning"]] if "Warning" in response.headers else [])


def has_warning_299(response: requests.Response, text: str) -> bool:
    """A Warning field '299 {service}: <text>' (RFC 7234 5.5, as PS3.18 uses it); text compared case-insensitively."""
    return any(
        value.strip().startswith("299 ") and text.lower() in value.lower() for value in warning_headers(response)
    )


def scoped(corpus: QidoCorpus, route: Route, query: Query) -> list[tuple[str, str]]:
    """Confine an all-studies search to studies A-E of this corpus; a path under a study needs no scope, and a
    search on the scope's own key is confined by its value (which carries the corpus nonce)."""
    if route.scoped_by_path or any(keyword_of(k) == SCOPE_KEY for k, _ in query):
        return list(query)
    return [corpus.scope, *query]


def describe(route: Route, query: Query) -> str:
    return f"GET {route.name} ?{encode_query(query)}"


def check_search_matches_corpus(
    client: DicomwebClient,
    corpus: QidoCorpus,
    route: Route,
    query: Query,
    rules: MatchRules,
    *,
    discriminating: bool = True,
) -> None:
    """The search answers exactly the corpus entities the local matcher selects.

    With `discriminating`, those must be a proper subset of the search's scope, so that a server ignoring
    the matching key cannot pass.
    """
    expected = expected_results(corpus, route, query, rules)
    scope = [(k, v) for k, v in query if (k, v) == corpus.scope]
    if discriminating and expected == expected_results(corpus, route, scope, rules):
        raise ValueError(f"{describe(route, query)}: selects its whole scope; the corpus cannot tell the key ignored")
    response = search(client, route.path(corpus), query)
    check_finds(response, LEVEL_KEY[route.level], expected, describe(route, query))


# Attributes whose values form a set (the modalities of a study's series): no order is defined for them.
UNORDERED = frozenset({"ModalitiesInStudy"})


def retrieve_path(level: str, attributes: Attributes) -> str:
    """The path a RetrieveURL of this entity ends with (PS3.18 10.4.1 resources)."""
    path = f"/studies/{attributes['StudyInstanceUID'][0]}"
    if level in (SERIES, INSTANCE):
        path += f"/series/{attributes['SeriesInstanceUID'][0]}"
    if level == INSTANCE:
        path += f"/instances/{attributes['SOPInstanceUID'][0]}"
    return path


def attribute_problem(dataset: DatasetJson, keyword: str, level: str, stored: Attributes) -> str | None:
    """Why `keyword` in a result does not carry the entity's stored (or computed) value; None if it does."""
    found = json_values(dataset, keyword)
    if keyword == "RetrieveURL":
        wanted = retrieve_path(level, stored)
        ok = len(found) == 1 and found[0].startswith(("http://", "https://")) and found[0].endswith(wanted)
        return None if ok else f"RetrieveURL {found} does not end with {wanted}"
    expected = list(stored.get(keyword, ()))
    if not expected:
        raise ValueError(f"the corpus holds no {keyword} for this entity")
    if keyword in UNORDERED:
        found, expected = sorted(found), sorted(expected)
    return None if found == expected else f"{keyword} is {found or 'absent'}, stored {expected}"


def check_returned_values(
    response: requests.Response, corpus: QidoCorpus, route: Route, uids: Iterable[str], keywords: Iterable[str]
) -> None:
    """Exactly the entities `uids` come back, each carrying `keywords` with the stored or computed values."""
    what = f"GET {route.name}"
    wanted = sorted(uids)
    results = results_of(response, what)
    by_uid = {str(first(result, LEVEL_KEY[route.level])): result for result in results}
    if sorted(by_uid) != wanted or len(results) != len(wanted):
        raise fail(
            f"{what}: wrong results",
            expected=wanted,
            actual=uids_of(results, LEVEL_KEY[route.level]),
            response=response,
        )
    entities = corpus.entities(route.level)
    problems = [
        problem
        for uid in wanted
        for keyword in keywords
        if (problem := attribute_problem(by_uid[uid], keyword, route.level, entities[uid])) is not None
    ]
    if problems:
        raise fail(
            f"{what}: results lack attributes or values", expected=sorted(keywords), actual=problems, response=response
        )


def check_lacks(response: requests.Response, keywords: Iterable[str], what: str) -> None:
    """A successful search whose results carry none of `keywords`."""
    expect_status(response, 200, what)
    results = results_of(response, what)
    if not results:
        raise fail(f"{what}: the stored entity was not found", expected="one result", actual="none", response=response)
    present = sorted({k for result in results for k in keywords if element(result, k) is not None})
    if present:
        raise fail(
            f"{what}: results carry attributes of a lower level",
            expected="none of them",
            actual=present,
            response=response,
        )


# --- a search case of the depth checks: a query on the corpus, and what the matcher says it must find ---------

QueryBuilder = Callable[[QidoCorpus], list[tuple[str, str]]]


@dataclass(frozen=True)
class Case:
    route: Route
    build: QueryBuilder
    discriminating: bool = True

    def query(self, corpus: QidoCorpus) -> list[tuple[str, str]]:
        return scoped(corpus, self.route, self.build(corpus))


def case(name: str, route: Route, build: QueryBuilder, *, discriminating: bool = True) -> object:
    return pytest.param(Case(route, build, discriminating), id=name)


def run_case(client: DicomwebClient, corpus: QidoCorpus, rules: MatchRules, search_case: Case) -> None:
    query = search_case.query(corpus)
    check_search_matches_corpus(
        client, corpus, search_case.route, query, rules, discriminating=search_case.discriminating
    )
