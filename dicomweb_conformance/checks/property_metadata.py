"""The reference metadata of the property checks: pydicom's own DICOM JSON of the stored file, compared with a
server's as far as PS3.18 Annex F lets it vary. (The Annex F block below moved here verbatim from
fixtures/property_fixtures.py; it is to be replaced by the one Annex F oracle, dicom/annex_f.py.)"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from dicomweb_conformance.dicom.dicomjson import DatasetJson
from dicomweb_conformance.dicom.generators import BINARY_VRS

# --- the reference metadata: pydicom's own DICOM JSON, read the way PS3.18 Annex F allows -----------------------------

# PS3.18 10.4.3.3.2: the origin server may replace the value of these VRs with a Bulkdata URI.
BULKDATA_URI_VRS = frozenset(
    "DS FL FD IS LT OB OD OF OL OV OW SL SS ST SV UC UL UN US UT UV".split()  # noqa: SIM905
)


def reference_json(dataset: Dataset) -> DatasetJson:
    """pydicom's to_json_dict, with its departures from Annex F undone (see _annex_f_element)."""
    return reference_item(dataset.to_json_dict())


def _annex_f_element(element: dict[str, Any]) -> dict[str, Any]:
    normalized = dict(element)
    value = normalized.pop("Value", None)
    if not value:
        # F.2.5: an empty attribute has no "Value" (pydicom writes [] for an empty sequence).
        return normalized
    if element.get("vr") == "SQ":
        normalized["Value"] = [reference_item(item) for item in value]
    elif element.get("vr") == "PN":
        normalized["Value"] = [_name_groups(v) for v in value]
    else:
        # F.2.5: an empty value among several is null (pydicom writes "").
        normalized["Value"] = [None if v == "" else v for v in value]
    return normalized


def reference_item(item: DatasetJson) -> DatasetJson:
    return {key: _annex_f_element(element) for key, element in item.items()}


def _name_groups(value: Any) -> Any:
    # F.2.2: only the non-empty component groups of a PN value are encoded.
    if not isinstance(value, dict):
        return value
    groups = {name: text for name, text in value.items() if text}
    return groups or None


def metadata_differences(
    expected: DatasetJson, actual: Any, *, binary_may_be_omitted: bool, path: str = ""
) -> list[str]:
    """Every way `actual` (a server's DICOM JSON) departs from `expected` beyond what Annex F permits."""
    if not isinstance(actual, dict):
        return [f"{path or 'dataset'}: not a JSON object"]
    problems: list[str] = []
    for key, element in expected.items():
        where = f"{path}{_label(key)}"
        if key not in actual:
            # Azure profile: binary VRs are left out of metadata, as its conformance statement documents.
            if not (binary_may_be_omitted and element.get("vr") in BINARY_VRS):
                problems.append(f"{where}: missing (expected {_short(element)})")
            continue
        problems += _element_differences(element, actual[key], where, binary_may_be_omitted)
    problems += [
        f"{path}{_label(key)}: not in the stored instance ({_short(actual[key])})"
        for key in actual
        if key not in expected
    ]
    return problems


def _label(key: str) -> str:
    try:
        name = keyword_for_tag(int(key, 16))
    except ValueError:
        name = ""
    return f"({key[:4]},{key[4:]}){' ' + name if name else ''}"


def _short(element: Any) -> str:
    text = repr(element)
    return text if len(text) <= 160 else text[:157] + "..."


def _element_differences(expected: dict[str, Any], actual: Any, where: str, omit_binary: bool) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{where}: not a JSON object ({_short(actual)})"]
    vr = expected.get("vr")
    if actual.get("vr") != vr:
        return [f"{where}: vr {actual.get('vr')!r}, expected {vr!r}"]
    if "BulkDataURI" in actual and vr in BULKDATA_URI_VRS:
        return []  # PS3.18 10.4.3.3.2, F.2.6
    if vr in BINARY_VRS:
        return _binary_differences(expected, actual, where)
    if "Value" not in expected or "Value" not in actual:
        if ("Value" in expected) != ("Value" in actual):
            return [f"{where}: expected {_short(expected)}, got {_short(actual)}"]
        return []
    wanted, found = expected["Value"], actual["Value"]
    if not isinstance(found, list) or len(found) != len(wanted):
        return [f"{where}: expected {len(wanted)} value(s) {_short(wanted)}, got {_short(found)}"]
    if vr == "SQ":
        return [
            problem
            for index, (item, got) in enumerate(zip(wanted, found, strict=True))
            for problem in metadata_differences(item, got, binary_may_be_omitted=omit_binary, path=f"{where}[{index}].")
        ]
    if all(same_value(str(vr), w, f) for w, f in zip(wanted, found, strict=True)):
        return []
    return [f"{where}: expected {_short(wanted)}, got {_short(found)}"]


def _binary_differences(expected: dict[str, Any], actual: dict[str, Any], where: str) -> list[str]:
    # F.2.2: a binary VR is InlineBinary (F.2.7) or BulkDataURI (F.2.6), never a "Value" array.
    if "Value" in actual:
        return [f"{where}: a binary VR given as a Value array ({_short(actual)})"]
    try:
        found = base64.b64decode(actual.get("InlineBinary", ""), validate=True)
    except (ValueError, TypeError):
        return [f"{where}: InlineBinary is not base64 ({_short(actual['InlineBinary'])})"]
    wanted = base64.b64decode(expected.get("InlineBinary", ""))
    if found != wanted:
        return [f"{where}: {len(wanted)} bytes stored, InlineBinary holds {len(found)} other bytes ({_short(actual)})"]
    return []


def same_value(vr: str, expected: Any, actual: Any) -> bool:
    """One value of `vr` in DICOM JSON equals the reference, as Table F.2.3-1 types it."""
    if expected is None or actual is None:
        return expected is actual
    if vr in ("IS", "DS", "SV", "UV"):
        # Table F.2.3-1: "Number or String", a string keeping the original format or the precision.
        return _number(actual) == (float(expected) if vr == "DS" else expected)
    if vr in ("FL", "FD", "SL", "SS", "UL", "US"):
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False  # Table F.2.3-1: a JSON Number
        return bool(np.float32(actual) == np.float32(expected)) if vr == "FL" else bool(actual == expected)
    if vr == "PN":
        return bool(_name_groups(actual) == expected)
    return bool(actual == expected)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return None
