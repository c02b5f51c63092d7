from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dicomweb_conformance.dicom.uids import UID_ROOT_UUID, UidRemapper, is_valid_uid, new_uid

VALID = [
    "0",
    "1.2.3",
    "1.2.840.10008.1.2.1",
    "2.25.0",
    "2.25.329800735698586629295641978511506172918",
    "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420",
    "1." + "2" * 62,
]
INVALID = [
    "",
    "1.02",
    "01",
    "1..2",
    "1." + "2" * 63,
    "1.2.a",
    "A.B",
    "1.2.",
    ".1.2",
    "1.2.3\n",
    " 1.2",
    "1.2 ",
    "1.-2",
    "1.\u0662",
]


@pytest.mark.parametrize("value", VALID)
def test_valid_examples(value: str) -> None:
    assert is_valid_uid(value)


@pytest.mark.parametrize("value", INVALID)
def test_invalid_examples(value: str) -> None:
    assert not is_valid_uid(value)


def test_non_string_is_invalid() -> None:
    assert not is_valid_uid(123)  # type: ignore[arg-type]


def test_new_uid_valid_and_unique() -> None:
    uids = [new_uid() for _ in range(1000)]
    assert all(uid.startswith(UID_ROOT_UUID) and is_valid_uid(uid) for uid in uids)
    assert len(set(uids)) == len(uids)


@given(st.lists(st.integers(min_value=0, max_value=10**20), min_size=1, max_size=12))
def test_dotted_integers_valid_iff_short_enough(components: list[int]) -> None:
    value = ".".join(str(component) for component in components)
    assert is_valid_uid(value) == (len(value) <= 64)


@given(st.text(alphabet="0123456789.a ", max_size=70))
def test_valid_text_is_canonical_dotted_integers(value: str) -> None:
    if is_valid_uid(value):
        assert ".".join(str(int(part)) for part in value.split(".")) == value
        assert len(value) <= 64


@settings(max_examples=50)
@given(st.lists(st.text(min_size=1, max_size=64)))
def test_remapper_stable_and_injective(originals: list[str]) -> None:
    remapper = UidRemapper()
    first = [remapper(original) for original in originals]
    second = [remapper(original) for original in originals]
    assert first == second
    assert len(set(first)) == len(set(originals))
    assert all(is_valid_uid(uid) for uid in first)
    assert remapper.mapping() == dict(zip(originals, first, strict=True))


def test_remapper_mapping_is_a_copy() -> None:
    remapper = UidRemapper()
    fresh = remapper("1.2.3")
    remapper.mapping().clear()
    assert remapper.mapping() == {"1.2.3": fresh}
    assert remapper("1.2.3") == fresh


def test_separate_remappers_are_independent() -> None:
    assert UidRemapper()("1.2.3") != UidRemapper()("1.2.3")
