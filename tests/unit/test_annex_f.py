"""The one Annex F oracle (dicom/annex_f.py) gives every caller the answers it relied on.

Until fixtures/property_fixtures.py imports `reference_json`, `metadata_differences`, `same_value` and
`BULKDATA_URI_VRS` from dicom/annex_f.py, it still holds its own copies; the tests that compare with them prove that
the oracle answers the property checks as their copy did, on every kind of dataset and answer they see, except where
that copy broke Annex F: it kept group lengths (gggg,0000) in the reference, which PS3.18 F.2.2 leaves out of
DICOM JSON. Once the copies are gone these comparisons compare the oracle with itself; the cases written out below
keep the behaviour pinned.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from dicomweb_conformance.corpora.metadata import (
    COVERAGE,
    GROUP_LENGTH_GROUP,
    build_implicit_private,
    build_metadata_corpus,
)
from dicomweb_conformance.corpora.retrieve import build_first_series, build_implicit
from dicomweb_conformance.dicom.annex_f import (
    BULKDATA_URI_VRS,
    annex_f_form,
    canonical_element,
    metadata_differences,
    reference_json,
    same_value,
    stored_json,
)
from dicomweb_conformance.dicom.dicomjson import BULK_VRS, DatasetJson

# The property checks' copies, by name: once they are imports of dicom/annex_f.py, these are the oracle itself.
_PROPERTY = vars(importlib.import_module("dicomweb_conformance.fixtures.property_fixtures"))
property_reference_json: Callable[[Dataset], DatasetJson] = _PROPERTY["reference_json"]
property_differences: Callable[..., list[str]] = _PROPERTY["metadata_differences"]
property_same_value: Callable[[str, Any, Any], bool] = _PROPERTY["same_value"]


IDEOGRAPHIC_ONLY = {"Ideographic": "山田^太郎"}
NO_IDEOGRAPHIC = {"Alphabetic": "Smith^John", "Phonetic": "スミス"}


def _without_group_lengths(dataset: DatasetJson) -> DatasetJson:
    kept: DatasetJson = {}
    for key, element in dataset.items():
        if key.endswith("0000"):
            continue
        if element.get("vr") == "SQ" and "Value" in element:
            element = {**element, "Value": [_without_group_lengths(item) for item in element["Value"]]}
        kept[key] = element
    return kept


def _edge_cases() -> Dataset:
    """Every departure of pydicom's JSON from Annex F, and every value type Table F.2.3-1 names."""
    ds = Dataset()
    ds.add_new(0x00080000, "UL", 42)  # a group length at the top level
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    ds.PerformingPhysicianName = ["=山田^太郎", "Smith^John==スミス"]
    ds.ReferringPhysicianName = ""
    ds.SoftwareVersions = ["1.0", "", "beta 2"]  # an empty value among several
    ds.ScanOptions = ["", "OPT2"]
    ds.PixelSpacing = ["0.5", "0.25"]  # DS and IS are written as strings, read as numbers
    ds.ImagePositionPatient = ["12345678901", "1E10", "-4294967296"]
    ds.EchoNumbers = ["1", "-2", "+3", "007"]
    ds.TimeRange = [0.1, 3.141592653589793]  # FD
    ds.LocalizingCursorPosition = [0.1, -2.25]  # FL: 0.1 is not a float32
    ds.FrameIncrementPointer = [0x00181063]  # AT
    ds.ReferencedStudySequence = DicomSequence([])  # an empty sequence
    item = Dataset()
    item.add_new(0x00080000, "UL", 8)  # a group length inside a sequence item
    item.CodeValue = "X"
    ds.ProcedureCodeSequence = DicomSequence([item, Dataset()])  # and an empty item
    for tag, vr, value in (
        (0x00111001, "OB", bytes(range(16))),
        (0x00111002, "OW", bytes(range(32, 48))),
        (0x00111003, "UN", bytes(range(64, 80))),
        (0x00111004, "OF", bytes(range(80, 96))),
        (0x00111005, "OD", bytes(range(96, 112))),
        (0x00111006, "OL", bytes(range(112, 128))),
        (0x00111007, "OV", bytes(range(128, 144))),
        (0x00111008, "SV", [-(2**62), 9007199254740993]),
        (0x00111009, "UV", [2**64 - 1]),
    ):
        ds.add_new(tag, vr, value)
    ds.add_new(0x00110010, "LO", "DWCS UNIT")
    return ds


def _corpus_datasets() -> dict[str, Dataset]:
    metadata = build_metadata_corpus("unit")
    multiframe, rgb = build_first_series("unit")
    instances = [*metadata.values(), build_implicit_private("unit"), multiframe, rgb, build_implicit("unit", "1.2")]
    return {"edge-cases": _edge_cases(), **{instance.name: instance.dataset for instance in instances}}


DATASETS = _corpus_datasets()


# --- the reference ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_the_reference_is_the_property_copys_without_group_lengths(name: str) -> None:
    dataset = DATASETS[name]
    assert reference_json(dataset) == _without_group_lengths(property_reference_json(dataset))


@pytest.mark.parametrize("name", DATASETS)
def test_the_reference_is_the_metadata_checks_stored_form(name: str) -> None:
    # The metadata checks' normalisation, as it was: annex_f_form over pydicom's own JSON.
    assert reference_json(DATASETS[name]) == annex_f_form(DATASETS[name].to_json_dict())


def test_the_reference_follows_annex_f() -> None:
    reference = reference_json(_edge_cases())
    assert not [key for key in reference if key.endswith("0000")]  # F.2.2: no group lengths
    assert "00080000" not in reference["00081032"]["Value"][0]  # nor inside an item
    assert reference["00081032"]["Value"][1] == {}
    assert reference["00081110"] == {"vr": "SQ"}  # F.2.5: an empty sequence has no Value
    assert reference["00080090"] == {"vr": "PN"}  # F.2.5: nor an empty attribute
    assert reference["00181020"]["Value"] == ["1.0", None, "beta 2"]  # F.2.5: null for an empty value
    assert reference["00081050"]["Value"] == [
        {"Ideographic": "山田^太郎"},
        {"Alphabetic": "Smith^John", "Phonetic": "スミス"},
    ]
    assert reference["00111001"] == {"vr": "OB", "InlineBinary": base64.b64encode(bytes(range(16))).decode()}


def test_the_coverage_instance_holds_a_group_length_the_reference_leaves_out() -> None:
    group_length = f"{GROUP_LENGTH_GROUP:04X}0000"
    assert group_length in DATASETS[COVERAGE].to_json_dict()  # pydicom keeps it, as the property copy did
    assert group_length not in stored_json(build_metadata_corpus("unit")[COVERAGE])


def test_a_person_name_without_any_group_is_null() -> None:
    # F.2.2 and F.2.5; pydicom never writes one, so only JSON from elsewhere can hold it.
    form = annex_f_form({"00100010": {"vr": "PN", "Value": [{"Alphabetic": "A"}, {"Alphabetic": ""}]}})
    assert form["00100010"]["Value"] == [{"Alphabetic": "A"}, None]
    assert canonical_element(form["00100010"]) == ("PN", ((("Alphabetic", "A"),), None))


@settings(max_examples=60)
@given(spec=_PROPERTY["dataset_specs"](_PROPERTY["FAMILIES"]))
def test_generated_instances_have_the_property_copys_reference(spec: Any) -> None:
    dataset = _PROPERTY["build_instance"](spec, "unit").dataset
    assert reference_json(dataset) == property_reference_json(dataset)


# --- the property checks' comparison ---------------------------------------------------------------------------------


def _answers(reference: DatasetJson) -> list[DatasetJson]:
    """What servers answer: the reference, and each departure Annex F permits or forbids."""

    def changed(key: str, element: Any) -> DatasetJson:
        return {**reference, key: element}

    ob = reference["00111001"]
    return [
        reference,
        {key: element for key, element in reference.items() if key != "00100010"},  # a missing attribute
        {key: element for key, element in reference.items() if element.get("vr") not in BULK_VRS},  # binary left out
        changed("00100020", {"vr": "LO", "Value": ["extra"]}),  # an attribute that was not stored
        changed("00280030", {"vr": "FD", "Value": [0.5, 0.25]}),  # another VR
        changed("00280030", {"vr": "DS", "Value": ["0.5", "2.5E-1"]}),  # numbers as strings (F.2.3)
        changed("00280030", {"vr": "DS", "Value": [0.5]}),  # a value lost
        changed("00280030", {"vr": "DS", "BulkDataURI": "http://x/bulk/00280030"}),  # PS3.18 10.4.3.3.2
        changed("00180086", {"vr": "IS", "Value": ["+001", "-2", 3, "7"]}),
        changed("00180086", {"vr": "IS", "Value": [1, -2, 3, 8]}),
        changed("00111008", {"vr": "SV", "Value": ["-4611686018427387904", 9007199254740993]}),
        changed("00111009", {"vr": "UV", "Value": [2**64 - 2]}),
        changed("00181149", {"vr": "FL", "Value": [0.10000000149011612, -2.25]}),  # the float32 of 0.1
        changed("00181149", {"vr": "FL", "Value": [0.1000001, -2.25]}),
        changed("00181149", {"vr": "FL", "Value": ["0.1", -2.25]}),  # FL is a JSON Number only
        changed("00081163", {"vr": "FD", "Value": [0.1, 3.14159265358979]}),
        changed("00100010", {"vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎"}]}),
        changed("00081050", {"vr": "PN", "Value": [{"Alphabetic": "", **IDEOGRAPHIC_ONLY}, NO_IDEOGRAPHIC]}),
        changed("00081050", {"vr": "PN", "Value": [{"Ideographic": "山田^太郎 "}, {"Alphabetic": "Smith^John"}]}),
        changed("00181020", {"vr": "LO", "Value": ["1.0", "", "beta 2"]}),  # "" where null is due
        changed("00181020", {"vr": "LO", "Value": ["1.0", None, "beta 2"]}),
        changed("00080090", {"vr": "PN", "Value": [None]}),
        changed("00081110", {"vr": "SQ", "Value": []}),
        changed("00081110", {"vr": "SQ", "Value": [{}]}),
        changed("00081032", {"vr": "SQ", "Value": [{}, {"00080100": {"vr": "SH", "Value": ["X"]}}]}),
        changed("00081032", {"vr": "SQ", "Value": [{"00080100": {"vr": "SH", "Value": ["X"]}}]}),
        changed("00280009", {"vr": "AT", "Value": ["00181063"]}),
        changed("00280009", {"vr": "AT", "Value": ["0018106"]}),
        changed("00111001", {"vr": "OB", "BulkDataURI": "http://x/bulk/00111001"}),
        changed("00111001", {"vr": "OB", "Value": [1]}),
        changed("00111001", {"vr": "OB", "InlineBinary": "AAAA"}),
        changed("00111001", {"vr": "OB", "InlineBinary": "not base64!"}),
        changed("00111001", {**ob, "vr": "UN"}),
        changed("00110010", {"vr": "LO", "BulkDataURI": "http://x/bulk/00110010"}),  # LO may not be one
        changed("00081032", "not an attribute"),
    ]


@pytest.mark.parametrize("omit", [False, True], ids=["standard", "binary-may-be-omitted"])
def test_metadata_differences_are_the_property_copys(omit: bool) -> None:
    reference = reference_json(_edge_cases())
    assert reference == _without_group_lengths(property_reference_json(_edge_cases()))
    for answer in [*_answers(reference), "not an object"]:
        ours = metadata_differences(reference, answer, binary_may_be_omitted=omit)
        theirs = property_differences(reference, answer, binary_may_be_omitted=omit)
        assert ours == theirs, answer


def test_an_answer_with_a_group_length_differs_from_the_reference() -> None:
    # F.2.2: a group length in the answer is an attribute the reference does not have.
    reference = reference_json(_edge_cases())
    answer = {**reference, "00080000": {"vr": "UL", "Value": [42]}}
    assert metadata_differences(reference, answer, binary_may_be_omitted=False) == [
        "(0008,0000): not in the stored instance ({'vr': 'UL', 'Value': [42]})"
    ]


SAME_VALUE_CASES = [
    ("DS", 10000000000.0, "1E10"),
    ("DS", 10000000000.0, 1410065408),
    ("DS", 0.5, " 0.50 "),
    ("DS", 0.5, "abc"),
    ("DS", 0.5, True),
    ("IS", 12, "+0012"),
    ("IS", 7, "7.0"),
    ("IS", 7, 7.0),
    ("UV", 2**64 - 1, "18446744073709551615"),
    ("SV", -(2**62), -(2**62)),
    ("FD", -2.5e-300, 0),
    ("FD", 0.5, "0.5"),
    ("FL", 0.10000000149011612, 0.1),
    ("FL", 0.10000000149011612, 0.1000001),
    ("US", 3, 3.0),
    ("US", 3, True),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": "Doe", "Ideographic": ""}),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": "Doe "}),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": ""}),
    ("PN", {"Alphabetic": "Doe"}, ""),
    ("LO", None, ""),
    ("LO", None, None),
    ("LO", "A", "A "),
    ("AT", "00181063", "00181063"),
    ("UI", "1.2", "1.2"),
]


@pytest.mark.parametrize(("vr", "expected", "actual"), SAME_VALUE_CASES)
def test_same_value_is_the_property_copys(vr: str, expected: Any, actual: Any) -> None:
    assert same_value(vr, expected, actual) is property_same_value(vr, expected, actual)


def test_one_name_for_each_vr_set() -> None:
    assert _PROPERTY["BULKDATA_URI_VRS"] == BULKDATA_URI_VRS
    # The property module's BINARY_VRS is BULK_VRS | {"OV"}: the same set, one name too many.
    assert _PROPERTY.get("BINARY_VRS", BULK_VRS) == BULK_VRS
