"""The property checks' own parts, without a server: profiles, generators, the reference metadata, the matcher."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.valuerep import validate_value

from dicomweb_conformance.checks.qido import (
    encode_query,
)
from dicomweb_conformance.checks.qido_matching import (
    MATCHING_RULES,
    WILDCARD_VRS,
    attribute_vr,
    exact,
    expected_matches,
    fold_case,
    in_range,
    query_matches,
    searchable,
    wildcard_matches,
)
from dicomweb_conformance.checks.qido_queries import (
    Page,
    pages,
    person_name_queries,
    range_queries,
    single_value_queries,
    uid_list_queries,
    wildcard_queries,
)
from dicomweb_conformance.corpora.qido_corpus import (
    RANGE,
    SINGLE,
    UID_LIST,
    WILDCARD,
    Query,
    build_qido_corpus,
    planned,
)
from dicomweb_conformance.dicom.annex_f import (
    metadata_differences,
    reference_json,
    same_value,
)
from dicomweb_conformance.dicom.generated_instances import (
    FAMILIES,
    DatasetSpec,
    ElementSpec,
    FramesRequest,
    PrivateBlockSpec,
    build_instance,
    dataset_specs,
    element_spec,
    frames_requests,
)
from dicomweb_conformance.plugin.hypothesis_profiles import (
    HypothesisProfileError,
    chosen_hypothesis_profile,
)

MANY = settings(max_examples=60)

# --- profiles ---------------------------------------------------------------------------------------------------------


def test_the_ci_profile_is_derandomized_small_and_without_deadline() -> None:
    ci = settings.get_profile("ci")
    assert ci.derandomize
    assert ci.deadline is None
    assert 10 <= ci.max_examples <= 15
    assert ci.print_blob


def test_the_thorough_profile_runs_hundreds_of_examples() -> None:
    assert settings.get_profile("thorough").max_examples >= 200


@pytest.mark.parametrize(
    ("cli", "environ", "expected"),
    [
        (None, {}, ("ci", "default")),
        (None, {"DICOMWEB_HYPOTHESIS_PROFILE": "thorough"}, ("thorough", "DICOMWEB_HYPOTHESIS_PROFILE")),
        ("CI", {"DICOMWEB_HYPOTHESIS_PROFILE": "thorough"}, ("ci", "--dicomweb-hypothesis")),
    ],
)
def test_the_profile_comes_from_cli_then_environment_then_default(
    cli: str | None, environ: dict[str, str], expected: tuple[str, str]
) -> None:
    chosen = chosen_hypothesis_profile(cli, environ)
    assert (chosen.value, chosen.source) == expected


@pytest.mark.parametrize(
    ("cli", "environ", "source"),
    [
        ("nightly", {}, "--dicomweb-hypothesis"),
        (None, {"DICOMWEB_HYPOTHESIS_PROFILE": "fast"}, "DICOMWEB_HYPOTHESIS_PROFILE"),
    ],
)
def test_an_invalid_profile_names_where_it_came_from(cli: str | None, environ: dict[str, str], source: str) -> None:
    with pytest.raises(HypothesisProfileError, match=rf"invalid hypothesis profile .* \(from {source}\)"):
        chosen_hypothesis_profile(cli, environ)


# --- generated datasets are valid -----------------------------------------------------------------------------------


def _elements(dataset: Dataset) -> Iterator[Any]:
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value:
                yield from _elements(item)
        else:
            yield element


@MANY
@given(spec=dataset_specs(FAMILIES))
def test_every_generated_value_is_valid_for_its_vr(spec: DatasetSpec) -> None:
    dataset = build_instance(spec, "unit").dataset
    for element in _elements(dataset):
        values = list(element.value) if element.VM > 1 else [element.value]
        for value in values:
            if value not in (None, "") and element.VR not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
                text = str(value) if element.VR in ("IS", "DS", "PN") else value  # as written in the file
                validate_value(element.VR, text, config.RAISE)  # pydicom's own PS3.5 Table 6.2-1 rules


@MANY
@given(spec=dataset_specs(FAMILIES))
def test_generated_instances_survive_encoding_and_keep_their_scope(spec: DatasetSpec) -> None:
    instance = build_instance(spec, "unit")
    dataset = instance.dataset
    assert dataset.PatientID == "DWCS-unit-PROP"
    assert len(instance.pixel_frames()) == spec.frames
    assert reference_json(dataset)  # pydicom can describe every generated instance


@MANY
@given(request=frames_requests())
def test_frame_requests_ask_for_distinct_existing_frames(request: FramesRequest) -> None:
    assert 1 <= len(request.frames) == len(set(request.frames)) <= request.spec.frames
    assert all(1 <= number <= request.spec.frames for number in request.frames)


def test_private_blocks_keep_their_creator_and_explicit_vr() -> None:
    block = PrivateBlockSpec(0x0011, "DWCS UNIT", (ElementSpec(0x10, "OD", b"\x00" * 8), ElementSpec(0x11, "LO", "x")))
    dataset = build_instance(DatasetSpec(private_blocks=(block,)), "unit").dataset
    assert dataset[0x00110010].value == "DWCS UNIT"
    assert (dataset[0x00111010].VR, dataset[0x00111011].VR) == ("OD", "LO")


# --- the reference metadata ----------------------------------------------------------------------------------------


def _reference(*elements: ElementSpec) -> dict[str, Any]:
    dataset = Dataset()
    for element in elements:
        if element.vr == "SQ":
            dataset.add_new(element.tag, "SQ", [Dataset() for _ in element.value])
        else:
            dataset.add_new(element.tag, element.vr, element.value)
    return reference_json(dataset)


def test_the_reference_follows_annex_f_where_pydicom_does_not() -> None:
    reference = _reference(
        element_spec("ReferencedStudySequence", ()),
        element_spec("AdmittingDiagnosesDescription", ["A", "", "B"]),
        element_spec("PatientName", "=Yamada"),
    )
    assert reference["00081110"] == {"vr": "SQ"}  # F.2.5: no Value for an empty sequence
    assert reference["00081080"]["Value"] == ["A", None, "B"]  # F.2.5: null for an empty value
    assert reference["00100010"]["Value"] == [{"Ideographic": "Yamada"}]  # F.2.2: non-empty groups only


def test_identical_metadata_has_no_differences() -> None:
    reference = _reference(element_spec("PatientWeight", "72.5"), element_spec("ProcedureCodeSequence", ((),)))
    assert metadata_differences(reference, reference, binary_may_be_omitted=False) == []


@pytest.mark.parametrize(
    ("actual", "fragment"),
    [
        ({}, "missing"),
        ({"00101030": {"vr": "DS", "Value": [72.5]}, "00100020": {"vr": "LO", "Value": ["x"]}}, "not in the stored"),
        ({"00101030": {"vr": "FD", "Value": [72.5]}}, "vr 'FD'"),
        ({"00101030": {"vr": "DS", "Value": [72.4]}}, "expected [72.5]"),
        ({"00101030": {"vr": "DS", "Value": [72.5, 1]}}, "expected 1 value"),
    ],
)
def test_each_difference_is_named(actual: dict[str, Any], fragment: str) -> None:
    reference = {"00101030": {"vr": "DS", "Value": [72.5]}}
    problems = metadata_differences(reference, actual, binary_may_be_omitted=False)
    assert any(fragment in problem for problem in problems), problems


def test_binary_values_are_inline_or_bulk_data_and_never_a_value_array() -> None:
    reference = {"00181638": {"vr": "OF", "InlineBinary": "AACAPw=="}}

    def problems(actual: dict[str, Any], *, omit: bool = False) -> list[str]:
        return metadata_differences(reference, actual, binary_may_be_omitted=omit)

    assert problems({"00181638": {"vr": "OF", "InlineBinary": "AACAPw=="}}) == []
    assert problems({"00181638": {"vr": "OF", "BulkDataURI": "http://x/bulk/00181638"}}) == []
    assert problems({"00181638": {"vr": "OF", "Value": [1.0]}}) != []
    assert problems({"00181638": {"vr": "OF", "InlineBinary": "AAAAAA=="}}) != []
    assert problems({}) != []
    assert problems({}, omit=True) == []  # the azure profile's documented omission


def test_a_sequence_is_compared_item_by_item() -> None:
    reference = {"00081032": {"vr": "SQ", "Value": [{"00080100": {"vr": "SH", "Value": ["1"]}}, {}]}}
    dropped = {"00081032": {"vr": "SQ", "Value": [{"00080100": {"vr": "SH", "Value": ["1"]}}]}}
    shifted = {"00081032": {"vr": "SQ", "Value": [{}, {"00080100": {"vr": "SH", "Value": ["1"]}}]}}
    assert metadata_differences(reference, dropped, binary_may_be_omitted=False)
    assert metadata_differences(reference, shifted, binary_may_be_omitted=False)


@pytest.mark.parametrize(
    ("vr", "expected", "actual", "same"),
    [
        ("DS", 10000000000.0, "1E10", True),  # Table F.2.3-1: DS may stay a string
        ("DS", 10000000000.0, 1410065408, False),
        ("IS", 12, "+0012", True),
        ("UV", 2**64 - 1, "18446744073709551615", True),
        ("FD", -2.5e-300, 0, False),
        ("FD", 0.5, "0.5", False),  # FD is a JSON number only
        ("FL", 0.10000000149011612, 0.1, True),  # the shortest float32 text is the same float32
        ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": "Doe", "Ideographic": ""}, True),
        ("LO", None, "", False),
    ],
)
def test_values_are_read_as_table_f_2_3_1_types_them(vr: str, expected: Any, actual: Any, same: bool) -> None:
    assert same_value(vr, expected, actual) is same


# --- the matcher ---------------------------------------------------------------------------------------------------


def test_the_plan_has_six_studies_eight_series_ten_instances() -> None:
    assert [len(planned(level)) for level in ("studies", "series", "instances")] == [6, 8, 10]


def test_the_stored_corpus_is_the_plan() -> None:
    corpus = build_qido_corpus("unit")
    assert len(corpus.instances) == 10
    assert {entity.label for entity in planned("instances")} <= set(corpus.uids)
    assert all(instance.dataset.PatientID == "DWCS-unit-QIDO" for instance in corpus.instances)
    s3 = corpus.uids["S3"]
    assert corpus.parameters(Query("studies", "StudyInstanceUID", UID_LIST, "S3,unknown")) == {
        "StudyInstanceUID": f"{s3},{corpus.uids['unknown']}"
    }


@pytest.mark.parametrize(
    ("profile", "query", "must", "may"),
    [
        ("standard", Query("studies", "AccessionNumber", SINGLE, "ACC-001"), {"S1"}, {"S1"}),
        ("azure", Query("studies", "AccessionNumber", SINGLE, "ACC-001"), {"S1", "S2"}, {"S1", "S2"}),
        ("standard", Query("studies", "ReferringPhysicianName", SINGLE, "Smith^Anna"), {"S1"}, {"S1", "S2"}),
        ("standard", Query("studies", "ReferringPhysicianName", SINGLE, "Muller^Jorg^^Dr"), set(), {"S3"}),
        ("standard", Query("studies", "AccessionNumber", WILDCARD, "ACC*"), {"S1", "S3", "S6"}, {"S1", "S3", "S6"}),
        ("standard", Query("studies", "AccessionNumber", WILDCARD, "*"), {f"S{n}" for n in range(1, 7)}, None),
        ("standard", Query("studies", "StudyDate", RANGE, "-19991231"), {"S5"}, {"S5"}),
        ("standard", Query("studies", "StudyDate", RANGE, "20200101-"), {"S1", "S2", "S3", "S6"}, None),
        ("standard", Query("series", "SeriesInstanceUID", UID_LIST, "S1/1,S3/1,unknown"), {"S1/1", "S3/1"}, None),
        ("standard", Query("series", "Modality", SINGLE, "CT"), {"S1/1", "S2/2"}, None),
        ("standard", Query("studies", "ModalitiesInStudy", SINGLE, "OT"), {"S4", "S5"}, None),
    ],
)
def test_the_matcher_follows_the_profile_rules(
    profile: str, query: Query, must: set[str], may: set[str] | None
) -> None:
    expectation = expected_matches(query, MATCHING_RULES[profile])
    assert (set(expectation.must), set(expectation.may)) == (must, must if may is None else may)


def test_wildcards_match_any_run_and_one_character_and_nothing_else() -> None:
    assert wildcard_matches("A?C*", "ABC-001", exact)
    assert not wildcard_matches("A?C", "ABC-001", exact)
    assert wildcard_matches("*", "", exact)
    assert not wildcard_matches("a.c", "abc", exact)  # "." is a character, not a pattern
    assert wildcard_matches("acc*", "ACC-1", fold_case)
    assert not wildcard_matches("acc*", "ACC-1", exact)


def test_ranges_are_inclusive_and_never_match_an_empty_value() -> None:
    assert in_range("20200101-20200101", "20200101")
    assert in_range("-20200101", "19991231")
    assert not in_range("20200102-", "20200101")
    assert not in_range("-20991231", "")
    assert not query_matches(Query("studies", "StudyDate", RANGE, "-20991231"), [""], exact)


def test_the_profile_decides_what_may_be_searched() -> None:
    assert searchable("standard", Query("studies", "StudyID", SINGLE, "S1"))
    assert not searchable("azure", Query("studies", "StudyID", SINGLE, "S1"))
    assert not searchable("azure", Query("studies", "StudyInstanceUID", UID_LIST, "S1"))
    assert not searchable("standard", Query("studies", "Modality", SINGLE, "CT"))


def test_queries_are_percent_encoded_except_the_matching_syntax() -> None:
    encoded = encode_query(
        [("PatientID", "DWCS-x-QIDO"), ("ReferringPhysicianName", "Müller^J* ?"), ("UIDs", "1.2,3.4")]
    )
    assert encoded == "PatientID=DWCS-x-QIDO&ReferringPhysicianName=M%C3%BCller%5EJ*%20?&UIDs=1.2,3.4"


@MANY
@given(query=single_value_queries() | wildcard_queries() | range_queries() | uid_list_queries() | person_name_queries())
def test_generated_queries_use_a_matching_kind_the_vr_allows(query: Query) -> None:
    vr = attribute_vr(query.keyword)
    allowed = {SINGLE: True, WILDCARD: vr in WILDCARD_VRS, RANGE: vr == "DA", UID_LIST: vr == "UI"}
    assert allowed[query.kind], query
    if query.kind == RANGE:
        low, _, high = query.value.partition("-")
        assert not (low and high) or low <= high


@MANY
@given(page=pages())
def test_pages_reach_one_past_the_last_match(page: Page) -> None:
    size = len(planned(page.level))
    assert 1 <= page.limit <= size + 1
    assert 0 <= page.offset <= size + 1
