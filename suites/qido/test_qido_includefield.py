"""QIDO-RS returned attributes: includefield (repeated, comma list, all, keyword or tag), the level rule, and
the attributes each level must return (PS3.18 8.3.4.3, 10.6.3.3).

Every case searches for one corpus entity by its UID and compares the returned values with the stored ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fixtures.client import DicomwebClient
from fixtures.dicomjson import key
from fixtures.qido_checks import check_lacks, check_returned_values, describe, scoped, search
from fixtures.qido_corpus import LEVEL_KEY, QidoCorpus
from fixtures.qido_matching import INSTANCES_ROUTE, SERIES_ROUTE, STUDIES_ROUTE, Route

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


# Attributes outside the default result of Orthanc and of Azure v2, in Azure's includefield=all lists.
SINGLE_CASES = [
    pytest.param("study", "PatientAge", form, id=f"study-PatientAge-{form}") for form in ("keyword", "tag")
] + [pytest.param("series", "SeriesTime", form, id=f"series-SeriesTime-{form}") for form in ("keyword", "tag")]


@pytest.mark.req("DW-QIDO-130")
@pytest.mark.parametrize(("level", "keyword", "form"), SINGLE_CASES)
def test_includefield_adds_the_attribute(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keyword: str, form: str
) -> None:
    """includefield={keyword or tag} adds the attribute to the result with its stored value."""
    route = ROUTE_OF[level]
    check_included(client, qido_depth_corpus, route, [keyword], ("includefield", attribute_id(keyword, form)))


@pytest.mark.req("DW-QIDO-131")
@pytest.mark.parametrize("form", ["keyword", "tag"])
def test_includefield_adds_an_instance_attribute(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, form: str
) -> None:
    """includefield=PhotometricInterpretation (keyword or tag) adds it to the instance result."""
    keyword = "PhotometricInterpretation"
    check_included(client, qido_depth_corpus, INSTANCES_ROUTE, [keyword], ("includefield", attribute_id(keyword, form)))


@pytest.mark.req("AZ-QIDO-120")
@pytest.mark.parametrize("form", ["keyword", "tag"])
def test_azure_includefield_adds_instance_number(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, form: str
) -> None:
    """includefield=InstanceNumber (keyword or tag) adds it to the instance result."""
    keyword = "InstanceNumber"
    check_included(client, qido_depth_corpus, INSTANCES_ROUTE, [keyword], ("includefield", attribute_id(keyword, form)))


PAIRS = [
    pytest.param("study", ("PatientAge", "PatientWeight"), id="study"),
    pytest.param("series", ("SeriesTime", "SeriesDate"), id="series"),
]


@pytest.mark.req("DW-QIDO-132")
@pytest.mark.parametrize(("level", "keywords"), PAIRS)
def test_repeated_includefield(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keywords: tuple[str, str]
) -> None:
    """Two includefield parameters, one by keyword and one by tag, add both attributes."""
    first, second = keywords
    extra = [("includefield", first), ("includefield", key(second))]
    check_included(client, qido_depth_corpus, ROUTE_OF[level], keywords, *extra)


@pytest.mark.req("DW-QIDO-133")
@pytest.mark.parametrize(("level", "keywords"), PAIRS)
def test_comma_separated_includefield(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keywords: tuple[str, str]
) -> None:
    """includefield=a,b adds both attributes."""
    check_included(client, qido_depth_corpus, ROUTE_OF[level], keywords, ("includefield", ",".join(keywords)))


@pytest.mark.req("DW-QIDO-134")
@pytest.mark.parametrize(("level", "keywords"), PAIRS)
def test_includefield_all(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, level: str, keywords: tuple[str, str]
) -> None:
    """includefield=all adds the stored attributes of the level outside the default set."""
    check_included(client, qido_depth_corpus, ROUTE_OF[level], keywords, ("includefield", "all"))


@pytest.mark.req("DW-QIDO-135")
def test_includefield_all_on_instances(client: DicomwebClient, qido_depth_corpus: QidoCorpus) -> None:
    """includefield=all on an instance search adds PhotometricInterpretation."""
    check_included(client, qido_depth_corpus, INSTANCES_ROUTE, ["PhotometricInterpretation"], ("includefield", "all"))


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
