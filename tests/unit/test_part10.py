"""The returned-instance comparison: the dataset is exact, the writer's File Meta identity is free (PS3.10 7.1)."""

from __future__ import annotations

from io import BytesIO

import pydicom
from pydicom.uid import UID

from dicomweb_conformance.dicom.part10 import instance_difference, split_part10
from dicomweb_conformance.dicom.samples import synthetic_instance


def rewritten(data: bytes, **meta: str) -> bytes:
    """The same instance written again by another implementation."""
    dataset = pydicom.dcmread(BytesIO(data))
    for keyword, value in meta.items():
        setattr(dataset.file_meta, keyword, UID(value) if keyword.endswith("UID") else value)
    out = BytesIO()
    dataset.save_as(out, enforce_file_format=True)
    return out.getvalue()


def test_the_same_bytes_are_the_same_instance() -> None:
    data = synthetic_instance("unit").data
    assert instance_difference(data, data) is None


def test_another_writer_and_preamble_are_still_the_same_instance() -> None:
    data = synthetic_instance("unit").data
    again = rewritten(
        data, ImplementationClassUID="1.2.826.0.1.3680043.8.498.1", ImplementationVersionName="PYDICOM 3.0.2"
    )
    again = b"\x01" * 128 + again[128:]
    assert again != data
    assert instance_difference(again, data) is None


def test_a_changed_transfer_syntax_is_a_difference() -> None:
    data = synthetic_instance("unit").data
    again = rewritten(data, TransferSyntaxUID="1.2.840.10008.1.2")
    assert "TransferSyntaxUID" in str(instance_difference(again, data))


def test_a_changed_media_storage_instance_uid_is_a_difference() -> None:
    instance = synthetic_instance("unit")
    uid = instance.sop_instance_uid.encode()
    meta_end = instance.data.index(uid) + len(uid)  # the first occurrence is in the File Meta
    changed = instance.data[: meta_end - 1] + (b"1" if uid[-1:] != b"1" else b"2") + instance.data[meta_end:]
    assert "MediaStorageSOPInstanceUID" in str(instance_difference(changed, instance.data))


def test_one_changed_dataset_byte_is_a_difference() -> None:
    data = synthetic_instance("unit").data
    changed = bytearray(data)
    changed[-1] ^= 0xFF
    assert "dataset differs" in str(instance_difference(bytes(changed), data))


def test_a_truncated_file_is_a_difference() -> None:
    data = synthetic_instance("unit").data
    assert instance_difference(data[:-10], data) is not None
    assert "not a Part 10 file" in str(instance_difference(b"garbage", data))


def test_split_finds_the_meta_elements() -> None:
    instance = synthetic_instance("unit")
    part = split_part10(instance.data)
    assert part.meta[0x00020003].rstrip(b"\x00").decode() == instance.sop_instance_uid
    assert part.dataset
