"""A local QIDO-RS matcher: what a search over the corpus must answer, computed from the stored datasets.

Matching follows PS3.4 C.2.2.2 (single value, list of UIDs, universal, wildcard, range) as PS3.18 8.3.4.1
uses it; MatchRules says which of those a profile promises and how it folds case and accents.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from dicomweb_conformance.corpora.qido import (
    ATTRIBUTE_LEVEL,
    INSTANCE,
    SERIES,
    STUDY,
    Attributes,
    QidoCorpus,
)

# PS3.4 C.2.2.2.4: wildcards apply to these VRs only (not to dates, times, numbers or UIDs).
WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
RANGE_VRS = frozenset({"DA", "TM", "DT"})
# Query parameters that are not attribute matching keys (PS3.18 8.3.4.2 - 8.3.4.4).
CONTROL_PARAMETERS = frozenset({"includefield", "fuzzymatching", "limit", "offset"})
_TAG_PATTERN = re.compile(r"^[0-9A-Fa-f]{8}$")


@dataclass(frozen=True)
class MatchRules:
    """How a profile matches. PS3.4 C.2.2.2.1: single values match exactly and case-sensitively.

    For PN, C.2.2.2.1 also lets a server fold case and accents. The standard profile's checks
    therefore only query person names in their stored case and accents, where both readings give
    the same answer; a check that needs the difference belongs to a profile that promises one.
    """

    wildcards: bool = True
    uid_lists: bool = True
    pn_fold_case: bool = False
    pn_fold_accents: bool = False
    text_fold_case: bool = False


STANDARD_RULES = MatchRules()
# Reference 1.3 (Azure DICOM service): no wildcard and no UID list; PN case- and accent-insensitive,
# other strings case-insensitive and accent-sensitive.
AZURE_RULES = MatchRules(wildcards=False, uid_lists=False, pn_fold_case=True, pn_fold_accents=True, text_fold_case=True)


def vr_of(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(f"unknown DICOM keyword {keyword!r}")
    return str(dictionary_VR(tag))


def keyword_of(attribute: str) -> str:
    """A query key is a keyword or a tag (PS3.18 8.3.4.1 {attributeID}); return the keyword."""
    if _TAG_PATTERN.match(attribute):
        return str(keyword_for_tag(int(attribute, 16)))
    return attribute


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _fold(text: str, *, case: bool, accents: bool) -> str:
    if accents:
        text = strip_accents(text)
    return text.casefold() if case else text


def wildcard_matches(pattern: str, value: str, fold: Callable[[str], str] = str) -> bool:
    """PS3.4 C.2.2.2.4: "*" matches any sequence of characters (including none), "?" any single character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in fold(pattern))
    return re.fullmatch(regex, fold(value), flags=re.DOTALL) is not None


def in_range(key: str, value: str) -> bool:
    """PS3.4 C.2.2.2.5: "a-b" inclusive, "-b" up to and including b, "a-" from a on. An empty value lies in no
    range."""
    low, _, high = key.partition("-")
    return bool(value) and (not low or low <= value) and (not high or value <= high)


def value_matches(keyword: str, query: str, stored: str, rules: MatchRules) -> bool:
    """Does one stored value match one query value (PS3.4 C.2.2.2)?"""
    vr = vr_of(keyword)
    if vr in RANGE_VRS and "-" in query:
        return in_range(query, stored)
    if vr == "UI" and "," in query and rules.uid_lists:
        # PS3.18 8.3.4.1 uid-list-match: a comma separated list matches any of its UIDs (PS3.4 C.2.2.2.2).
        return stored in query.split(",")
    fold_case = rules.pn_fold_case if vr == "PN" else rules.text_fold_case and vr in WILDCARD_VRS
    fold_accents = rules.pn_fold_accents and vr == "PN"
    query_text = _fold(query, case=fold_case, accents=fold_accents)
    stored_text = _fold(stored, case=fold_case, accents=fold_accents)
    if rules.wildcards and vr in WILDCARD_VRS and ("*" in query or "?" in query):
        return wildcard_matches(query_text, stored_text)
    if vr in ("IS", "DS", "US", "UL", "SS", "SL"):
        return _number(query) == _number(stored)
    return query_text == stored_text


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def entity_matches(attributes: Attributes, keyword: str, query: str, rules: MatchRules) -> bool:
    # PS3.4 C.2.2.2.3: an empty value matches everything.
    if query == "":
        return True
    # A multi-valued attribute (ModalitiesInStudy) matches when any of its values does.
    return any(value_matches(keyword, query, stored, rules) for stored in attributes.get(keyword, ()))


@dataclass(frozen=True)
class Route:
    """One QIDO-RS search resource of PS3.18 10.6.1 Table 10.6.1-2."""

    name: str
    level: str
    # The levels whose attributes may be matching keys here (PS3.18 10.6.1.2, Table 10.6.1-4).
    key_levels: tuple[str, ...]
    under_study: bool = False
    under_series: bool = False

    @property
    def scoped_by_path(self) -> bool:
        return self.under_study

    def path(self, corpus: QidoCorpus) -> str:
        resource = {STUDY: "studies", SERIES: "series", INSTANCE: "instances"}[self.level]
        if self.under_series:
            return f"studies/{corpus.focus_study()}/series/{corpus.focus_series()}/{resource}"
        if self.under_study:
            return f"studies/{corpus.focus_study()}/{resource}"
        return resource

    def path_constraints(self, corpus: QidoCorpus) -> list[tuple[str, str]]:
        found = []
        if self.under_study:
            found.append(("StudyInstanceUID", corpus.focus_study()))
        if self.under_series:
            found.append(("SeriesInstanceUID", corpus.focus_series()))
        return found

    def accepts(self, keyword: str) -> bool:
        return ATTRIBUTE_LEVEL[keyword] in self.key_levels


STUDIES_ROUTE = Route("studies", STUDY, (STUDY,))
SERIES_ROUTE = Route("series", SERIES, (STUDY, SERIES))
STUDY_SERIES_ROUTE = Route("study-series", SERIES, (SERIES,), under_study=True)
INSTANCES_ROUTE = Route("instances", INSTANCE, (STUDY, SERIES, INSTANCE))
STUDY_INSTANCES_ROUTE = Route("study-instances", INSTANCE, (SERIES, INSTANCE), under_study=True)
SERIES_INSTANCES_ROUTE = Route("series-instances", INSTANCE, (INSTANCE,), under_study=True, under_series=True)
ROUTES = (
    STUDIES_ROUTE,
    SERIES_ROUTE,
    STUDY_SERIES_ROUTE,
    INSTANCES_ROUTE,
    STUDY_INSTANCES_ROUTE,
    SERIES_INSTANCES_ROUTE,
)


def expected_results(
    corpus: QidoCorpus, route: Route, query: Sequence[tuple[str, str]], rules: MatchRules = STANDARD_RULES
) -> set[str]:
    """The UIDs (of the route's level) of the corpus entities the query must find."""
    keys = [(keyword_of(k), v) for k, v in (*route.path_constraints(corpus), *query) if k not in CONTROL_PARAMETERS]
    return {
        uid
        for uid, attributes in corpus.entities(route.level).items()
        if all(entity_matches(attributes, keyword, value, rules) for keyword, value in keys)
    }
