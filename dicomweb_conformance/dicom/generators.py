"""Generators (hypothesis strategies) of valid values of every VR (PS3.5 6.2, Table 6.2-1).

Generated data is always valid per PS3.5, so a failure is the server's. What the generators leave out, on
purpose, is listed here, in checks/qido_queries.py and in suites/catalog/properties.toml; nothing is filtered
silently:

- No leading or trailing spaces in string values: PS3.5 6.2 makes them insignificant, a server may drop them.
- Person names are canonical (PS3.5 6.2.1): no trailing empty components or component groups. Ideographic and
  phonetic groups only under ISO_IR 192 (other repertoires need ISO 2022 escapes, which are not generated).
- Multi-valued PN has no empty values: pydicom 3.0's to_json_dict, the reference, raises on them.
- FL and FD are finite and DS fits a double: NaN, infinity and larger magnitudes have no portable JSON
  number (RFC 8259 6).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from hypothesis import strategies as st

DEFAULT_REPERTOIRE = ""
LATIN_1 = "ISO_IR 100"
UTF_8 = "ISO_IR 192"
CHARSETS = (DEFAULT_REPERTOIRE, LATIN_1, UTF_8)

TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"})
NUMBER_VRS = frozenset({"DS", "FD", "FL", "IS", "SL", "SS", "SV", "UL", "US", "UV"})
# VRs whose values may hold a backslash and are therefore single-valued (PS3.5 6.4).
SINGLE_VALUED_VRS = frozenset({"LT", "ST", "UT", "UR"})
_INT_RANGES = {
    "SS": (-(2**15), 2**15 - 1),
    "US": (0, 2**16 - 1),
    "SL": (-(2**31), 2**31 - 1),
    "UL": (0, 2**32 - 1),
    "SV": (-(2**63), 2**63 - 1),
    "UV": (0, 2**64 - 1),
}
BINARY_UNITS = {"OB": 1, "UN": 1, "OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_TEXT_LIMITS = {"LO": 64, "SH": 16, "UC": 80, "ST": 120, "LT": 160, "UT": 200}
_TEXT_CONTROLS = "\r\n\x0c"  # PS3.5 6.1.3: CR, LF and FF are allowed in LT, ST and UT
CS_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _"
_UR_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?"
_UID_ROOTS = ("2.25", "1.2.826.0.1.3680043.8.498", "1.3.6.1.4.1.9590.100.1.2")
_DS_PATTERN = r"[+-]?(?:[0-9]{1,6}(?:\.[0-9]{0,4})?|\.[0-9]{1,4})(?:[eE][+-]?[0-9]{1,3})?"
_FIRST_DATE, _LAST_DATE = date(1900, 1, 1), date(2099, 12, 31)


def characters(charset: str) -> st.SearchStrategy[str]:
    """One graphic character of `charset`, never the backslash (the value delimiter)."""
    default = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\")
    if charset == LATIN_1:
        return st.one_of(default, st.characters(min_codepoint=0xA0, max_codepoint=0xFF))
    if charset == UTF_8:
        return st.one_of(default, st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\\"))
    return default


def _stripped_text(alphabet: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, max_size=max_size).map(str.strip)


def text_values(vr: str, charset: str) -> st.SearchStrategy[str]:
    """LO, SH, UC, ST, LT, UT within their length limits; the texts also hold the backslash and CR/LF/FF."""
    alphabet = characters(charset)
    if vr in SINGLE_VALUED_VRS:
        alphabet = st.one_of(alphabet, st.sampled_from("\\" + _TEXT_CONTROLS))
    return _stripped_text(alphabet, _TEXT_LIMITS[vr])


def person_names(charset: str) -> st.SearchStrategy[str]:
    """PN in canonical form: up to five components per group, no trailing empty components or groups."""
    component = _stripped_text(characters(charset).filter(lambda c: c not in "^="), 12)
    group = st.lists(component, max_size=5).map(lambda parts: "^".join(parts).rstrip("^"))
    groups = st.lists(group, min_size=1, max_size=3 if charset == UTF_8 else 1)
    return groups.map(lambda parts: "=".join(parts).rstrip("="))


def _formatted_integer(value: int, style: str) -> str:
    # PS3.5 Table 6.2-1 (IS): an optional leading "+" or "-", digits, at most 12 bytes.
    if style == "plus" and value >= 0:
        return f"+{value}"
    if style == "zeros":
        text = f"{abs(value):0{11 - (value < 0)}d}"
        return f"-{text}" if value < 0 else text
    return str(value)


def integer_strings() -> st.SearchStrategy[str]:
    return st.builds(_formatted_integer, st.integers(-(2**31), 2**31 - 1), st.sampled_from(("plain", "plus", "zeros")))


def decimal_strings() -> st.SearchStrategy[str]:
    """DS: fixed or floating point, at most 16 bytes, within the range of a double."""
    return st.from_regex(_DS_PATTERN, fullmatch=True).filter(lambda s: len(s) <= 16 and math.isfinite(float(s)))


def dates() -> st.SearchStrategy[str]:
    return st.dates(_FIRST_DATE, _LAST_DATE).map(lambda d: d.strftime("%Y%m%d"))


def _time_text(moment: datetime, precision: int, digits: int) -> str:
    text = moment.strftime("%H%M%S")[: 2 * min(precision, 3)]
    return text + ("." + f"{moment.microsecond:06d}"[:digits] if precision > 3 else "")


def times() -> st.SearchStrategy[str]:
    """TM: HH, HHMM, HHMMSS or HHMMSS.F{1-6} (PS3.5 Table 6.2-1)."""
    return st.builds(_time_text, st.datetimes(), st.integers(1, 4), st.integers(1, 6))


def _date_time_text(moment: datetime, precision: int, digits: int, offset: int | None) -> str:
    text = moment.strftime("%Y%m%d%H%M%S")[: (4, 6, 8, 10, 12, 14, 14)[precision - 1]]
    if precision == 7:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    if offset is not None:
        sign = "-" if offset < 0 else "+"
        text += f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    return text


def date_times() -> st.SearchStrategy[str]:
    """DT: YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX] (PS3.5 Table 6.2-1), offsets -12:00 to +14:00."""
    offsets = st.none() | st.integers(-48, 56).map(lambda quarters: quarters * 15)
    return st.builds(
        _date_time_text,
        st.datetimes(datetime(1900, 1, 1), datetime(2099, 12, 31)),
        st.integers(1, 7),
        st.integers(1, 6),
        offsets,
    )


def _uid_text(root: str, components: Sequence[int]) -> str:
    uid = root
    for component in components:
        if len(f"{uid}.{component}") > 64:
            break
        uid = f"{uid}.{component}"
    return uid


def uids() -> st.SearchStrategy[str]:
    """UI: a registered-looking root and digit components without leading zeros, at most 64 characters."""
    return st.builds(_uid_text, st.sampled_from(_UID_ROOTS), st.lists(st.integers(0, 2**64), min_size=1, max_size=6))


def single_values(vr: str, charset: str) -> st.SearchStrategy[Any]:
    """One value of `vr` as pydicom takes it."""
    simple: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
        "AE": lambda: _stripped_text(characters(DEFAULT_REPERTOIRE), 16),
        "AS": lambda: st.builds(lambda n, unit: f"{n:03d}{unit}", st.integers(0, 999), st.sampled_from("DWMY")),
        "AT": lambda: st.integers(0, 2**32 - 1),
        "CS": lambda: _stripped_text(st.sampled_from(CS_CHARACTERS), 16),
        "DA": dates,
        "DS": decimal_strings,
        "DT": date_times,
        "FD": lambda: st.floats(allow_nan=False, allow_infinity=False),
        "FL": lambda: st.floats(width=32, allow_nan=False, allow_infinity=False),
        "IS": integer_strings,
        "PN": lambda: person_names(charset),
        "TM": times,
        "UI": uids,
        "UR": lambda: st.builds(
            str.__add__,
            st.sampled_from(("http://example.org/", "https://dicom.example/wado?", "urn:oid:")),
            st.text(st.sampled_from(_UR_CHARACTERS), max_size=40),
        ),
    }
    if vr in simple:
        return simple[vr]()
    if vr in _INT_RANGES:
        low, high = _INT_RANGES[vr]
        return st.integers(low, high)
    if vr in BINARY_UNITS:
        unit = BINARY_UNITS[vr]
        return st.binary(max_size=48).map(lambda data: data[: len(data) // unit * unit])
    return text_values(vr, charset)


def multiplicity(vm: str) -> tuple[int, int]:
    """'1' -> (1, 1); '2-n' -> (2, 4); '3-3n' -> (3, 3): the counts generated for a PS3.6 VM."""
    low, _, high = vm.partition("-")
    minimum = int(low)
    if not high:
        return minimum, minimum
    return (minimum, minimum + 2) if high == "n" else (minimum, int(high) if high.isdigit() else minimum)


@st.composite
def element_values(draw: st.DrawFn, vr: str, vm: str, charset: str) -> Any:
    """None (an empty element, one in four), one value, or a list of as many values as `vm` allows."""
    if draw(st.integers(0, 3)) == 0:
        return None
    low, high = (1, 1) if vr in SINGLE_VALUED_VRS or vr in BINARY_UNITS else multiplicity(vm)
    one = single_values(vr, charset)
    if vr == "PN" and high > 1:
        one = one.filter(bool)  # pydicom's to_json_dict raises on an empty name among several
    values = draw(st.lists(one, min_size=low, max_size=high))
    return values[0] if len(values) == 1 else values
