"""Generated QIDO searches (hypothesis strategies) over the property checks' planned corpus (corpora/qido_corpus.py):
its stored values and their variants, under the one matching model (checks/qido_matching.py).

What generation leaves out on purpose (see also dicom/generators.py and suites/catalog/properties.toml):

- CS values are never varied in case in queries: CS holds upper case only (PS3.5 Table 6.2-1).
- Range queries are on dates (DA) only: a time of partial precision ("0830") has no ordering PS3.4 C.2.2.2.5
  agrees on, so a generated time range would judge the server on an unsettled reading.
- QIDO searches use only the attributes and kinds of matching the profile matches on (`searchable`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from dicomweb_conformance.checks.qido_matching import (
    ALL_LEVEL_ATTRIBUTES,
    RANGE_VRS,
    WILDCARD_VRS,
    attribute_vr,
    strip_accents,
)
from dicomweb_conformance.corpora.qido_corpus import (
    LABELLED_UIDS,
    RANGE,
    SINGLE,
    UID_LIST,
    UNKNOWN,
    UNSTORED_SOP_CLASS,
    WILDCARD,
    Query,
    planned,
    stored_values,
)
from dicomweb_conformance.dicom.levels import RESOURCES

# Of the VRs range matching applies to (RANGE_VRS), the generator draws ranges on dates only (module docstring).
GENERATED_RANGE_VRS = RANGE_VRS & {"DA"}


def _unknown_uid(keyword: str) -> str:
    return UNKNOWN if keyword in LABELLED_UIDS else UNSTORED_SOP_CLASS


def case_variants(value: str) -> list[str]:
    return sorted({value, value.upper(), value.lower(), value.swapcase()})


@st.composite
def _level_and_attribute(draw: st.DrawFn, kind_fits: Callable[[str], bool]) -> tuple[str, str]:
    level = draw(st.sampled_from(RESOURCES))
    return level, draw(st.sampled_from([k for k in ALL_LEVEL_ATTRIBUTES[level] if kind_fits(attribute_vr(k))]))


@st.composite
def single_value_queries(draw: st.DrawFn) -> Query:
    """Stored values of every non-PN attribute, case variants of LO/SH values, and values nobody holds."""
    level, keyword = draw(_level_and_attribute(lambda vr: vr != "PN"))
    vr = attribute_vr(keyword)
    stored = stored_values(level, keyword)
    variants = sorted({v for s in stored for v in (case_variants(s) if vr in ("LO", "SH") else [s])})
    nobody = {"UI": _unknown_uid(keyword), "DA": "19000101", "TM": "000001", "IS": "99"}.get(vr, "NOBODY")
    return Query(level, keyword, SINGLE, draw(st.sampled_from([*variants, nobody])))


@st.composite
def patterns(draw: st.DrawFn, stored: Sequence[str], *, vary_case: bool) -> str:
    """C.2.2.2.4 patterns made from a stored value: a part of it between "*"s, some letters replaced by "?"."""
    base = draw(st.sampled_from([*stored, "ZZ"]))
    if vary_case:
        base = draw(st.sampled_from(case_variants(base)))
    start = draw(st.integers(0, len(base)))
    end = draw(st.integers(start, len(base)))
    middle = "".join("?" if draw(st.integers(0, 4)) == 0 else c for c in base[start:end])
    return ("*" if start else "") + middle + ("*" if end < len(base) else "") or "*"


@st.composite
def wildcard_queries(draw: st.DrawFn) -> Query:
    level, keyword = draw(_level_and_attribute(lambda vr: vr in WILDCARD_VRS and vr != "PN"))
    vary_case = attribute_vr(keyword) != "CS"  # CS holds upper case only (PS3.5 Table 6.2-1)
    return Query(level, keyword, WILDCARD, draw(patterns(stored_values(level, keyword), vary_case=vary_case)))


@st.composite
def range_queries(draw: st.DrawFn) -> Query:
    """C.2.2.2.5 date ranges "a-b", "-b" and "a-" with bounds among and around the stored dates."""
    level, keyword = draw(_level_and_attribute(lambda vr: vr in GENERATED_RANGE_VRS))
    around = ["19000101", "20991231", "20200102"]
    low, high = sorted(draw(st.lists(st.sampled_from(stored_values(level, keyword) + around), min_size=2, max_size=2)))
    form = draw(st.sampled_from(("a-b", "-b", "a-")))
    return Query(level, keyword, RANGE, {"a-b": f"{low}-{high}", "-b": f"-{high}", "a-": f"{low}-"}[form])


@st.composite
def uid_list_queries(draw: st.DrawFn) -> Query:
    """C.2.2.2.2 lists of one to four UIDs: stored ones and one nobody holds."""
    level, keyword = draw(_level_and_attribute(lambda vr: vr == "UI"))
    pool = [*stored_values(level, keyword), _unknown_uid(keyword)]
    return Query(
        level, keyword, UID_LIST, ",".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True)))
    )


@st.composite
def person_name_queries(draw: st.DrawFn) -> Query:
    """Stored names, their case and accent variants, family names alone, names nobody has, and wildcards."""
    level, keyword = draw(_level_and_attribute(lambda vr: vr == "PN"))
    stored = stored_values(level, keyword)
    if draw(st.booleans()):
        return Query(level, keyword, WILDCARD, draw(patterns(stored, vary_case=True)))
    variants = {v for name in stored for v in [*case_variants(name), strip_accents(name), name.split("^")[0]]}
    return Query(level, keyword, SINGLE, draw(st.sampled_from(sorted(variants | {"Nobody^Else"}))))


@dataclass(frozen=True)
class Page:
    level: str
    limit: int
    offset: int


@st.composite
def pages(draw: st.DrawFn) -> Page:
    """limit from 1 to one past the matches; offset from 0 to one past the last match (PS3.18 8.3.4.4)."""
    level = draw(st.sampled_from(RESOURCES))
    size = len(planned(level))
    return Page(level, draw(st.integers(1, size + 1)), draw(st.integers(0, size + 1)))
