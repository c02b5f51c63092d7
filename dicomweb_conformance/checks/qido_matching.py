"""The one QIDO-RS matching model: what a search must answer, computed locally, never written down.

Matching follows PS3.4 C.2.2.2 (single value, list of UIDs, universal, wildcard, range) as PS3.18 8.3.4.1
uses it; MatchRules says which of those a profile promises and how it folds case and accents, and
MATCHING_ATTRIBUTES which attributes it matches on. Two corpora are judged by it: the depth corpus
(corpora/qido_depth_corpus.py, through expected_results: the kind of matching read from the query value, as a
server reads it) and the property checks' planned corpus (corpora/qido_corpus.py, through expected_matches: the
kind given by the generated query, in the strictest and the most lenient reading the profile permits).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from dicomweb_conformance.corpora.qido_corpus import RANGE, UID_LIST, WILDCARD, Query, planned
from dicomweb_conformance.corpora.qido_depth_corpus import ATTRIBUTE_LEVEL, Attributes, QidoCorpus
from dicomweb_conformance.dicom.levels import INSTANCE, RESOURCE, RESOURCES, SERIES, STUDY

# PS3.4 C.2.2.2.4: wildcards apply to these VRs only (not to dates, times, numbers or UIDs).
WILDCARD_VRS = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
# PS3.4 C.2.2.2.5: range matching applies to dates, times and date-times.
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
PROFILE_RULES = {"standard": STANDARD_RULES, "azure": AZURE_RULES}


def attribute_vr(keyword: str) -> str:
    """The VR of a public attribute, by keyword, in the PS3.6 dictionary."""
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


# Folds applied before comparing strings. PS3.4 C.2.2.2.1: matching is case-sensitive except for PN, where an
# application may be insensitive to case, accents and other variants.
def exact(text: str) -> str:
    return text


def fold_case(text: str) -> str:
    return text.casefold()


def fold_case_and_accents(text: str) -> str:
    return strip_accents(text).casefold()


def fold_for(*, case: bool, accents: bool) -> Callable[[str], str]:
    """The fold of a reading that is insensitive to case, to accents, to both or to neither."""
    if case:
        return fold_case_and_accents if accents else fold_case
    return strip_accents if accents else exact


def _fold(text: str, *, case: bool, accents: bool) -> str:
    return fold_for(case=case, accents=accents)(text)


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
    vr = attribute_vr(keyword)
    if vr in RANGE_VRS and "-" in query:
        return in_range(query, stored)
    if vr == "UI" and "," in query and rules.uid_lists:
        # PS3.18 8.3.4.1 uid-list-match: a comma separated list matches any of its UIDs (PS3.4 C.2.2.2.2).
        return stored in query.split(",")
    case = rules.pn_fold_case if vr == "PN" else rules.text_fold_case and vr in WILDCARD_VRS
    accents = rules.pn_fold_accents and vr == "PN"
    query_text = _fold(query, case=case, accents=accents)
    stored_text = _fold(stored, case=case, accents=accents)
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
        resource = RESOURCE[self.level]
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


# --- the attributes each profile matches on --------------------------------------------------------------------------

# PS3.18 10.6.1.2 Table 10.6.1-5: the attributes an origin server shall match on, by level; /series and /instances
# also match the levels above. The Azure DICOM service documents its own set (reference 1.3, "Searchable attributes").
_STANDARD_STUDY = "StudyDate StudyTime AccessionNumber ReferringPhysicianName PatientName StudyInstanceUID StudyID"
_STANDARD_SERIES = (
    "Modality SeriesInstanceUID SeriesNumber PerformedProcedureStepStartDate PerformedProcedureStepStartTime"
)
_AZURE_STUDY = "StudyInstanceUID PatientName AccessionNumber ReferringPhysicianName StudyDate StudyDescription"
_AZURE_SERIES = "SeriesInstanceUID Modality PerformedProcedureStepStartDate ManufacturerModelName"


def _levels(study: str, series: str, instance: str) -> dict[str, tuple[str, ...]]:
    # ModalitiesInStudy is computed per study: a matching key of the study level only.
    return {
        RESOURCE[STUDY]: (*study.split(), "ModalitiesInStudy"),
        RESOURCE[SERIES]: tuple(f"{study} {series}".split()),
        RESOURCE[INSTANCE]: tuple(f"{study} {series} {instance}".split()),
    }


# By profile, then by search resource.
MATCHING_ATTRIBUTES = {
    "standard": _levels(_STANDARD_STUDY, _STANDARD_SERIES, "SOPClassUID SOPInstanceUID InstanceNumber"),
    "azure": _levels(_AZURE_STUDY, _AZURE_SERIES, "SOPInstanceUID"),
}
# The matching attributes of either profile, by search resource: what the generated queries are drawn from.
ALL_LEVEL_ATTRIBUTES = {
    level: tuple(sorted(set(MATCHING_ATTRIBUTES["standard"][level]) | set(MATCHING_ATTRIBUTES["azure"][level])))
    for level in RESOURCES
}


def searchable(profile: str, query: Query) -> bool:
    """The profile's rule: a search uses only attributes the profile matches on, and only the kinds of matching
    its MatchRules promise (the Azure profile has no wild card and no UID list matching, reference 1.3)."""
    rules = PROFILE_RULES[profile]
    if (query.kind == WILDCARD and not rules.wildcards) or (query.kind == UID_LIST and not rules.uid_lists):
        return False
    return query.keyword in MATCHING_ATTRIBUTES[profile][query.level]


# --- the planned corpus of the property checks: its strictest and its most lenient reading ----------------------------


@dataclass(frozen=True)
class MatchingRules:
    """The strictest and the most lenient reading a profile permits, for PN and for other strings."""

    pn_strict: Callable[[str], str]
    pn_lenient: Callable[[str], str]
    text_strict: Callable[[str], str]
    text_lenient: Callable[[str], str]


def readings(rules: MatchRules) -> MatchingRules:
    """The strictest reading is the profile's own (MatchRules); PS3.4 C.2.2.2.1 lets any reading of PN fold case
    and accents, so that is the most lenient. Standard: PN exact to folded, other strings exact. Azure (reference
    1.3, "Matching"): PN case- and accent-insensitive, other strings case-insensitive."""
    text = fold_for(case=rules.text_fold_case, accents=False)
    pn_strict = fold_for(case=rules.pn_fold_case, accents=rules.pn_fold_accents)
    return MatchingRules(pn_strict, fold_case_and_accents, text, text)


MATCHING_RULES = {profile: readings(rules) for profile, rules in PROFILE_RULES.items()}


@dataclass(frozen=True)
class Expectation:
    """Labels of the entities that must match (strictest permitted reading) and that may match (most lenient)."""

    must: frozenset[str]
    may: frozenset[str]


def expected_matches(query: Query, rules: MatchingRules) -> Expectation:
    person_name = attribute_vr(query.keyword) == "PN"
    strict = rules.pn_strict if person_name else rules.text_strict
    lenient = rules.pn_lenient if person_name else rules.text_lenient
    entities = planned(query.level)
    return Expectation(
        must=frozenset(e.label for e in entities if query_matches(query, e.values.get(query.keyword, ()), strict)),
        may=frozenset(e.label for e in entities if query_matches(query, e.values.get(query.keyword, ()), lenient)),
    )


def query_matches(query: Query, values: Sequence[str], fold: Callable[[str], str]) -> bool:
    """PS3.4 C.2.2.2: a planned entity matches a generated query when one of its values matches the key."""
    if query.kind == UID_LIST:
        # C.2.2.2.2: each UID of the list is matched exactly.
        return any(v in query.value.split(",") for v in values)
    if query.kind == RANGE:
        return any(in_range(query.value, v) for v in values)
    if query.kind == WILDCARD:
        return any(wildcard_matches(query.value, v, fold) for v in values)
    return any(v and fold(v) == fold(query.value) for v in values)
