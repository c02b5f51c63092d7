"""checks/transcoding.py: what a lossless transcoding may change (PS3.5, PS3.10 7.1), and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from dicomweb_conformance.checks.transcoding import any_syntax_difference, transcoding_differences
from dicomweb_conformance.corpora.retrieve import build_implicit
from dicomweb_conformance.dicom.part10 import instance_difference


def stored() -> bytes:
    """An Implicit VR Little Endian instance with a private element (whose VR an implicit reader cannot know)."""
    dataset = pydicom.dcmread(BytesIO(build_implicit("unit-run", "1.2.3").data))
    dataset.private_block(0x0011, "CONFORMANCE", create=True).add_new(0x01, "LO", "private value")
    return _written(dataset)


def _written(dataset: Dataset) -> bytes:
    out = BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def transcoded(data: bytes, change: Callable[[Dataset], None] = lambda _: None) -> bytes:
    """`data` in Explicit VR Little Endian, after `change`."""
    dataset = pydicom.dcmread(BytesIO(data))
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    change(dataset)
    return _written(dataset)


def test_a_faithful_transcoding_differs_in_nothing() -> None:
    original = stored()
    explicit = transcoded(original)
    assert instance_difference(explicit, original) is not None  # the bytes differ...
    assert transcoding_differences(explicit, original) == []  # ...the instance does not
    assert any_syntax_difference(explicit, original) is None


def test_a_lost_attribute_is_named() -> None:
    original = stored()
    lines = transcoding_differences(transcoded(original, lambda ds: delattr(ds, "PatientName")), original)
    assert len(lines) == 1
    assert lines[0].startswith("PatientName (00100010): dropped")


def test_a_changed_value_and_an_added_attribute_are_named() -> None:
    def change(dataset: Dataset) -> None:
        dataset.StudyDate = "19990101"
        dataset.InstitutionName = "added"

    original = stored()
    lines = transcoding_differences(transcoded(original, change), original)
    assert [line.split(" ")[0] for line in lines] == ["StudyDate", "InstitutionName"]


def test_changed_pixels_are_named() -> None:
    def flip(dataset: Dataset) -> None:
        dataset.PixelData = dataset.PixelData[:-1] + bytes([dataset.PixelData[-1] ^ 0xFF])

    original = stored()
    assert transcoding_differences(transcoded(original, flip), original) == [
        "PixelData (7FE00010): the native pixel data differs from the stored"
    ]


def test_a_vr_the_dictionary_does_not_allow_is_named() -> None:
    def as_unlimited_text(dataset: Dataset) -> None:
        dataset["PatientID"].VR = "UT"

    original = stored()
    lines = transcoding_differences(transcoded(original, as_unlimited_text), original)
    assert len(lines) == 1
    assert lines[0].startswith("PatientID (00100020)")


def test_any_syntax_refuses_another_syntax_than_stored_or_explicit_little_endian() -> None:
    original = stored()
    big_endian = BytesIO()
    dataset = pydicom.dcmread(BytesIO(original))
    dataset.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRBigEndian
    pydicom.dcmwrite(big_endian, dataset, implicit_vr=False, little_endian=False, force_encoding=True)
    difference = any_syntax_difference(big_endian.getvalue(), original)
    assert difference is not None
    assert "1.2.840.10008.1.2.2" in difference
