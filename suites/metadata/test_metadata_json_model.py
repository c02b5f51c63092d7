"""Metadata follows the DICOM JSON model of PS3.18 Annex F: keys, order, vr, Value arrays, the JSON type of each
VR, person names, sequences and empty values, checked on the metadata corpus (every VR class, nested sequences,
ISO_IR 192 and ISO 2022 IR 87 text, empty and multi-valued attributes, a stored group length)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.metadata import instance_metadata, study_metadata
from dicomweb_conformance.corpora.metadata import COVERAGE, GROUP_LENGTH_GROUP, ISO_2022, MetadataCorpus
from dicomweb_conformance.dicom.annex_f import Wrong, canonical_element, canonical_value, stored_json
from dicomweb_conformance.dicom.dicomjson import (
    VALID_VRS,
    DatasetJson,
    attribute_name,
    datasets_within,
    key,
    show,
    walk,
)
from dicomweb_conformance.transport.client import DicomwebClient

_UPPER_HEX_KEY = re.compile(r"^[0-9A-F]{8}$")
_VALUE_KEYS = ("Value", "BulkDataURI", "InlineBinary")
_PN_GROUPS = frozenset({"Alphabetic", "Ideographic", "Phonetic"})
_BINARY_NUMBER_VRS = frozenset({"FL", "FD", "SL", "SS", "UL", "US"})
_TEXT_VRS = frozenset("AE AS CS DA DT LO LT SH ST TM UC UI UR UT".split())  # noqa: SIM905
SHOWN = 10

AttributeFinder = Callable[[str, str, dict[str, Any]], str | None]
DatasetFinder = Callable[[str, dict[str, Any]], str | None]


def corpus_datasets(client: DicomwebClient, corpus: MetadataCorpus) -> tuple[requests.Response, list[DatasetJson]]:
    """The study metadata of the whole corpus: every instance, every attribute the checks look at."""
    response, datasets = study_metadata(client, corpus)
    return response, list(datasets.values())


def attribute_problems(datasets: Iterable[DatasetJson], find: AttributeFinder) -> list[str]:
    """What `find` says about each attribute, at every depth, of every dataset."""
    return [
        problem
        for number, dataset in enumerate(datasets, 1)
        for path, name, element in walk(dataset, f"#{number} ")
        if (problem := find(path, name, element)) is not None
    ]


def dataset_problems(datasets: Iterable[DatasetJson], find: DatasetFinder) -> list[str]:
    """What `find` says about each dataset and each sequence item in it."""
    return [
        problem
        for number, dataset in enumerate(datasets, 1)
        for where, inner in datasets_within(dataset, f"#{number} ")
        if (problem := find(where, inner)) is not None
    ]


def report(problems: list[str], summary: str, expected: str, response: requests.Response) -> None:
    if problems:
        more = f"\n    ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise fail(summary, expected=expected, actual="\n    ".join(problems[:SHOWN]) + more, response=response)


def values_of(element: Any) -> list[Any]:
    found = element.get("Value") if isinstance(element, dict) else None
    return found if isinstance(found, list) else []


def coverage_dataset(datasets: Iterable[DatasetJson], corpus: MetadataCorpus) -> DatasetJson:
    wanted = [corpus[COVERAGE].sop_instance_uid]
    return next(d for d in datasets if values_of(d.get(key("SOPInstanceUID"))) == wanted)


def type_finder(vrs: frozenset[str], allowed: Callable[[str, Any], bool]) -> AttributeFinder:
    """Reports the values of attributes of `vrs` whose JSON type `allowed` refuses (nulls are F.2.5's)."""

    def find(path: str, name: str, element: dict[str, Any]) -> str | None:
        if element.get("vr") not in vrs:
            return None
        bad = [v for v in values_of(element) if v is not None and not allowed(str(element["vr"]), v)]
        return f"{path} ({attribute_name(name)}, {element['vr']}): {show(bad)}" if bad else None

    return find


def canonical_ok(vr: str, value: Any) -> bool:
    return not isinstance(canonical_value(vr, value), Wrong)


# --- keys, order, vr, Value -----------------------------------------------------------------------------------------


@pytest.mark.req("DW-META-001")
def test_keys_are_eight_uppercase_hex_digits_at_every_depth(
    client: DicomwebClient, metadata_corpus: MetadataCorpus
) -> None:
    """Every attribute key of the study metadata, top level and in nested sequence items, is 8 uppercase hex digits."""
    response, datasets = corpus_datasets(client, metadata_corpus)

    def find(where: str, dataset: dict[str, Any]) -> str | None:
        bad = [name for name in dataset if not _UPPER_HEX_KEY.match(name)]
        return f"{where}: keys {bad}" if bad else None

    report(dataset_problems(datasets, find), "metadata keys are not tags (F.2.2)", "ggggeeee, uppercase", response)


@pytest.mark.req("DW-META-002")
def test_attributes_are_in_ascending_tag_order_at_every_depth(
    client: DicomwebClient, metadata_corpus: MetadataCorpus
) -> None:
    """The attributes of each dataset and of each sequence item (two levels deep) come in ascending tag order."""
    response, datasets = corpus_datasets(client, metadata_corpus)

    def find(where: str, dataset: dict[str, Any]) -> str | None:
        names = list(dataset)
        return None if names == sorted(names) else f"{where}: {names}"

    report(dataset_problems(datasets, find), "attributes out of order (F.2.2)", "ascending keys", response)


@pytest.mark.req("DW-META-003")
def test_every_attribute_has_a_dicom_vr(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """Every attribute, including those in nested sequence items, carries a "vr" naming a DICOM VR."""
    response, datasets = corpus_datasets(client, metadata_corpus)

    def find(path: str, name: str, element: dict[str, Any]) -> str | None:
        return None if element.get("vr") in VALID_VRS else f"{path}: vr {element.get('vr')!r}"

    report(attribute_problems(datasets, find), "an attribute without a DICOM vr (F.2.2)", "a VR", response)


@pytest.mark.req("DW-META-004")
def test_values_are_non_empty_arrays_and_one_of_a_kind(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """Value is always a non-empty array, and no attribute has two of Value, BulkDataURI and InlineBinary."""
    response, datasets = corpus_datasets(client, metadata_corpus)

    def find(path: str, name: str, element: dict[str, Any]) -> str | None:
        present = [k for k in _VALUE_KEYS if k in element]
        if len(present) > 1:
            return f"{path}: has {present}"
        if "Value" in element and not (isinstance(element["Value"], list) and element["Value"]):
            return f"{path}: Value is {show(element['Value'])}"
        return None

    report(attribute_problems(datasets, find), "malformed Value (F.2.2, F.2.4)", "a non-empty array, alone", response)


@pytest.mark.req("DW-META-005")
def test_no_group_length_even_when_stored(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """The coverage instance was stored with a (0018,0000) Group Length: no (gggg,0000) attribute appears anywhere."""
    response, datasets = corpus_datasets(client, metadata_corpus)
    problems = attribute_problems(datasets, lambda path, name, element: path if name.endswith("0000") else None)
    report(problems, "group length attributes in metadata (F.2.2)", "none", response)
    group = f"{GROUP_LENGTH_GROUP:04X}"
    if not any(name.startswith(group) for name in coverage_dataset(datasets, metadata_corpus)):
        raise fail(
            f"group {group} vanished together with its group length",
            expected=f"the ({group},xxxx) attributes",
            actual="none",
            response=response,
        )


# --- the JSON type of each VR (Table F.2.3-1) -----------------------------------------------------------------------


@pytest.mark.req("DW-META-006")
def test_person_names_are_objects_of_component_groups(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """Every PN value is an object with only Alphabetic, Ideographic and Phonetic members, each a string."""
    response, datasets = corpus_datasets(client, metadata_corpus)

    def allowed(vr: str, value: Any) -> bool:
        return isinstance(value, dict) and set(value) <= _PN_GROUPS and all(isinstance(v, str) for v in value.values())

    problems = attribute_problems(datasets, type_finder(frozenset({"PN"}), allowed))
    report(problems, "a PN value is not an object of component groups (F.2.2)", "{Alphabetic, ...}", response)


@pytest.mark.req("DW-META-012")
def test_is_ds_sv_uv_are_numbers_or_valid_strings(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """IS, DS, SV and UV values are JSON Numbers (integral but for DS) or Strings holding a valid value."""
    response, datasets = corpus_datasets(client, metadata_corpus)
    problems = attribute_problems(datasets, type_finder(frozenset({"IS", "DS", "SV", "UV"}), canonical_ok))
    report(problems, "an IS/DS/SV/UV value of the wrong JSON type (F.2.3)", "a Number, or a valid String", response)


@pytest.mark.req("DW-META-013")
def test_attribute_tags_are_hex_strings(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """AT values (the coverage instance's two Frame Increment Pointers) are strings of eight hexadecimal digits."""
    response, datasets = corpus_datasets(client, metadata_corpus)
    problems = attribute_problems(datasets, type_finder(frozenset({"AT"}), canonical_ok))
    report(problems, "an AT value is not ggggeeee (Table F.2.3-1)", '"00181063"', response)
    pointer = coverage_dataset(datasets, metadata_corpus).get(key("FrameIncrementPointer"))
    if len(values_of(pointer)) != 2:
        raise fail("FrameIncrementPointer (AT) lost its values", expected=2, actual=show(pointer), response=response)


@pytest.mark.req("DW-META-014")
def test_binary_number_vrs_are_json_numbers(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """FL, FD, SL, SS, UL and US values are JSON Numbers, never strings."""
    response, datasets = corpus_datasets(client, metadata_corpus)
    problems = attribute_problems(datasets, type_finder(_BINARY_NUMBER_VRS, lambda vr, v: isinstance(v, Decimal)))
    report(problems, "a binary number is not a JSON Number (Table F.2.3-1)", "Number", response)


@pytest.mark.req("DW-META-015")
def test_text_vrs_are_json_strings(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """Values of AE AS CS DA DT LO LT SH ST TM UC UI UR UT are JSON Strings."""
    response, datasets = corpus_datasets(client, metadata_corpus)
    problems = attribute_problems(datasets, type_finder(_TEXT_VRS, lambda vr, v: isinstance(v, str)))
    report(problems, "a text value is not a JSON String (Table F.2.3-1)", "String", response)


# --- person names ---------------------------------------------------------------------------------------------------

MULTI_GROUP = {"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"}


@pytest.mark.req("DW-META-007")
@pytest.mark.parametrize("name", [COVERAGE, ISO_2022], ids=["ISO_IR_192", "ISO_2022_IR_87"])
def test_multi_group_person_name(client: DicomwebClient, metadata_corpus: MetadataCorpus, name: str) -> None:
    """PatientName 'Yamada^Tarou=山田^太郎=やまだ^たろう' comes as its three component groups, decoded."""
    response, dataset = instance_metadata(client, metadata_corpus[name])
    element = dataset.get(key("PatientName"))
    found = values_of(element)
    groups = found[0] if len(found) == 1 and isinstance(found[0], dict) else {}
    if {group: str(text).rstrip(" ") for group, text in groups.items()} != MULTI_GROUP:
        raise fail(
            f"PatientName of {name} is not its three component groups (F.2.2)",
            expected=show({"vr": "PN", "Value": [MULTI_GROUP]}),
            actual=show(element),
            response=response,
        )


EMPTY_GROUPS = [{"Ideographic": "山田^太郎"}, {"Alphabetic": "Smith^John", "Phonetic": "スミス"}]


@pytest.mark.req("DW-META-016")
def test_empty_component_groups_are_left_out(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """PerformingPhysicianName '=山田^太郎\\Smith^John==スミス' carries only its non-empty component groups."""
    response, dataset = instance_metadata(client, metadata_corpus[COVERAGE])
    element = dataset.get(key("PerformingPhysicianName"))
    found = [
        {group: str(text).rstrip(" ") for group, text in value.items()} if isinstance(value, dict) else value
        for value in values_of(element)
    ]
    if found != EMPTY_GROUPS:
        raise fail(
            "a PN value carries empty component groups, or lost a non-empty one (F.2.2)",
            expected=show({"vr": "PN", "Value": EMPTY_GROUPS}),
            actual=show(element),
            response=response,
        )


# --- sequences and empty values -------------------------------------------------------------------------------------


def sequence_tree(element: Any) -> Any:
    """Item count and attribute keys at each level of a sequence; values are left to the equality checks."""
    if not isinstance(element, dict) or element.get("vr") != "SQ":
        return f"not a sequence: {show(element)}"
    items = element.get("Value", [])
    if not isinstance(items, list):
        return f"Value is not an array: {show(items)}"
    return [
        {
            name: sequence_tree(inner) if isinstance(inner, dict) and inner.get("vr") == "SQ" else "attribute"
            for name, inner in item.items()
        }
        if isinstance(item, dict)
        else f"an item that is not an object: {show(item)}"
        for item in items
    ]


@pytest.mark.req("DW-META-008")
def test_nested_sequences_keep_their_items(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """RequestAttributesSequence keeps its two items in order, each with its one-item ScheduledProtocolCodeSequence."""
    instance = metadata_corpus[COVERAGE]
    response, dataset = instance_metadata(client, instance)
    tag = key("RequestAttributesSequence")
    expected, actual = stored_json(instance)[tag], dataset.get(tag)
    if sequence_tree(actual) != sequence_tree(expected):
        raise fail(
            "RequestAttributesSequence lost its item structure (F.2.2)",
            expected=sequence_tree(expected),
            actual=sequence_tree(actual),
            response=response,
        )
    procedure = key("RequestedProcedureID")
    order = [canonical_element(item.get(procedure)) for item in values_of(actual)]
    if order != [canonical_element(item.get(procedure)) for item in values_of(expected)]:
        raise fail(
            "sequence items are not in stored order (F.2.2)",
            expected="RP1, RP2",
            actual=[show(item.get(procedure)) for item in values_of(actual)],
            response=response,
        )


EMPTY_ATTRIBUTES = {
    "PN": "ReferringPhysicianName",
    "DA": "PatientBirthDate",
    "TM": "SeriesTime",
    "LO": "InstitutionalDepartmentName",
    "IS": "AcquisitionNumber",
    "DS": "PatientWeight",
    "UI": "IrradiationEventUID",
    "US": "ExposuresOnPlate",
    "SQ": "ReferencedStudySequence",
}


@pytest.mark.req("DW-META-009")
@pytest.mark.parametrize("vr", list(EMPTY_ATTRIBUTES))
def test_empty_attribute_has_vr_and_no_value(client: DicomwebClient, metadata_corpus: MetadataCorpus, vr: str) -> None:
    """An attribute stored with zero length (one per VR class; for SQ, no items) is present with its vr, no value."""
    keyword = EMPTY_ATTRIBUTES[vr]
    response, dataset = instance_metadata(client, metadata_corpus[COVERAGE])
    element = dataset.get(key(keyword))
    if element != {"vr": vr}:
        raise fail(
            f"empty {keyword} ({vr}) is not kept as an attribute without a value (F.2.5)",
            expected=show({"vr": vr}),
            actual=show(element),
            response=response,
        )


NULL_VALUE_ATTRIBUTES = {"LO-middle": "SoftwareVersions", "CS-first": "ScanOptions"}


@pytest.mark.req("DW-META-010")
@pytest.mark.parametrize("case", list(NULL_VALUE_ATTRIBUTES))
def test_empty_value_of_a_multi_valued_attribute_is_null(
    client: DicomwebClient, metadata_corpus: MetadataCorpus, case: str
) -> None:
    """SoftwareVersions '1.0\\\\beta 2' and ScanOptions '\\OPT2' keep every value, the empty one as null in place."""
    instance = metadata_corpus[COVERAGE]
    keyword = NULL_VALUE_ATTRIBUTES[case]
    response, dataset = instance_metadata(client, instance)
    expected = stored_json(instance)[key(keyword)]
    if canonical_element(dataset.get(key(keyword))) != canonical_element(expected):
        raise fail(
            f"{keyword}: the empty value is not null in its place (F.2.5)",
            expected=show(expected),
            actual=show(dataset.get(key(keyword))),
            response=response,
        )


@pytest.mark.req("DW-META-011")
def test_empty_sequence_item_is_an_empty_object(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """ReferencedPatientSequence, stored with one empty item, comes as {"vr": "SQ", "Value": [{}]}."""
    response, dataset = instance_metadata(client, metadata_corpus[COVERAGE])
    element = dataset.get(key("ReferencedPatientSequence"))
    if element != {"vr": "SQ", "Value": [{}]}:
        raise fail(
            "a sequence holding an empty item is not kept with an empty object for it (F.2.5)",
            expected=show({"vr": "SQ", "Value": [{}]}),
            actual=show(element),
            response=response,
        )
