"""QIDO-RS returned attributes: includefield (repeated, comma list, all, keyword or tag), the level rule, and
the attributes each level must return (PS3.18 8.3.4.3, 10.6.3.3).

Every case searches for one corpus entity by its UID and compares the returned values with the stored ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.qido import (
    attribute_problem,
    check_lacks,
    check_returned_values,
    describe,
    element,
    results_of,
    scoped,
    search,
    uids_of,
)
from dicomweb_conformance.checks.qido_matching import (
    INSTANCES_ROUTE,
    SERIES_INSTANCES_ROUTE,
    SERIES_ROUTE,
    STUDIES_ROUTE,
    STUDY_SERIES_ROUTE,
    Route,
)
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.dicom.dicomjson import DatasetJson, key
from dicomweb_conformance.dicom.levels import LEVEL_KEY
from dicomweb_conformance.transport.client import DicomwebClient

# The entity each level's cases search for: study A, its MR series A1, and A1's multi-frame instance.
ENTITY = {STUDIES_ROUTE.level: "A", SERIES_ROUTE.level: "A1", INSTANCES_ROUTE.level: "A1-2"}
ROUTE_OF = {"study": STUDIES_ROUTE, "series": SERIES_ROUTE, "instance": INSTANCES_ROUTE}


def entity_query(corpus: QidoCorpus, route: Route, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    uid = corpus.uid(ENTITY[route.level])
    return scoped(corpus, route, [(LEVEL_KEY[route.level], uid), *extra])


def check_included(
    client: DicomwebClient, corpus: QidoCorpus, route: Route, keywords: Sequence[str], *extra: tuple[str, str]
) -> None:
    query = entity_query(corpus, route, *extra)
    response = search(client, route.path(corpus), query)
    check_returned_values(response, corpus, route, [corpus.uid(ENTITY[route.level])], keywords)


def attribute_id(keyword: str, form: str) -> str:
    # PS3.18 8.3.4.3: includefield takes a keyword or a tag.
    return keyword if form == "keyword" else key(keyword)


# The routes of the includefield checks: the study search and the searches under the focus study and series,
# so that what is judged is includefield, not whether the all-series and all-instances resources exist.
INCLUDE_ROUTE = {"study": STUDIES_ROUTE, "series": STUDY_SERIES_ROUTE, "instance": SERIES_INSTANCES_ROUTE}
FORMS = ("keyword", "tag")


def entity_result(
    client: DicomwebClient, corpus: QidoCorpus, route: Route, *extra: tuple[str, str]
) -> tuple[DatasetJson, requests.Response]:
    """The one result of a search for the level's corpus entity; any other answer fails the check."""
    query = entity_query(corpus, route, *extra)
    response = search(client, route.path(corpus), query)
    what = describe(route, query)
    results = results_of(response, what)
    wanted = [corpus.uid(ENTITY[route.level])]
    if uids_of(results, LEVEL_KEY[route.level]) != wanted or len(results) != 1:
        found = uids_of(results, LEVEL_KEY[route.level])
        raise fail(f"{what}: wrong results", expected=wanted, actual=found, response=response)
    return results[0], response


def value_problem(corpus: QidoCorpus, route: Route, dataset: DatasetJson, keyword: str) -> str | None:
    stored = corpus.entities(route.level)[corpus.uid(ENTITY[route.level])]
    return attribute_problem(dataset, keyword, route.level, stored)


# Optional keys (PS3.4 C.2.2.1.3: an SCP may or may not support them; PS3.18 10.6.3.3 owes them "if supported by
# the origin server"), outside Orthanc's and Azure v2's default results, stored on the corpus entity of each
# level. An attribute the server returns when includefield names it alone is one it supports; every other
# includefield form must then return it too. One it never returns it does not support, and may leave out.
OPTIONAL = {
    "study": ("PatientAge", "PatientWeight"),
    "series": ("SeriesTime", "SeriesDate"),
    "instance": ("PhotometricInterpretation",),
}


def supported(client: DicomwebClient, corpus: QidoCorpus, route: Route, keywords: Sequence[str]) -> list[str]:
    """Those of `keywords` the server returns when includefield names one alone, by keyword. None at all is a
    server that supports none of these optional keys, which PS3.4 C.2.2.1.3 allows: the other forms then owe
    nothing but the entity itself."""
    return [
        keyword
        for keyword in keywords
        if element(entity_result(client, corpus, route, ("includefield", keyword))[0], keyword) is not None
    ]


def check_form_includes(
    client: DicomwebClient, corpus: QidoCorpus, level: str, extra: Sequence[tuple[str, str]], what: str
) -> None:
    """The includefield form `extra` returns every optional attribute of the level the server supports."""
    route = INCLUDE_ROUTE[level]
    wanted = supported(client, corpus, route, OPTIONAL[level])
    dataset, response = entity_result(client, corpus, route, *extra)
    problems = [p for k in wanted if (p := value_problem(corpus, route, dataset, k)) is not None]
    if problems:
        raise fail(
            f"{what} lacks attributes the server returns when includefield names each alone (PS3.18 10.6.3.3)",
            expected=f"{', '.join(wanted)} with the stored values",
            actual=problems,
            response=response,
        )


def check_keyword_and_tag_agree(client: DicomwebClient, corpus: QidoCorpus, level: str, keyword: str) -> None:
    route = INCLUDE_ROUTE[level]
    answers = {
        form: entity_result(client, corpus, route, ("includefield", attribute_id(keyword, form))) for form in FORMS
    }
    present = [form for form, (dataset, _) in answers.items() if element(dataset, keyword) is not None]
    if not present:
        return  # an optional key the server does not support (PS3.4 C.2.2.1.3): both forms rightly leave it out
    for form, (dataset, response) in answers.items():
        problem = value_problem(corpus, route, dataset, keyword)
        if problem is not None:
            raise fail(
                f"includefield by {form}: {keyword} is returned for includefield by {' and '.join(present)} "
                "(PS3.18 8.3.4.1: an attributeID is a keyword or a tag; 10.6.3.3)",
                expected=f"{keyword} with its stored value",
                actual=problem,
                response=response,
            )


LEVEL_IDS = ["study", "series"]


@pytest.mark.req("DW-QIDO-130")
@pytest.mark.parametrize(("level", "keyword"), [("study", "PatientAge"), ("series", "SeriesTime")], ids=LEVEL_IDS)
def test_includefield_adds_the_attribute(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keyword: str
) -> None:
    """A study or series attribute the server returns for includefield by keyword it returns by tag too, and the
    reverse, with its stored value."""
    check_keyword_and_tag_agree(client, qido_depth_corpus, level, keyword)


@pytest.mark.req("DW-QIDO-131")
def test_includefield_adds_an_instance_attribute(client: DicomwebClient, qido_depth_corpus: QidoCorpus) -> None:
    """PhotometricInterpretation, if returned for includefield by keyword, is returned by tag too, and the reverse."""
    check_keyword_and_tag_agree(client, qido_depth_corpus, "instance", "PhotometricInterpretation")


@pytest.mark.req("AZ-QIDO-120")
@pytest.mark.parametrize("form", ["keyword", "tag"])
def test_azure_includefield_adds_instance_number(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, form: str
) -> None:
    """includefield=InstanceNumber (keyword or tag) adds it to the instance result."""
    keyword = "InstanceNumber"
    check_included(client, qido_depth_corpus, INSTANCES_ROUTE, [keyword], ("includefield", attribute_id(keyword, form)))


@pytest.mark.req("DW-QIDO-132")
@pytest.mark.parametrize("level", ["study", "series"])
def test_repeated_includefield(client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str) -> None:
    """Two includefield parameters, one by keyword and one by tag, add both attributes (those supported)."""
    first, second = OPTIONAL[level]
    extra = [("includefield", first), ("includefield", key(second))]
    check_form_includes(client, qido_depth_corpus, level, extra, f"includefield={first}&includefield={key(second)}")


@pytest.mark.req("DW-QIDO-133")
@pytest.mark.parametrize("level", ["study", "series"])
def test_comma_separated_includefield(client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str) -> None:
    """includefield=a,b adds both attributes (those supported)."""
    listed = ",".join(OPTIONAL[level])
    check_form_includes(client, qido_depth_corpus, level, [("includefield", listed)], f"includefield={listed}")


@pytest.mark.req("DW-QIDO-134")
@pytest.mark.parametrize("level", ["study", "series"])
def test_includefield_all(client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str) -> None:
    """includefield=all adds the stored attributes of the level that the server returns when named alone."""
    check_form_includes(client, qido_depth_corpus, level, [("includefield", "all")], "includefield=all")


@pytest.mark.req("DW-QIDO-135")
def test_includefield_all_on_instances(client: DicomwebClient, qido_depth_corpus: QidoCorpus) -> None:
    """includefield=all on an instance search adds PhotometricInterpretation if includefield=PhotometricInterpretation
    does."""
    check_form_includes(client, qido_depth_corpus, "instance", [("includefield", "all")], "includefield=all")


LOWER_LEVEL_CASES = [
    pytest.param("study", "Modality", id="study-Modality"),
    pytest.param("study", "SeriesTime", id="study-SeriesTime"),
    pytest.param("study", "Rows", id="study-Rows"),
    pytest.param("study", "SOPClassUID", id="study-SOPClassUID"),
    pytest.param("series", "Rows", id="series-Rows"),
    pytest.param("series", "SOPClassUID", id="series-SOPClassUID"),
]


@pytest.mark.req("DW-QIDO-136")
@pytest.mark.parametrize(("level", "keyword"), LOWER_LEVEL_CASES)
def test_no_attribute_of_a_lower_level(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keyword: str
) -> None:
    """A study (series) search returns no series or instance (instance) attribute, even when includefield asks."""
    route = ROUTE_OF[level]
    query = entity_query(qido_depth_corpus, route, ("includefield", keyword))
    response = search(client, route.path(qido_depth_corpus), query)
    check_lacks(response, [keyword], describe(route, query))


STUDY_RESULT_ATTRIBUTES = (
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ModalitiesInStudy",
    "ReferringPhysicianName",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyID",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
    "RetrieveURL",
)
SERIES_RESULT_ATTRIBUTES = (
    "Modality",
    "SeriesDescription",
    "SeriesInstanceUID",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RetrieveURL",
)
INSTANCE_RESULT_ATTRIBUTES = (
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
    "RetrieveURL",
)


@pytest.mark.req("DW-QIDO-137")
@pytest.mark.parametrize("keyword", STUDY_RESULT_ATTRIBUTES)
def test_study_result_attribute(client: DicomwebClient, qido_depth_corpus: QidoCorpus, keyword: str) -> None:
    """A study result carries this Table 10.6.3-3 attribute with the stored or computed value."""
    check_included(client, qido_depth_corpus, STUDIES_ROUTE, [keyword])


@pytest.mark.req("DW-QIDO-138")
@pytest.mark.parametrize("keyword", SERIES_RESULT_ATTRIBUTES)
def test_series_result_attribute(client: DicomwebClient, qido_depth_corpus: QidoCorpus, keyword: str) -> None:
    """A series result carries this Table 10.6.3-4 attribute with the stored or computed value."""
    check_included(client, qido_depth_corpus, SERIES_ROUTE, [keyword])


@pytest.mark.req("DW-QIDO-139")
@pytest.mark.parametrize("keyword", INSTANCE_RESULT_ATTRIBUTES)
def test_instance_result_attribute(client: DicomwebClient, qido_depth_corpus: QidoCorpus, keyword: str) -> None:
    """An instance result carries this Table 10.6.3-5 attribute with the stored value."""
    check_included(client, qido_depth_corpus, INSTANCES_ROUTE, [keyword])


# The default attributes of each level, per Azure API version, as far as the corpus stores them: Azure filters the
# stored dataset down to these tags (microsoft/dicom-server eeefbe4d7, src/Microsoft.Health.Dicom.Core/Features/
# Query/QueryResponseBuilder.cs: DefaultStudyTags, DefaultSeriesTags, DefaultInstancesTags for v1, V2Default* for
# v2). v1 is not a superset of v2: it lacks StudyDescription and ManufacturerModelName. Left out because the corpus
# does not store them: SpecificCharacterSet, InstanceAvailability, TimezoneOffsetFromUTC, RequestAttributesSequence.
AZURE_DEFAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "v1": {
        "study": (
            "StudyDate",
            "StudyTime",
            "AccessionNumber",
            "ReferringPhysicianName",
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "PatientSex",
            "StudyInstanceUID",
            "StudyID",
        ),
        "series": (
            "Modality",
            "SeriesDescription",
            "SeriesInstanceUID",
            "PerformedProcedureStepStartDate",
            "PerformedProcedureStepStartTime",
        ),
        "instance": (
            "SOPClassUID",
            "SOPInstanceUID",
            "InstanceNumber",
            "Rows",
            "Columns",
            "BitsAllocated",
            "NumberOfFrames",
        ),
    },
    "v2": {
        "study": (
            "StudyDate",
            "AccessionNumber",
            "StudyDescription",
            "ReferringPhysicianName",
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "StudyInstanceUID",
        ),
        "series": ("Modality", "ManufacturerModelName", "SeriesInstanceUID", "PerformedProcedureStepStartDate"),
        "instance": ("SOPInstanceUID",),
    },
}


@pytest.mark.req("AZ-QIDO-121")
@pytest.mark.parametrize("level", ["study", "series", "instance"])
def test_azure_default_attributes(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, api_version: str, level: str
) -> None:
    """A result carries every default attribute of its level in the run's API version, with the stored value."""
    check_included(client, qido_depth_corpus, ROUTE_OF[level], AZURE_DEFAULTS[api_version][level])


@pytest.mark.req("AZ-QIDO-122")
@pytest.mark.parametrize(
    ("level", "keyword"),
    [("study", "NumberOfStudyRelatedInstances"), ("series", "NumberOfSeriesRelatedInstances")],
    ids=["study", "series"],
)
def test_azure_computed_count(client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keyword: str) -> None:
    """includefield of a computed count returns the number of instances stored under the entity."""
    check_included(client, qido_depth_corpus, ROUTE_OF[level], [keyword], ("includefield", keyword))
