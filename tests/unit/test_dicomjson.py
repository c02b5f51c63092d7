"""The DICOM JSON model check (PS3.18 Annex F) finds each kind of mistake."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom import Dataset

from dicomweb_conformance.dicom.dicomjson import key, shape_problems


def test_pydicoms_own_json_is_clean() -> None:
    dataset = Dataset()
    item = Dataset()
    item.CodeValue = "X"
    dataset.ProcedureCodeSequence = [item]
    dataset.PatientName = "Doe^John"
    dataset.StudyInstanceUID = "1.2.3"
    dataset.Rows = 8  # added in tag order: to_json_dict keeps insertion order
    assert shape_problems(dataset.to_json_dict()) == []


@pytest.mark.parametrize(
    ("dataset", "fragment"),
    [
        ({"0020000d": {"vr": "UI", "Value": ["1.2"]}}, "eight uppercase hex"),
        ({"0020000D": {"Value": ["1.2"]}}, "not a DICOM VR"),
        ({"0020000D": {"vr": "UI", "Value": "1.2"}}, "non-empty array"),
        ({"00100010": {"vr": "PN", "Value": ["Doe^John"]}}, "not an object of name groups"),
        ({"00200010": {"vr": "SH", "Value": ["1"]}, "0020000D": {"vr": "UI", "Value": ["1"]}}, "ascending tag order"),
        ({"00080000": {"vr": "UL", "Value": [4]}}, "group length"),
        ({"00081032": {"vr": "SQ", "Value": [{"00080100": {"vr": "XX"}}]}}, "00081032[0].00080100"),
    ],
)
def test_each_mistake_is_named(dataset: dict[str, Any], fragment: str) -> None:
    assert any(fragment in problem for problem in shape_problems(dataset)), shape_problems(dataset)


def test_keywords_map_to_tag_keys() -> None:
    assert key("StudyInstanceUID") == "0020000D"
