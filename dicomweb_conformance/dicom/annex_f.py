"""The one Annex F oracle: the stored dataset in the form PS3.18 Annex F prescribes, and the comparisons that
remove exactly what Annex F lets differ.

One reference for every caller: pydicom's own DICOM JSON (`Dataset.to_json_dict`, bulk values inline), with its
departures from Annex F undone (`annex_f_form`): no group lengths (F.2.2), only the non-empty component groups of a
PN value and null for a value with none (F.2.2, F.2.5), no "Value" for an empty attribute or sequence and null for an
empty value among several (F.2.5). `stored_json` (a sample instance) and `reference_json` (a dataset) both give it.

Two readings of a server's answer against it, each for the callers that read an answer their way:

- attribute by attribute, in canonical form (`canonical_element`, `differences`): the metadata, transcoding and
  change-feed checks, which read numbers as written (Decimal) and dereference BulkDataURIs before comparing;
- the whole dataset at once (`metadata_differences`, `same_value`): the property checks, which accept a BulkDataURI
  wherever PS3.18 10.4.3.3.2 allows one without following it, and may let binary VRs be left out (Azure profile).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from dicomweb_conformance.dicom.dicomjson import BULK_VRS, DatasetJson, attribute_name, inline_binary, show
from dicomweb_conformance.dicom.samples import SampleInstance

# --- the reference: the stored dataset in DICOM JSON ------------------------------------------------------------------


def reference_json(dataset: Dataset) -> DatasetJson:
    """pydicom's own DICOM JSON of `dataset` (bulk values inline), in the form Annex F prescribes."""
    return annex_f_form(dataset.to_json_dict())


def stored_json(instance: SampleInstance) -> DatasetJson:
    """The reference DICOM JSON of a stored sample instance."""
    return reference_json(instance.dataset)


def annex_f_form(dataset: Mapping[str, Any]) -> DatasetJson:
    """Where pydicom's JSON departs from Annex F, the Annex F form.

    F.2.2: no group length attributes, and only the non-empty PN component groups.
    F.2.5: an empty sequence has no "Value"; an empty value of a multi-valued attribute is null.
    """
    form: DatasetJson = {}
    for key, element in dataset.items():
        if key.endswith("0000"):
            continue
        vr = str(element["vr"])
        converted: dict[str, Any] = {**element, "vr": vr}
        if "Value" in element:
            converted["Value"] = [_annex_f_value(vr, value) for value in element["Value"] or []]
            if not converted["Value"]:
                del converted["Value"]
        form[key] = converted
    return form


def _annex_f_value(vr: str, value: Any) -> Any:
    if vr == "SQ":
        return annex_f_form(value)
    if vr == "PN":
        return _name_groups(value)
    return None if value == "" else value


def _name_groups(value: Any) -> Any:
    # F.2.2: only the non-empty component groups of a PN value are encoded; F.2.5: a value with none is null.
    if not isinstance(value, dict):
        return None if value == "" else value
    groups = {name: text for name, text in value.items() if text}
    return groups or None


# --- canonical form: what Annex F lets differ, and nothing else -------------------------------------------------------

# PS3.5 Table 6.2-1: where leading and trailing spaces are not significant, and where only trailing ones are.
_PADDED_BOTH_ENDS = frozenset({"AE", "CS", "LO", "SH"})
_PADDED_AT_END = frozenset({"AS", "DA", "DT", "LT", "PN", "ST", "TM", "UC", "UR", "UT"})
_BINARY_INTEGERS = frozenset({"SL", "SS", "UL", "US"})
_BINARY_NUMBERS = frozenset({"FL", "FD"}) | _BINARY_INTEGERS
# Table F.2.3-1: "Number or String".
_NUMBER_OR_STRING = frozenset({"IS", "DS", "SV", "UV"})
_INTEGER_PATTERN = re.compile(r"^ *[+-]?[0-9]+ *$")
_DS_PATTERN = re.compile(r"^ *[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? *$")
_HEX_TAG = re.compile(r"^[0-9A-Fa-f]{8}$")


@dataclass(frozen=True)
class Wrong:
    """A value whose JSON type the VR does not allow; it never equals a canonical value."""

    reason: str
    value: Any


def canonical_dataset(dataset: Any) -> dict[str, Any] | Wrong:
    """Every non-bulk attribute in canonical form: bulk VRs and group lengths are compared elsewhere."""
    if not isinstance(dataset, dict):
        return Wrong("not a JSON object", dataset)
    return {
        key: canonical_element(element)
        for key, element in dataset.items()
        if not key.endswith("0000") and not (isinstance(element, dict) and element.get("vr") in BULK_VRS)
    }


def canonical_element(element: Any) -> Any:
    """(vr, values) with every permitted variation removed; values is None for an empty attribute."""
    if not isinstance(element, dict):
        return Wrong("not an attribute object", element)
    vr = element.get("vr")
    if "BulkDataURI" in element or "InlineBinary" in element:
        # resolve_bulk_values() turns an allowed BulkDataURI into a Value before the comparison.
        return Wrong("a bulk reference where a Value was expected", element)
    if "Value" not in element:
        return (vr, None)
    if not isinstance(element["Value"], list):
        return Wrong('"Value" is not an array', element["Value"])
    return (vr, tuple(canonical_value(str(vr), value) for value in element["Value"]))


def canonical_value(vr: str, value: Any) -> Any:
    if value is None:
        return None  # F.2.5: an empty value of a multi-valued attribute
    for vrs, convert in _CONVERTERS:
        if vr in vrs:
            return convert(vr, value)
    return _text(vr, value)


def _sequence_item(vr: str, value: Any) -> Any:
    return canonical_dataset(value)


def _person_name(vr: str, value: Any) -> Any:
    # F.2.2: an object of component groups; PS3.5 6.2: trailing spaces are not significant.
    if not isinstance(value, dict) or not all(isinstance(text, str) for text in value.values()):
        return Wrong("PN value is not an object of strings", value)
    return tuple(sorted((group, text.rstrip(" ")) for group, text in value.items()))


def _number_or_string(vr: str, value: Any) -> Any:
    # F.2.3: IS, DS, SV and UV are JSON Numbers, or Strings that keep the original format; both denote the value.
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, str) and (_DS_PATTERN if vr == "DS" else _INTEGER_PATTERN).match(value):
        number = Decimal(value.strip())
    else:
        return Wrong(f"not a JSON Number or a valid {vr} string", value)
    if vr != "DS" and number != number.to_integral_value():
        return Wrong(f"{vr} value is not an integer", value)
    return number


def _binary_number(vr: str, value: Any) -> Any:
    # Table F.2.3-1: Number. FL is compared as the 32-bit float it is, FD as a double, the others as integers.
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return Wrong("not a JSON Number", value)
    if vr == "FL":
        return float(np.float32(float(value)))
    if vr == "FD":
        return float(value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return Wrong("not a number", value)
    return int(number) if number == number.to_integral_value() else Wrong("not an integer", value)


def _attribute_tag(vr: str, value: Any) -> Any:
    # Table F.2.3-1: AT is a String of the tag's eight hexadecimal digits.
    return int(value, 16) if isinstance(value, str) and _HEX_TAG.match(value) else Wrong("not ggggeeee", value)


def _text(vr: str, value: Any) -> Any:
    if not isinstance(value, str):
        return Wrong("not a JSON String", value)
    if vr in _PADDED_BOTH_ENDS:
        return value.strip(" ")
    if vr in _PADDED_AT_END:
        return value.rstrip(" ")
    return value.rstrip("\x00") if vr == "UI" else value  # PS3.5 6.2: UI is padded with a trailing NUL


_CONVERTERS: tuple[tuple[frozenset[str], Callable[[str, Any], Any]], ...] = (
    (frozenset({"SQ"}), _sequence_item),
    (frozenset({"PN"}), _person_name),
    (_NUMBER_OR_STRING, _number_or_string),
    (_BINARY_NUMBERS, _binary_number),
    (frozenset({"AT"}), _attribute_tag),
)


def differences(actual: DatasetJson, expected: DatasetJson, keys: Sequence[str]) -> list[str]:
    """One line per attribute of `keys` whose metadata differs from the stored dataset."""
    lines = []
    for key in keys:
        if canonical_element(actual.get(key)) != canonical_element(expected.get(key)):
            lines.append(
                f"{attribute_name(key)} ({key}): stored {show(expected.get(key))}, got {show(actual.get(key))}"
            )
    return lines


def non_bulk_keys(dataset: DatasetJson) -> list[str]:
    return [key for key, element in dataset.items() if element.get("vr") not in BULK_VRS]


# --- the whole dataset at once (the property checks) ------------------------------------------------------------------

# PS3.18 10.4.3.3.2: the origin server may replace the value of these VRs with a Bulkdata URI.
BULKDATA_URI_VRS = frozenset(
    "DS FL FD IS LT OB OD OF OL OV OW SL SS ST SV UC UL UN US UT UV".split()  # noqa: SIM905
)


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
            if not (binary_may_be_omitted and element.get("vr") in BULK_VRS):
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
    if vr in BULK_VRS:
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
    found = inline_binary(actual)
    if found is None:
        return [f"{where}: InlineBinary is not base64 ({_short(actual['InlineBinary'])})"]
    wanted = base64.b64decode(expected.get("InlineBinary", ""))
    if found != wanted:
        return [f"{where}: {len(wanted)} bytes stored, InlineBinary holds {len(found)} other bytes ({_short(actual)})"]
    return []


def same_value(vr: str, expected: Any, actual: Any) -> bool:
    """One value of `vr` in DICOM JSON equals the reference, as Table F.2.3-1 types it."""
    if expected is None or actual is None:
        return expected is actual
    if vr in _NUMBER_OR_STRING:
        # Table F.2.3-1: "Number or String", a string keeping the original format or the precision.
        return _number(actual) == (float(expected) if vr == "DS" else expected)
    if vr in _BINARY_NUMBERS:
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False  # Table F.2.3-1: a JSON Number
        return bool(np.float32(actual) == np.float32(expected)) if vr == "FL" else bool(actual == expected)
    if vr == "PN":
        return bool(_name_groups(actual) == expected)
    if isinstance(actual, str) and isinstance(expected, str):
        # PS3.5 Table 6.2-1: the padding of a text value is insignificant (pydicom strips it when reading).
        return bool(_text(vr, actual) == _text(vr, expected))
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
