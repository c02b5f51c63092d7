"""QIDO-RS searchable attributes: every matching key the profile claims, by keyword and by tag, at each resource.

Each case searches for one stored value and must answer exactly the corpus entities that hold it, computed
by dicomweb_conformance.checks.qido_matching; the value always selects a proper subset of the search's scope.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dicomweb_conformance.checks.qido import check_search_matches_corpus, scoped
from dicomweb_conformance.checks.qido_matching import ROUTES, MatchRules, Route
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.dicom.dicomjson import key
from dicomweb_conformance.transport.client import DicomwebClient

# (keyword, the corpus entity whose value is searched for)
AttributeCase = tuple[str, str]

COMMON_STUDY_KEYS: list[AttributeCase] = [
    ("StudyInstanceUID", "A"),
    ("PatientName", "E"),  # a single-component name: no character that needs percent-encoding
    ("PatientID", "B"),  # every study of the corpus has a patient of its own
    ("AccessionNumber", "F"),  # the scope's own key: F's value selects one study of the six
    ("ReferringPhysicianName", "B"),
    ("StudyDate", "A"),
    ("ModalitiesInStudy", "A"),
]
STANDARD_STUDY_KEYS: list[AttributeCase] = [("StudyTime", "B"), ("StudyID", "C")]
COMMON_SERIES_KEYS: list[AttributeCase] = [
    ("SeriesInstanceUID", "A1"),
    ("Modality", "A1"),
    ("PerformedProcedureStepStartDate", "A1"),
]
STANDARD_SERIES_KEYS: list[AttributeCase] = [("SeriesNumber", "A1"), ("PerformedProcedureStepStartTime", "A1")]
COMMON_INSTANCE_KEYS: list[AttributeCase] = [("SOPInstanceUID", "A1-2")]
STANDARD_INSTANCE_KEYS: list[AttributeCase] = [("SOPClassUID", "A1-2"), ("InstanceNumber", "A1-2")]
AZURE_STUDY_KEYS: list[AttributeCase] = [("StudyDescription", "B"), ("PatientBirthDate", "B")]
AZURE_SERIES_KEYS: list[AttributeCase] = [("ManufacturerModelName", "A1")]

FORMS = ("keyword", "tag")


def cases(attributes: Sequence[AttributeCase]) -> list[object]:
    """Every (attribute, resource, form) where the resource takes the attribute's level as a matching key."""
    return [
        pytest.param(keyword, source, route, form, id=f"{keyword}-{route.name}-{form}")
        for keyword, source in attributes
        for route in ROUTES
        if route.accepts(keyword)
        for form in FORMS
    ]


def check_attribute(
    client: DicomwebClient,
    corpus: QidoCorpus,
    rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    # PS3.18 8.3.4.1: {attributeID} is a keyword or the tag as eight hexadecimal digits.
    attribute = keyword if form == "keyword" else key(keyword)
    query = scoped(corpus, route, [(attribute, corpus.value(source, keyword))])
    check_search_matches_corpus(client, corpus, route, query, rules)


PARAMETERS = ("keyword", "source", "route", "form")


@pytest.mark.req("DW-QIDO-100")
@pytest.mark.parametrize(PARAMETERS, cases(COMMON_STUDY_KEYS))
def test_study_matching_key(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """A study matching key both profiles claim selects exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("DW-QIDO-101")
@pytest.mark.parametrize(PARAMETERS, cases(STANDARD_STUDY_KEYS))
def test_study_matching_key_of_the_standard(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """StudyTime and StudyID select exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("DW-QIDO-102")
@pytest.mark.parametrize(PARAMETERS, cases(COMMON_SERIES_KEYS))
def test_series_matching_key(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """A series matching key both profiles claim selects exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("DW-QIDO-103")
@pytest.mark.parametrize(PARAMETERS, cases(STANDARD_SERIES_KEYS))
def test_series_matching_key_of_the_standard(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """SeriesNumber and PerformedProcedureStepStartTime select exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("DW-QIDO-104")
@pytest.mark.parametrize(PARAMETERS, cases(COMMON_INSTANCE_KEYS))
def test_instance_matching_key(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """SOPInstanceUID selects exactly that instance at every instance search resource."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("DW-QIDO-105")
@pytest.mark.parametrize(PARAMETERS, cases(STANDARD_INSTANCE_KEYS))
def test_instance_matching_key_of_the_standard(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """SOPClassUID and InstanceNumber select exactly the instances holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("AZ-QIDO-100")
@pytest.mark.parametrize(PARAMETERS, cases(AZURE_STUDY_KEYS))
def test_azure_study_matching_key(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """StudyDescription and PatientBirthDate, which Azure indexes, select exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)


@pytest.mark.req("AZ-QIDO-101")
@pytest.mark.parametrize(PARAMETERS, cases(AZURE_SERIES_KEYS))
def test_azure_series_matching_key(
    client: DicomwebClient,
    qido_depth_corpus: QidoCorpus,
    qido_match_rules: MatchRules,
    keyword: str,
    source: str,
    route: Route,
    form: str,
) -> None:
    """ManufacturerModelName, which Azure indexes, selects exactly the entities holding the value."""
    check_attribute(client, qido_depth_corpus, qido_match_rules, keyword, source, route, form)
