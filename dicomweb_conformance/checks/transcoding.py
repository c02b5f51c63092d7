"""Is a transcoded Part 10 file the instance that was stored, attribute by attribute?

`dicomweb_conformance.dicom.part10.instance_difference` answers that for a file served as stored (byte for byte). A file
served in another transfer syntax cannot be compared by bytes, so this compares it the way the metadata
checks compare DICOM JSON with the stored dataset (`dicom.annex_f`: Annex F form, canonical
values), allowing exactly what a lossless transcoding may change and nothing else:

- the File Meta Information (PS3.10 7.1) is written by whoever writes the file: its Transfer Syntax UID
  changes, and only the Media Storage SOP Class and Instance UIDs must stay (as in instance_difference);
- group lengths (gggg,0000) depend on the encoding (PS3.5 7.2) and may be dropped or recomputed;
- Pixel Data (7FE0,0010) is re-encoded (PS3.5 8.2, A.4): its VR (OB or OW) and its encapsulation may change,
  so its value is compared only where both files hold it native in little endian (PS3.5 A.1, A.2), byte for
  byte; the transcoding checks also compare the decoded frames (checks.retrieve.check_same_pixels);
- a VR may become another VR the data dictionary allows for that attribute (PS3.6 "US or SS", ...), or UN
  where the VR cannot be known or the value is too long for a 16-bit length (PS3.5 6.2.2; PS3.18 8.7.8.1
  Note 2), the value bytes staying the same.

Every other attribute keeps its VR and its value (up to the padding PS3.5 6.2 calls insignificant). The
suite asks only for lossless transcodings; a lossy one may also set Lossy Image Compression and change
the photometric attributes (PS3.3 C.7.6.1.1.5, PS3.5 8.2.1), which this comparison does not allow.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pydicom import dcmread
from pydicom.datadict import dictionary_VR
from pydicom.errors import InvalidDicomError

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.dicom.annex_f import canonical_element, reference_json
from dicomweb_conformance.dicom.dicomjson import attribute_name, inline_binary, show
from dicomweb_conformance.dicom.part10 import (
    EXPLICIT_VR_LITTLE_ENDIAN,
    IDENTIFYING_META,
    IMPLICIT_VR_LITTLE_ENDIAN,
    NotPart10,
    instance_difference,
    split_part10,
)
from dicomweb_conformance.dicom.samples import SampleInstance

PIXEL_DATA = "7FE00010"
# PS3.5 A.1, A.2: the transfer syntaxes whose Pixel Data is native and little endian (the same bytes in both).
NATIVE_LITTLE_ENDIAN = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN})
TRANSFER_SYNTAX = 0x00020010
_KEPT_META = {tag: name for tag, name in IDENTIFYING_META.items() if name != "TransferSyntaxUID"}


def check_transcoded_attributes(content: bytes, instance: SampleInstance, what: str) -> None:
    """The transcoded file carries every attribute of the stored instance, with its VR and value."""
    lines = transcoding_differences(content, instance.data)
    if lines:
        raise fail(
            f"{what}: the transcoded instance is not the stored one, attribute by attribute",
            expected=f"every attribute of {instance.name} as stored (only what PS3.5 lets a transcoder change differs)",
            actual="; ".join(lines[:8]) + (f"; and {len(lines) - 8} more" if len(lines) > 8 else ""),
        )


def any_syntax_difference(returned: bytes, stored: bytes) -> str | None:
    """None when `returned` is a right answer to transfer-syntax=* for `stored`: the stored file (the dataset byte
    for byte, PS3.10 7.1 aside: part10.instance_difference), or, PS3.18 8.7.3.5.2, the same instance in Explicit VR
    Little Endian, re-encoded: every attribute and the native pixel data as stored."""
    difference = instance_difference(returned, stored)
    if difference is None:
        return None
    try:
        syntax = _text(split_part10(returned).meta.get(TRANSFER_SYNTAX))
        stored_syntax = _text(split_part10(stored).meta.get(TRANSFER_SYNTAX))
    except NotPart10 as error:
        return f"not a Part 10 file: {error}"
    if syntax not in (stored_syntax, EXPLICIT_VR_LITTLE_ENDIAN):
        return f"{difference}; and (0002,0010) is {syntax}, neither the stored {stored_syntax} nor Explicit VR LE"
    lines = transcoding_differences(returned, stored)
    return f"{difference}; attribute by attribute: {'; '.join(lines[:5])}" if lines else None


def transcoding_differences(returned: bytes, stored: bytes) -> list[str]:
    """One line per attribute the transcoded `returned` file does not carry as the `stored` one does."""
    try:
        got_meta, sent_meta = split_part10(returned).meta, split_part10(stored).meta
        got, got_raw = _dataset(returned)
        sent, sent_raw = _dataset(stored)
    except (NotPart10, InvalidDicomError, ValueError) as error:
        return [f"not a readable Part 10 file: {error}"]
    lines = [
        f"File Meta {name}: stored {_text(sent_meta.get(tag))!r}, got {_text(got_meta.get(tag))!r}"
        for tag, name in _KEPT_META.items()
        if _text(got_meta.get(tag)) != _text(sent_meta.get(tag))
    ]
    native = {_text(got_meta.get(TRANSFER_SYNTAX)), _text(sent_meta.get(TRANSFER_SYNTAX))} <= NATIVE_LITTLE_ENDIAN
    if (PIXEL_DATA in got) != (PIXEL_DATA in sent):
        lines.append(f"PixelData (7FE00010): {'dropped' if PIXEL_DATA in sent else 'added'}")
    elif native and got_raw.get(PIXEL_DATA) != sent_raw.get(PIXEL_DATA):
        lines.append("PixelData (7FE00010): the native pixel data differs from the stored")
    for key in sorted((set(got) | set(sent)) - {PIXEL_DATA}):
        mine, theirs = got.get(key), sent.get(key)
        if mine is None:
            lines.append(f"{attribute_name(key)} ({key}): dropped (stored {show(theirs)})")
        elif theirs is None:
            lines.append(f"{attribute_name(key)} ({key}): added {show(mine)}, not stored")
        elif not _same(key, mine, theirs, got_raw.get(key), sent_raw.get(key)):
            lines.append(f"{attribute_name(key)} ({key}): stored {show(theirs)}, got {show(mine)}")
    return lines


def _dataset(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The dataset in Annex F form (bulk values inline), and the raw value bytes of its top-level elements."""
    dataset = dcmread(BytesIO(data))
    # Read before any element is converted: a deferred RawDataElement still holds the bytes as encoded.
    # (Iterating a Dataset converts its elements; its keys() do not.)
    raw = {f"{int(tag):08X}": dataset.get_item(tag).value for tag in dataset.keys()}  # noqa: SIM118
    return reference_json(dataset), {key: value for key, value in raw.items() if isinstance(value, bytes)}


def _same(key: str, mine: dict[str, Any], theirs: dict[str, Any], mine_raw: bytes | None, raw: bytes | None) -> bool:
    vr, stored_vr = mine.get("vr"), theirs.get("vr")
    if vr != stored_vr and "UN" in (vr, stored_vr):
        # PS3.5 6.2.2: UN carries the value bytes as they were; they must be the stored value's bytes.
        return mine_raw is not None and mine_raw == raw
    if vr != stored_vr and not {vr, stored_vr} <= _dictionary_vrs(key):
        return False
    if "InlineBinary" in mine or "InlineBinary" in theirs:
        return inline_binary(mine) == inline_binary(theirs)
    ours, stored_form = canonical_element(mine), canonical_element(theirs)
    if isinstance(ours, tuple) and isinstance(stored_form, tuple):
        return bool(ours[1] == stored_form[1])  # the VR was judged above
    return bool(ours == stored_form)


def _dictionary_vrs(key: str) -> set[str]:
    try:
        return set(dictionary_VR(int(key, 16)).split(" or "))
    except KeyError:
        return set()


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.rstrip(b"\x00 ").decode("ascii", errors="replace")
