"""Proxy rules for the metadata checks (suites/metadata). Each fault breaks one promise those checks verify; each
tolerated variation is something PS3.18 Annex F allows, which the checks must accept; each repair hides what
Orthanc 1.10.1 + DICOMweb 1.7, or the Azure facade in front of it, gets wrong, so the checks it blocks can be seen
passing. The rules recognise the corpus instances by their private creators (corpora/metadata.py).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

from dicomweb_conformance.corpora.metadata import (
    BULK_PATHS,
    ICON_PIXELS,
    IMPLICIT_PRIVATE_CREATOR,
    IMPLICIT_PRIVATE_GROUP,
    IMPLICIT_PRIVATE_KEYS,
    LARGE_DECIMALS,
    PRIVATE_CREATOR,
    PRIVATE_ELEMENTS,
    PRIVATE_GROUP,
)
from dicomweb_conformance.dicom.dicomjson import BULK_VRS
from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import (
    DICOM_JSON,
    INSTANCE,
    INSTANCE_METADATA,
    SERIES_METADATA,
    STUDY_METADATA,
    Action,
    MimePart,
    ProxyRule,
    adding_accept,
    answer,
    distort_json,
    distort_parts,
    without_accept,
)

Json = Any
Dataset = dict[str, Json]

ANY_METADATA = rf"(?:{STUDY_METADATA})|(?:{SERIES_METADATA})|(?:{INSTANCE_METADATA})"
BULK = rf"{INSTANCE.removesuffix('$')}/bulk/[0-9A-Fa-f/]+$"
# What identifies an instance in a metadata answer: never changed, so the checks find their datasets.
IDENTIFYING = frozenset({"00080018", "0020000D", "0020000E"})
ISO_2022_IR_87 = "ISO 2022 IR 87"
PRIVATE_KEY = f"{PRIVATE_GROUP:04X}10{{:02X}}"
# Orthanc hands these bulk VRs out as one number or drops them; the repair gives them inline (F.2.7).
ORTHANC_MISHANDLED_BULK = frozenset({"OD", "OF", "OL", "OV"})


# --- walking a metadata answer -------------------------------------------------------------------------------------


def attributes(dataset: Dataset) -> Iterator[tuple[str, dict[str, Json]]]:
    """(key, attribute object) of every attribute, depth first, into every sequence item."""
    for key, element in list(dataset.items()):
        if not isinstance(element, dict):
            continue
        yield key, element
        if element.get("vr") == "SQ":
            for item in element.get("Value", []):
                if isinstance(item, dict):
                    yield from attributes(item)


def created_by(dataset: Dataset, group: int, creator: str) -> bool:
    return bool(dataset.get(f"{group:04X}0010", {}).get("Value") == [creator])


def is_coverage(dataset: Dataset) -> bool:
    return created_by(dataset, PRIVATE_GROUP, PRIVATE_CREATOR)


def is_implicit(dataset: Dataset) -> bool:
    return created_by(dataset, IMPLICIT_PRIVATE_GROUP, IMPLICIT_PRIVATE_CREATOR)


def sort_keys(dataset: Dataset) -> None:
    """F.2.2 order again after an attribute was added."""
    ordered = sorted(dataset.items())
    dataset.clear()
    dataset.update(ordered)


def each_dataset(change: Callable[[Dataset], None]) -> Action:
    def changed(document: Json) -> Json:
        for dataset in document:
            change(dataset)
        return document

    return distort_json(changed)


def each_attribute(change: Callable[[str, dict[str, Json]], None]) -> Action:
    def changed(dataset: Dataset) -> None:
        for key, element in attributes(dataset):
            change(key, element)

    return each_dataset(changed)


def each_value(vrs: frozenset[str], change: Callable[[Json], Json]) -> Action:
    """Every non-null value of every attribute of `vrs`, identifying UIDs left alone."""

    def changed(key: str, element: dict[str, Json]) -> None:
        if element.get("vr") in vrs and key not in IDENTIFYING and isinstance(element.get("Value"), list):
            element["Value"] = [None if value is None else change(value) for value in element["Value"]]

    return each_attribute(changed)


def inline(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _metadata(name: str, breaks: str, action: Action, path: str = ANY_METADATA) -> ProxyRule:
    return ProxyRule(name, breaks, "GET", path, action, accept=re.escape(DICOM_JSON))


# --- faults: one broken promise each ----------------------------------------------------------------------------------


def _nested_items(dataset: Dataset, sequence: str) -> list[Dataset]:
    items = dataset.get(sequence, {}).get("Value", [])
    return [item for item in items if isinstance(item, dict)]


def _lowercase_nested_key(dataset: Dataset) -> None:
    for item in _nested_items(dataset, "00880200"):
        if "7FE00010" in item:
            item["7fe00010"] = item.pop("7FE00010")


def _reverse_nested_keys(dataset: Dataset) -> None:
    for item in _nested_items(dataset, "00400275"):
        reversed_items = list(reversed(item.items()))
        item.clear()
        item.update(reversed_items)


def _drop_nested_vr(dataset: Dataset) -> None:
    for item in _nested_items(dataset, "00400275"):
        for code in _nested_items(item, "00400008"):
            code.get("00080100", {}).pop("vr", None)


def _value_and_inline_binary(dataset: Dataset) -> None:
    if "00080070" in dataset:
        dataset["00080070"]["InlineBinary"] = inline(b"\x00\x01")


def _nested_group_length(dataset: Dataset) -> None:
    for item in _nested_items(dataset, "00400275"):
        item["00400000"] = {"vr": "UL", "Value": [0]}
        sort_keys(item)


def _drop_group_0018(dataset: Dataset) -> None:
    if is_coverage(dataset):
        for key in [key for key in dataset if key.startswith("0018")]:
            del dataset[key]


def _pn_extra_member(key: str, element: dict[str, Json]) -> None:
    if element.get("vr") == "PN":
        element["Value"] = [
            {**value, "Given": "Extra"} if isinstance(value, dict) else value for value in element.get("Value", [])
        ]


def _pn_groups_merged(dataset: Dataset) -> None:
    for value in dataset.get("00100010", {}).get("Value", []):
        if isinstance(value, dict) and "Ideographic" in value:
            merged = "=".join(value.get(group, "") for group in ("Alphabetic", "Ideographic", "Phonetic"))
            value.clear()
            value["Alphabetic"] = merged


def _swap_sequence_items(dataset: Dataset) -> None:
    if "00400275" in dataset:
        dataset["00400275"]["Value"] = list(reversed(dataset["00400275"]["Value"]))


def _empty_as_empty_string(key: str, element: dict[str, Json]) -> None:
    if set(element) == {"vr"}:
        element["Value"] = [] if element["vr"] == "SQ" else [""]


def _null_as_empty_string(key: str, element: dict[str, Json]) -> None:
    if isinstance(element.get("Value"), list):
        element["Value"] = ["" if value is None else value for value in element["Value"]]


def _empty_item_as_null(dataset: Dataset) -> None:
    if "00081120" in dataset:
        dataset["00081120"]["Value"] = [None]


def _pn_empty_groups(key: str, element: dict[str, Json]) -> None:
    if element.get("vr") == "PN":
        groups = ("Alphabetic", "Ideographic", "Phonetic")
        element["Value"] = [
            {group: value.get(group, "") for group in groups} if isinstance(value, dict) else value
            for value in element.get("Value", [])
        ]


def _altered(vr: str, value: Json) -> Json:
    if vr == "PN":
        return {**value, "Alphabetic": value.get("Alphabetic", "") + "X"}
    if vr == "AT":
        return "00000000"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + 1
    return value + ("9" if vr == "UI" else "X") if isinstance(value, str) else value


def _alter_values(key: str, element: dict[str, Json]) -> None:
    vr = element.get("vr")
    if key not in IDENTIFYING and vr not in BULK_VRS and vr != "SQ" and isinstance(element.get("Value"), list):
        element["Value"] = [None if value is None else _altered(str(vr), value) for value in element["Value"]]


def _six_digits(value: Json) -> Json:
    return float(f"{float(value):.6g}")


def _rename_creator(dataset: Dataset) -> None:
    if is_coverage(dataset):
        dataset[f"{PRIVATE_GROUP:04X}0010"]["Value"] = ["OTHER CREATOR"]


def _study_date_as_dt(dataset: Dataset) -> None:
    if "00080020" in dataset:
        dataset["00080020"]["vr"] = "DT"


# What a server that keeps only its index would answer at the study level (Orthanc's "MainDicomTags" mode).
_MAIN_TAGS = frozenset(
    {"00080005", "00080016", "00080018", "00080020", "00080030", "00080050", "00080060"}
    | {"00100010", "00100020", "0020000D", "0020000E", "00200013"}
)


def _main_tags_only(dataset: Dataset) -> None:
    for key in [key for key in dataset if key not in _MAIN_TAGS]:
        del dataset[key]


def _drop_unique_device_identifier(dataset: Dataset) -> None:
    dataset.pop("00181009", None)


def _charset_rewritten(dataset: Dataset) -> None:
    if "00080005" in dataset:
        dataset["00080005"]["Value"] = ["ISO_IR 100"]


def _bulk_as_value(key: str, element: dict[str, Json]) -> None:
    if "BulkDataURI" in element or "InlineBinary" in element:
        element.pop("BulkDataURI", None)
        element.pop("InlineBinary", None)
        element["Value"] = [0]


def _wrong_inline_binary(key: str, element: dict[str, Json]) -> None:
    if "BulkDataURI" in element or "InlineBinary" in element:
        element.pop("BulkDataURI", None)
        element["InlineBinary"] = inline(bytes(16))


def _un_as_ob(dataset: Dataset) -> None:
    if is_implicit(dataset):
        for key in IMPLICIT_PRIVATE_KEYS:
            if key in dataset:
                dataset[key]["vr"] = "OB"


def _flip_last_byte(parts: list[MimePart]) -> list[MimePart]:
    first = parts[0]
    return [first.with_content(first.content[:-1] + bytes([first.content[-1] ^ 0xFF])), *parts[1:]]


_FAULTS = [
    _metadata(
        "metadata-nested-lowercase-key", "keys are uppercase at every depth", each_dataset(_lowercase_nested_key)
    ),
    _metadata("metadata-nested-keys-reversed", "item attributes in tag order", each_dataset(_reverse_nested_keys)),
    _metadata("metadata-nested-vr-dropped", "a vr on every nested attribute", each_dataset(_drop_nested_vr)),
    _metadata(
        "metadata-value-and-inline-binary", "at most one of Value/InlineBinary", each_dataset(_value_and_inline_binary)
    ),
    _metadata("metadata-nested-group-length", "no group length, at any depth", each_dataset(_nested_group_length)),
    _metadata("metadata-drops-group-0018", "a group length goes, its group stays", each_dataset(_drop_group_0018)),
    _metadata("metadata-pn-extra-member", "PN objects hold only the three groups", each_attribute(_pn_extra_member)),
    _metadata("metadata-pn-groups-merged", "PN component groups are split", each_dataset(_pn_groups_merged)),
    _metadata("metadata-sequence-items-swapped", "sequence items in stored order", each_dataset(_swap_sequence_items)),
    _metadata(
        "metadata-empty-as-empty-string", "empty attributes have no Value", each_attribute(_empty_as_empty_string)
    ),
    _metadata("metadata-null-as-empty-string", "empty values are null", each_attribute(_null_as_empty_string)),
    _metadata("metadata-empty-item-as-null", "an empty item is {}", each_dataset(_empty_item_as_null)),
    _metadata(
        "metadata-ds-with-units", "DS is a Number or a DS string", each_value(frozenset({"DS"}), lambda v: f"{v} mm")
    ),
    _metadata("metadata-at-as-number", "AT is a hex string", each_value(frozenset({"AT"}), lambda v: int(v, 16))),
    _metadata("metadata-us-as-string", "US is a JSON Number", each_value(frozenset({"US"}), str)),
    _metadata("metadata-da-as-number", "DA is a JSON String", each_value(frozenset({"DA"}), int)),
    _metadata("metadata-pn-empty-groups", "only non-empty PN groups", each_attribute(_pn_empty_groups)),
    _metadata("metadata-values-altered", "values equal the stored ones", each_attribute(_alter_values)),
    _metadata("metadata-ds-precision-lost", "DS keeps its digits", each_value(frozenset({"DS"}), _six_digits)),
    _metadata(
        "metadata-leading-spaces-stripped",
        "leading spaces of LT and ST are significant",
        each_value(frozenset({"LT", "ST"}), lambda v: v.lstrip(" ")),
    ),
    _metadata("metadata-private-creator-renamed", "the private creator is kept", each_dataset(_rename_creator)),
    _metadata("metadata-vr-changed", "attributes keep their VR", each_dataset(_study_date_as_dt)),
    _metadata(
        "metadata-study-main-tags-only",
        "study metadata holds every attribute",
        each_dataset(_main_tags_only),
        STUDY_METADATA,
    ),
    _metadata(
        "metadata-series-drops-an-attribute",
        "series metadata holds every attribute",
        each_dataset(_drop_unique_device_identifier),
        SERIES_METADATA,
    ),
    _metadata("metadata-charset-rewritten", "Specific Character Set is kept", each_dataset(_charset_rewritten)),
    _metadata("metadata-bulk-as-value", "bulk VRs are references", each_attribute(_bulk_as_value)),
    _metadata("metadata-inline-binary-wrong", "bulk values are the stored bytes", each_attribute(_wrong_inline_binary)),
    _metadata("metadata-un-as-ob", "unknown VRs are UN", each_dataset(_un_as_ob)),
    ProxyRule(
        "bulkdata-flips-a-byte",
        "a BulkDataURI answers the stored bytes",
        "GET",
        BULK,
        distort_parts(_flip_last_byte),
    ),
]


# --- tolerated: what Annex F allows -----------------------------------------------------------------------------------

_PADDED_BOTH_ENDS = frozenset({"AE", "CS", "LO", "SH"})
_PADDED_AT_END = frozenset({"AS", "DA", "DT", "LT", "ST", "TM", "UC", "UR", "UT"})


def _pad_pn(value: Json) -> Json:
    return {group: text + " " for group, text in value.items()}


def _pad(key: str, element: dict[str, Json]) -> None:
    vr, values = element.get("vr"), element.get("Value")
    if key in IDENTIFYING or not isinstance(values, list):
        return
    # PS3.5 Table 6.2-1: spaces these VRs may carry without changing the value; UI is padded with NUL.
    pad: Callable[[Json], Json] | None = {
        **dict.fromkeys(_PADDED_BOTH_ENDS, lambda v: f" {v} "),
        **dict.fromkeys(_PADDED_AT_END, lambda v: f"{v} "),
        "UI": lambda v: f"{v}\x00",
        "PN": _pad_pn,
    }.get(str(vr))
    if pad is not None:
        element["Value"] = [None if value is None else pad(value) for value in values]


def _numbers_as_strings(value: Json) -> Json:
    # F.2.3: IS, DS, SV and UV as Strings; PS3.5 6.2: IS and DS may carry leading and trailing spaces.
    return f" {value} " if isinstance(value, int | float) else value


def _known_bulk_inline(dataset: Dataset) -> None:
    if not is_coverage(dataset):
        return
    for number, (vr, value) in PRIVATE_ELEMENTS.items():
        key = PRIVATE_KEY.format(number)
        if vr in BULK_VRS and key in dataset:
            dataset[key] = {"vr": vr, "InlineBinary": inline(value)}
    for item in _nested_items(dataset, "00880200"):
        item["7FE00010"] = {"vr": item["7FE00010"]["vr"], "InlineBinary": inline(ICON_PIXELS)}


def _text_as_bulk_uri(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    """F.2.2: a UT attribute may come as a BulkDataURI; Orthanc's bulk route answers any attribute's value."""
    root = request.path.split("/studies")[0]

    def change(dataset: Dataset) -> None:
        if "00181009" in dataset:
            uids = [dataset[key]["Value"][0] for key in ("0020000D", "0020000E", "00080018")]
            path = "{}/studies/{}/series/{}/instances/{}/bulk/00181009".format(root, *uids)
            dataset["00181009"] = {"vr": "UT", "BulkDataURI": f"http://{request.headers['Host']}{path}"}

    return each_dataset(change)(request, forward)


TOLERATED = {
    rule.name: rule
    for rule in [
        _metadata("tolerate-insignificant-padding", "padding PS3.5 makes insignificant", each_attribute(_pad)),
        _metadata(
            "tolerate-numbers-as-strings",
            "IS, DS, SV, UV as Strings (F.2.3)",
            each_value(frozenset({"IS", "DS", "SV", "UV"}), _numbers_as_strings),
        ),
        _metadata(
            "tolerate-bulk-inline", "InlineBinary instead of BulkDataURI (F.2.7)", each_dataset(_known_bulk_inline)
        ),
        _metadata("tolerate-text-as-bulk-uri", "a BulkDataURI for UT (F.2.2)", _text_as_bulk_uri),
    ]
}


# --- repairs -------------------------------------------------------------------------------------------------------


def _repair_pn_groups(key: str, element: dict[str, Json]) -> None:
    if element.get("vr") == "PN" and isinstance(element.get("Value"), list):
        element["Value"] = [
            {group: text for group, text in value.items() if text} if isinstance(value, dict) else value
            for value in element["Value"]
        ]


def _repair_orthanc(dataset: Dataset) -> None:
    """What Orthanc 1.10.1 + DICOMweb 1.7 gets wrong in the corpus' metadata, put right."""
    for key, element in attributes(dataset):
        _repair_pn_groups(key, element)
    charset = dataset.get("00080005", {})
    if charset.get("Value") == [ISO_2022_IR_87]:
        charset["Value"] = [None, ISO_2022_IR_87]
    if not is_coverage(dataset):
        return
    dataset["00081120"] = {"vr": "SQ", "Value": [{}]}
    dataset["00200032"] = {"vr": "DS", "Value": list(LARGE_DECIMALS)}
    for number, (vr, value) in PRIVATE_ELEMENTS.items():
        if vr in ORTHANC_MISHANDLED_BULK:
            dataset[PRIVATE_KEY.format(number)] = {"vr": vr, "InlineBinary": inline(value)}
        elif vr in ("SV", "UV"):
            dataset[PRIVATE_KEY.format(number)] = {"vr": vr, "Value": list(value)}
    sort_keys(dataset)


def _omit_bulk(dataset: Dataset) -> None:
    """Reference 1.2: the Azure DICOM service leaves OB, OD, OF, OL, OV, OW and UN attributes out, at every depth."""
    for key in [key for key, element in dataset.items() if isinstance(element, dict) and element.get("vr") in BULK_VRS]:
        del dataset[key]
    for element in dataset.values():
        if isinstance(element, dict) and element.get("vr") == "SQ":
            for item in element.get("Value", []):
                if isinstance(item, dict):
                    _omit_bulk(item)


def _bulk_kept(dataset: Dataset) -> None:
    """The bulk attributes back in, inline, where the corpus has them."""
    if is_coverage(dataset):
        for path in BULK_PATHS.values():
            target = dataset
            for step in path[:-1]:
                target = _nested_items(target, str(step))[0] if isinstance(step, str) else target
            target[str(path[-1])] = {"vr": "OB", "InlineBinary": inline(b"\x00\x01")}
            sort_keys(target)
    if is_implicit(dataset):
        for key in IMPLICIT_PRIVATE_KEYS:
            dataset[key] = {"vr": "UN", "InlineBinary": inline(b"\x00\x01")}
        sort_keys(dataset)


REPAIRS = {
    rule.name: rule
    for rule in [
        _metadata(
            "repair-orthanc-metadata", "what Orthanc gets wrong in the corpus metadata", each_dataset(_repair_orthanc)
        ),
        _metadata("repair-facade-omit-bulk", "bulk VRs omitted, as Azure documents", each_dataset(_omit_bulk)),
        ProxyRule(
            "repair-metadata-no-accept",
            "answers 406 without an Accept header",
            "GET",
            ANY_METADATA,
            answer(406),
            when=without_accept,
        ),
    ]
}

METADATA_FAULTS: dict[str, ProxyRule] = {rule.name: rule for rule in _FAULTS}
METADATA_FAULTS["metadata-adds-accept"] = ProxyRule(
    "metadata-adds-accept",
    "metadata without Accept answers 406",
    "GET",
    ANY_METADATA,
    adding_accept(DICOM_JSON),
    when=without_accept,
)
METADATA_FAULTS["metadata-bulk-kept"] = _metadata(
    "metadata-bulk-kept", "bulk VRs are omitted (azure)", each_dataset(_bulk_kept)
)
