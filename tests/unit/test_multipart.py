"""Unit tests for dicomweb_conformance.transport.multipart (RFC 2046 5.1, RFC 2387, PS3.18 8.7)."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from dicomweb_conformance.transport.multipart import (
    MultipartError,
    Part,
    boundary_of,
    choose_boundary,
    encode_related,
    iter_encode_related,
    parse_media_type,
    related_content_type,
)
from dicomweb_conformance.transport.multipart_decoder import decode_related, iter_parts

B = "abc"
CT = f"multipart/related; boundary={B}"


def chunked(body: bytes, sizes: list[int]) -> Iterator[bytes]:
    """Split body into consecutive chunks whose sizes cycle through sizes."""
    pos, index = 0, 0
    while pos < len(body):
        size = sizes[index % len(sizes)]
        yield body[pos : pos + size]
        pos += size
        index += 1


def decode(body: bytes, boundary: str = B) -> list[Part]:
    return list(iter_parts([body], boundary))


def outcome(chunks: Iterator[bytes] | list[bytes], boundary: str = B) -> list[Part] | str:
    """The parts, or the MultipartError message: both must not depend on chunking."""
    try:
        return list(iter_parts(chunks, boundary))
    except MultipartError as exc:
        return f"error: {exc}"


# ---------------------------------------------------------------------------
# parse_media_type, boundary_of, choose_boundary


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            'multipart/related; type="application/dicom"; boundary=abc',
            ("multipart/related", {"type": "application/dicom", "boundary": "abc"}),
        ),
        (
            "Multipart/Related; TYPE=application/dicom; Boundary=AbC",
            ("multipart/related", {"type": "application/dicom", "boundary": "AbC"}),
        ),
        (
            ' multipart/related ;type = "application/dicom" ;  boundary="abc"  ',
            ("multipart/related", {"type": "application/dicom", "boundary": "abc"}),
        ),
        ('a/b; x="q\\"uo\\\\te"', ("a/b", {"x": 'q"uo\\te'})),
        ('a/b; boundary="x;y=z, w"', ("a/b", {"boundary": "x;y=z, w"})),
        ('a/b; x=""', ("a/b", {"x": ""})),
        ("application/dicom", ("application/dicom", {})),
        ("application/dicom;", ("application/dicom", {})),
        (
            "application/dicom; transfer-syntax=1.2.840.10008.1.2.1",
            ("application/dicom", {"transfer-syntax": "1.2.840.10008.1.2.1"}),
        ),
    ],
)
def test_parse_media_type(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_media_type(value) == expected


def test_quoted_and_unquoted_parameters_are_equivalent() -> None:
    # PS3.18 8.7.3: quoted and unquoted parameter values are equivalent.
    assert parse_media_type('a/b; type="application/dicom"') == parse_media_type("a/b; type=application/dicom")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "multipart",
        "multipart/",
        "/related",
        "multipart/related boundary=abc",
        "a/b; x",
        "a/b; x=",
        'a/b; x="unterminated',
        "a/b; x=y z",
        "a/b; x=1; X=2",
        "a/b; x=y\r\n",
        "a/b; x=a@b",
        "a/b; x=a:b",
    ],
)
def test_parse_media_type_rejects(value: str) -> None:
    with pytest.raises(MultipartError, match="media type"):
        parse_media_type(value)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/related; boundary=abc", "abc"),
        ('multipart/related; boundary="a b:c?=d"', "a b:c?=d"),
        ('multipart/related; type="application/dicom"; boundary="' + "x" * 70 + '"', "x" * 70),
        ('multipart/related; boundary="\'()+_,-./:=?"', "'()+_,-./:=?"),
        ("multipart/related; boundary=x/y", "x/y"),
    ],
)
def test_boundary_of(content_type: str, boundary: str) -> None:
    assert boundary_of(content_type) == boundary


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ('multipart/related; type="application/dicom"', "no boundary"),
        ("multipart/related; boundary=" + "x" * 71, "71 characters"),
        ('multipart/related; boundary=""', "0 characters"),
        ('multipart/related; boundary="ab@c"', "illegal character '@' at index 2"),
        ('multipart/related; boundary="ab\\"c"', "illegal character"),
        ('multipart/related; boundary="abcé"', "illegal character"),
        ('multipart/related; boundary="abc "', "ends with a space"),
    ],
)
def test_boundary_of_rejects(content_type: str, message: str) -> None:
    with pytest.raises(MultipartError, match=re.escape(message)):
        boundary_of(content_type)


def test_choose_boundary_is_legal_and_random() -> None:
    chosen = {choose_boundary() for _ in range(50)}
    assert len(chosen) == 50
    for boundary in chosen:
        assert re.fullmatch("[0-9a-f]{32}", boundary)
        assert boundary_of(related_content_type(boundary)) == boundary


# ---------------------------------------------------------------------------
# Encoding


def test_encode_related_exact_bytes() -> None:
    body, content_type = encode_related(
        [b"one", Part({}, b"two"), Part({"X-Odd": "v"}, b"")], boundary=B, part_content_type="application/octet-stream"
    )
    assert content_type == 'multipart/related; type="application/dicom"; boundary=abc'
    assert body == (
        b"--abc\r\nContent-Type: application/octet-stream\r\n\r\none"
        b"\r\n--abc\r\n\r\ntwo"
        b"\r\n--abc\r\nX-Odd: v\r\n\r\n"
        b"\r\n--abc--\r\n"
    )


def test_encode_related_content_type_variants() -> None:
    _, without_type = encode_related([b"x"], boundary=B, type_param=None)
    assert without_type == "multipart/related; boundary=abc"
    _, quoted = encode_related([b"x"], boundary="a b", type_param="application/dicom+json")
    assert quoted == 'multipart/related; type="application/dicom+json"; boundary="a b"'
    assert boundary_of(quoted) == "a b"


def test_encode_related_chooses_a_boundary() -> None:
    body, content_type = encode_related([b"x", b"y"])
    assert [part.content for part in decode_related(body, content_type)] == [b"x", b"y"]


def test_encode_zero_parts_gives_the_degenerate_body_the_decoder_rejects() -> None:
    body, content_type = encode_related([], boundary=B)
    assert body == b"--abc--\r\n"
    with pytest.raises(MultipartError, match="before any body part"):
        decode_related(body, content_type)


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (b"data\r\n--abc\r\nmore", "contains the boundary delimiter b'--abc' at byte offset 4"),
        (b"data\r\n--abcdef", "contains the boundary delimiter"),
        (b"--abc\r\n", "at byte offset 0"),
        (Part({"X": "a\r\nb"}, b""), "contains CR or LF"),
        (Part({"Bad Name": "a"}, b""), "cannot encode header name"),
        (Part({"--abc": "a"}, b""), "header line starts with the boundary"),
    ],
)
def test_encode_related_rejects(part: Part | bytes, message: str) -> None:
    with pytest.raises(MultipartError, match=re.escape(message)):
        encode_related([part], boundary=B)


def test_encode_related_rejects_non_bytes_items() -> None:
    with pytest.raises(TypeError, match="part 1 is a int"):
        encode_related([b"x", 5], boundary=B)  # type: ignore[list-item]


@pytest.mark.parametrize("boundary", ["", "x" * 71, "a@b", "ab "])
def test_encoders_reject_illegal_boundaries(boundary: str) -> None:
    with pytest.raises(MultipartError, match="boundary"):
        encode_related([b"x"], boundary=boundary)
    with pytest.raises(MultipartError, match="boundary"):
        iter_encode_related([b"x"], boundary=boundary)


def test_iter_encode_related_is_lazy() -> None:
    consumed: list[int] = []

    def parts() -> Iterator[bytes]:
        for index in range(3):
            consumed.append(index)
            yield bytes([65 + index]) * 100

    chunks = iter_encode_related(parts(), boundary=B, chunk_size=64)
    assert consumed == []
    next(chunks)
    assert consumed == [0]
    with pytest.raises(ValueError, match="chunk_size"):
        iter_encode_related([b"x"], boundary=B, chunk_size=0)


@settings(max_examples=100, deadline=None)
@given(
    contents=st.lists(st.binary(max_size=300), max_size=5),
    chunk_size=st.integers(min_value=1, max_value=400),
)
def test_iter_encode_related_matches_encode_related(contents: list[bytes], chunk_size: int) -> None:
    expected, _ = encode_related(contents, boundary=B)
    chunks = list(iter_encode_related(contents, boundary=B, chunk_size=chunk_size))
    assert b"".join(chunks) == expected
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1])
    assert 0 < len(chunks[-1]) <= chunk_size


# ---------------------------------------------------------------------------
# Decoding: round trips and chunking

BOUNDARIES = ["abc", "B", "a'()+_,-./:=? z", "0123456789abcdef0123456789abcdef", "x" * 70]


def tricky_bytes(boundary: str) -> st.SearchStrategy[bytes]:
    """Bytes built from line endings, dashes and prefixes of the boundary."""
    raw = boundary.encode()
    pieces = [b"\r\n", b"\r", b"\n", b"--", b"-", b" ", b"\t", b"x", b"\x00\xff", b"\r\n--", b"\r\n\r\n"]
    pieces += [raw[:k] for k in range(1, len(raw) + 1)]
    return st.lists(st.sampled_from(pieces), max_size=25).map(b"".join)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, list[Part], bytes, str]:
    boundary = draw(st.sampled_from(BOUNDARIES))
    header_sets = st.sampled_from(
        [{}, {"content-type": "application/dicom"}, {"content-type": "text/plain", "content-location": "/x?y=1"}]
    )
    parts = draw(st.lists(st.builds(Part, header_sets, tricky_bytes(boundary)), min_size=1, max_size=4))
    try:
        body, content_type = encode_related(parts, boundary=boundary)
    except MultipartError:  # a content happened to contain the delimiter
        reject()
    return boundary, parts, body, content_type


@settings(max_examples=100, deadline=None)
@given(case=bodies(), sizes=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8))
def test_round_trip_with_random_chunking(case: tuple[str, list[Part], bytes, str], sizes: list[int]) -> None:
    boundary, parts, body, content_type = case
    assert decode_related(body, content_type) == parts
    assert list(iter_parts(chunked(body, sizes), boundary)) == parts


@settings(max_examples=100, deadline=None)
@given(
    boundary=st.sampled_from(BOUNDARIES[:3]),
    data=st.data(),
    sizes=st.lists(st.integers(min_value=1, max_value=16), min_size=1, max_size=6),
)
def test_any_input_gives_the_same_outcome_for_every_chunking(
    boundary: str, data: st.DataObject, sizes: list[int]
) -> None:
    raw = boundary.encode()
    pieces = st.sampled_from([b"\r\n--" + raw, b"--" + raw, b"--", b"\r\n", b"\n", b" ", b"x", b"A: b", b":"])
    body = b"".join(data.draw(st.lists(pieces, max_size=30)))
    assert outcome(chunked(body, sizes), boundary) == outcome([body], boundary)


TRICKY_BODY = (
    b"preamble --abc not at a line start\r\n--abcd is not a delimiter\r\n"
    b"--abc \t\r\nContent-Type: application/dicom\r\n\r\n\r\n--ab\r\n--abcd\r\n--abc-x\r\n-"
    b"\r\n--abc\r\n\r\n"
    b"\r\n--abc\t\r\nX-A: 1\r\n\r\n"
    b"\r\n--abc-- \r\nepilogue\r\n--abc\r\n\r\nignored\r\n--abc--\r\n"
)
TRICKY_PARTS = [
    Part({"content-type": "application/dicom"}, b"\r\n--ab\r\n--abcd\r\n--abc-x\r\n-"),
    Part({}, b""),
    Part({"x-a": "1"}, b""),
]


def test_tricky_body() -> None:
    assert decode_related(TRICKY_BODY, CT) == TRICKY_PARTS


def test_every_chunk_size_and_split_point_gives_the_same_parts() -> None:
    for size in range(1, len(TRICKY_BODY) + 1):
        assert list(iter_parts(chunked(TRICKY_BODY, [size]), B)) == TRICKY_PARTS, size
    for cut in range(len(TRICKY_BODY) + 1):
        assert list(iter_parts([TRICKY_BODY[:cut], TRICKY_BODY[cut:]], B)) == TRICKY_PARTS, cut


# ---------------------------------------------------------------------------
# Decoding: everything RFC 2046 allows


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        pytest.param(b"--abc\r\n\r\nx\r\n--abc--\r\n", [Part({}, b"x")], id="no-headers"),
        pytest.param(b"--abc\r\n\r\n--abc--", [Part({}, b"")], id="empty-body-part"),
        pytest.param(b"--abc\r\n\r\n\r\n--abc--", [Part({}, b"")], id="no-headers-empty-content"),
        pytest.param(b"--abc\r\nA: b\r\n\r\n--abc--", [Part({"a": "b"}, b"")], id="headers-only"),
        pytest.param(b"\r\n--abc\r\n\r\nx\r\n--abc--", [Part({}, b"x")], id="empty-preamble-line"),
        pytest.param(b"pre\r\namble\r\n--abc\r\n\r\nx\r\n--abc--", [Part({}, b"x")], id="preamble"),
        pytest.param(b"--abc\r\n\r\nx\r\n--abc--\r\nepi\nlogue", [Part({}, b"x")], id="epilogue"),
        pytest.param(
            b"--abc \t \r\n\r\nx\r\n--abc\t\r\n\r\ny\r\n--abc--  \r\n", [Part({}, b"x"), Part({}, b"y")], id="padding"
        ),
        pytest.param(b"--abc\r\n\r\nx\r\n--abc-- \t", [Part({}, b"x")], id="close-padding-at-end"),
        pytest.param(
            b"--abc\r\n\r\n--abcd\r\n--abc\r\n\r\n--abc--",
            [Part({}, b"--abcd"), Part({}, b"")],
            id="longer-boundary-data",
        ),
        pytest.param(
            b"--abc\r\nContent-Type : a/b\r\nX-Long: one\r\n two\r\n\tthree\r\n"
            b"X-Dup: 1\r\nx-dup: 2\r\n\r\nz\r\n--abc--",
            [Part({"content-type": "a/b", "x-long": "one two three", "x-dup": "1, 2"}, b"z")],
            id="header-syntax",
        ),
        pytest.param(b"--abc\r\nA:\r\n\r\n--abc--", [Part({"a": ""}, b"")], id="empty-header-value"),
    ],
)
def test_accepts(body: bytes, parts: list[Part]) -> None:
    assert decode(body) == parts
    assert list(iter_parts(chunked(body, [1]), B)) == parts


def test_quoted_boundary_from_content_type() -> None:
    body, _ = encode_related([b"x"], boundary="a b:c")
    assert decode_related(body, 'multipart/related; type="application/dicom"; boundary="a b:c"') == [
        Part({"content-type": "application/dicom"}, b"x")
    ]


def test_parts_do_not_share_header_dicts() -> None:
    first, second = decode_related(encode_related([b"x", b"y"], boundary=B)[0], CT)
    first.headers["x-changed"] = "1"
    assert second.headers == {"content-type": "application/dicom"}


def test_part_content_type_property() -> None:
    assert Part({"content-type": "a/b"}, b"").content_type == "a/b"
    assert Part({"Content-Type": "a/b"}, b"").content_type == "a/b"
    assert Part({}, b"").content_type is None


def test_accepts_any_bytes_like_chunks() -> None:
    body, _ = encode_related([b"x", b"y"], boundary=B)
    expected = decode(body)
    assert list(iter_parts([bytearray(body[:7]), memoryview(body)[7:]], B)) == expected
    assert list(iter_parts(body, B)) == expected  # type: ignore[arg-type]  # a lone body is one chunk
    assert list(iter_parts([b"", body, b""], B)) == expected


def test_streams_parts_before_the_body_ends_and_ignores_the_epilogue() -> None:
    reads: list[int] = []

    def chunks() -> Iterator[bytes]:
        reads.append(1)
        yield b"--abc\r\n\r\nfirst\r\n--abc\r\n"
        reads.append(2)
        yield b"\r\nsecond\r\n--abc--\r\n"
        reads.append(3)
        raise AssertionError("the epilogue must not be read")

    parts = iter_parts(chunks(), B)
    assert next(parts).content == b"first"
    assert reads == [1]
    assert [part.content for part in parts] == [b"second"]
    assert reads == [1, 2]


@pytest.mark.parametrize("chunk_size", [1 << 16, 1 << 30])
def test_memory_is_bounded_by_one_part_plus_one_chunk(chunk_size: int) -> None:
    part_size = 1 << 20
    content = bytes(range(256)) * (part_size // 256)
    body, _ = encode_related([content] * 16, boundary=B)
    tracemalloc.start()
    try:
        count = sum(part.content == content for part in iter_parts(chunked(body, [chunk_size]), B))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 16
    assert peak < 4 * part_size  # the body is 16 parts


# ---------------------------------------------------------------------------
# Decoding: malformed bodies


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", "empty body", id="empty"),
        pytest.param(
            b"no boundary here\r\n",
            "first boundary delimiter '--abc' not found before the body ends at byte offset 18",
            id="no-boundary",
        ),
        pytest.param(
            b"x--abc\r\n\r\ny\r\n--abc--",
            "close delimiter at byte offset 13 before any body part",
            id="boundary-not-at-line-start",
        ),
        pytest.param(b"--abcd\r\n\r\ny\r\n--abcd--", "not found", id="longer-boundary"),
        pytest.param(b"--abc\r\n\r\ny", "truncated at byte offset 10", id="truncated-content"),
        pytest.param(b"--abc\r\n\r\ny\r\n--abc", "truncated at byte offset 17", id="truncated-delimiter"),
        pytest.param(b"--abc\r\n\r\ny\r\n--abc-", "truncated", id="truncated-close"),
        pytest.param(
            b"--abc\r\n\r\ny\r\n--abc--\r",
            "body ends at byte offset 20 inside the close delimiter at byte offset 12",
            id="close-then-cr",
        ),
        pytest.param(b"--abc--\r\n", "close delimiter at byte offset 0 before any body part", id="zero-parts"),
        pytest.param(b"pre\r\n--abc--", "before any body part", id="zero-parts-preamble"),
        pytest.param(b"--abc\nA: b\n\ny\n--abc--\n", "bare LF at byte offset 5", id="lf-only"),
        pytest.param(
            b"pre\n--abc\n\ny\n--abc--\n", "'--abc' at byte offset 4 follows a bare LF", id="lf-only-preamble"
        ),
        pytest.param(b"--abc\r\n\r\ny\n--abc--\n", "truncated", id="lf-close"),
        pytest.param(
            b"--abc\r\n\r\ny\r\n--abc--\n",
            "bare LF at byte offset 19 after the close delimiter at byte offset 12",
            id="lf-after-close",
        ),
        pytest.param(b"--abc\r\nA: b\n\ny\r\n--abc--", "bare CR or LF at byte offset 11", id="lf-in-headers"),
        pytest.param(b"--abc\r\nA: b\r\n\n\r\n--abc--", "bare CR or LF at byte offset 13", id="lf-blank-line"),
        pytest.param(b"--abc\r\nA: b\rC: d\r\n\r\n--abc--", "bare CR or LF at byte offset 11", id="bare-cr-in-headers"),
        pytest.param(b"--abc\r\nA: b\r\ny\r\n--abc--", "not terminated by CRLF CRLF", id="headers-unterminated"),
        pytest.param(b"--abc\r\nA: b\r\n--abc--", "headers of part 1 (byte offset 7)", id="header-no-crlf"),
        pytest.param(b"--abc\r\nA: b\r\nno colon\r\n\r\n--abc--", "without a colon at byte offset 13", id="no-colon"),
        pytest.param(b"--abc\r\n: b\r\n\r\n--abc--", "invalid header field name", id="empty-name"),
        pytest.param(
            b"--abc\r\nA B: c\r\n\r\n--abc--", "invalid header field name b'A B' at byte offset 7", id="space-in-name"
        ),
        pytest.param(b"--abc\r\n continued: x\r\n\r\n--abc--", "continuation line at byte offset 7", id="leading-fold"),
        pytest.param(b"--abc\r\nA: \xff\r\n\r\n--abc--", "not UTF-8", id="non-utf8-header"),
        pytest.param(
            b"--abc x\r\n\r\ny\r\n--abc--",
            "boundary delimiter at byte offset 0 is followed by b'x' at byte offset 6",
            id="padding-then-garbage",
        ),
        pytest.param(
            b"--abc\r\n\r\ny\r\n--abc\rx",
            "boundary delimiter at byte offset 12 is followed by b'x' at byte offset 18",
            id="cr-then-garbage",
        ),
        pytest.param(
            b"--abc\r\n\r\ny\r\n--abc--x",
            "close delimiter at byte offset 12 is followed by b'x' at byte offset 19",
            id="close-then-garbage",
        ),
    ],
)
def test_rejects(body: bytes, message: str) -> None:
    for chunks in ([body], chunked(body, [1]), chunked(body, [3])):
        with pytest.raises(MultipartError, match=re.escape(message)):
            list(iter_parts(chunks, B))


def test_every_truncation_raises() -> None:
    body, _ = encode_related([b"one", Part({"a": "b"}, b"two\r\n--ab"), Part({}, b"")], boundary=B)
    expected = decode(body)
    for cut in range(len(body)):
        if cut == len(body) - 2:  # "--abc--" without its CRLF: the epilogue is optional
            assert decode(body[:cut]) == expected
            continue
        with pytest.raises(MultipartError, match="offset"):
            decode(body[:cut])


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/dicom; boundary=abc", "not a multipart media type"),
        ('multipart/related; type="application/dicom"', "no boundary parameter"),
        ("multipart/related; boundary=" + "a" * 71, "71 characters"),
        ("multipart/related; boundary=a@c", "media type"),
        ('multipart/related; boundary="a@c"', "illegal character '@'"),
        ("multipart/related; boundary", "cannot parse media type"),
    ],
)
def test_decode_related_rejects_content_type(content_type: str, message: str) -> None:
    with pytest.raises(MultipartError, match=re.escape(message)):
        decode_related(b"--abc\r\n\r\nx\r\n--abc--\r\n", content_type)


@pytest.mark.parametrize("boundary", ["", "y" * 71, "a\r\nb", "tab\there", "abc "])
def test_iter_parts_rejects_illegal_boundaries_eagerly(boundary: str) -> None:
    with pytest.raises(MultipartError, match="boundary"):
        iter_parts([b""], boundary)
