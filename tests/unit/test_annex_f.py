"""The one Annex F oracle (dicom/annex_f.py) gives every caller the answers it relied on.

The property checks had their own copy of the reference and the comparison; before it was removed, the oracle was
shown to answer as that copy did on every corpus dataset, 60 generated instances and the answers below, except that
the copy kept group lengths (gggg,0000) in the reference, which PS3.18 F.2.2 leaves out of DICOM JSON. The counts
and booleans written out here are that copy's answers, pinned.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
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
    annex_f_form,
    canonical_element,
    metadata_differences,
    reference_json,
    same_value,
    stored_json,
)
from dicomweb_conformance.dicom.dicomjson import BULK_VRS, DatasetJson

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


# How many differences each answer of _answers() (then "not an object") has, as the property checks' copy counted.
DIFFERENCES = {
    False: [0, 1, 7, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 2, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1],
    True: [0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 2, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1],
}


@pytest.mark.parametrize("omit", [False, True], ids=["standard", "binary-may-be-omitted"])
def test_metadata_differences_count_what_annex_f_forbids(omit: bool) -> None:
    reference = reference_json(_edge_cases())
    answers = [*_answers(reference), "not an object"]
    counts = [len(metadata_differences(reference, answer, binary_may_be_omitted=omit)) for answer in answers]
    assert counts == DIFFERENCES[omit]


def test_an_answer_with_a_group_length_differs_from_the_reference() -> None:
    # F.2.2: a group length in the answer is an attribute the reference does not have.
    reference = reference_json(_edge_cases())
    answer = {**reference, "00080000": {"vr": "UL", "Value": [42]}}
    assert metadata_differences(reference, answer, binary_may_be_omitted=False) == [
        "(0008,0000): not in the stored instance ({'vr': 'UL', 'Value': [42]})"
    ]


SAME_VALUE_CASES = [
    ("DS", 10000000000.0, "1E10", True),
    ("DS", 10000000000.0, 1410065408, False),
    ("DS", 0.5, " 0.50 ", True),
    ("DS", 0.5, "abc", False),
    ("DS", 0.5, True, False),
    ("IS", 12, "+0012", True),
    ("IS", 7, "7.0", True),
    ("IS", 7, 7.0, True),
    ("UV", 2**64 - 1, "18446744073709551615", True),
    ("SV", -(2**62), -(2**62), True),
    ("FD", -2.5e-300, 0, False),
    ("FD", 0.5, "0.5", False),
    ("FL", 0.10000000149011612, 0.1, True),
    ("FL", 0.10000000149011612, 0.1000001, False),
    ("US", 3, 3.0, True),
    ("US", 3, True, False),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": "Doe", "Ideographic": ""}, True),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": "Doe "}, False),
    ("PN", {"Alphabetic": "Doe"}, {"Alphabetic": ""}, False),
    ("PN", {"Alphabetic": "Doe"}, "", False),
    ("LO", None, "", False),
    ("LO", None, None, True),
    # PS3.5 Table 6.2-1: an LO's leading and trailing spaces are insignificant (the depth checks' canonical form
    # said so already; this oracle compared the padding until a real file's odd-length value showed it).
    ("LO", "A", "A ", True),
    ("LO", "A", "B ", False),
    ("ST", " A", "A", False),
    ("AT", "00181063", "00181063", True),
    ("UI", "1.2", "1.2", True),
]


@pytest.mark.parametrize(("vr", "expected", "actual", "same"), SAME_VALUE_CASES)
def test_same_value_as_table_f_2_3_1_types_it(vr: str, expected: Any, actual: Any, same: bool) -> None:
    assert same_value(vr, expected, actual) is same
