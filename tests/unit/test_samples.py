from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dicomweb_conformance.checks.declined import declined_files, declined_lines
from dicomweb_conformance.dicom.samples import (
    IMPLEMENTATION_CLASS_UID,
    TUTORIAL_FILES,
    TUTORIAL_INSTANCE_UIDS,
    TUTORIAL_SERIES_UIDS,
    TUTORIAL_STUDY_UID,
    SampleInstance,
    instance_from_dataset,
    main,
    remap_uids,
    run_patient_id,
    synthetic_instance,
    tutorial_datasets,
    tutorial_instances,
    write_tutorial_samples,
)
from dicomweb_conformance.dicom.uids import UidRemapper, is_valid_uid

SHAPES_SERIES = "1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652"
CIRCLE_SERIES = "1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207"
EXPECTED_CSV = (
    "file,StudyUID,SeriesUID,InstanceUID\n"
    f"blue-circle.dcm,{TUTORIAL_STUDY_UID},{CIRCLE_SERIES},"
    "1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114\n"
    f"green-square.dcm,{TUTORIAL_STUDY_UID},{SHAPES_SERIES},"
    "1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212\n"
    f"red-triangle.dcm,{TUTORIAL_STUDY_UID},{SHAPES_SERIES},"
    "1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395\n"
)
COLOURS = {"blue-circle": [0, 0, 255], "green-square": [0, 255, 0], "red-triangle": [255, 0, 0]}


def _uids(instance: SampleInstance) -> set[str]:
    return {instance.study_uid, instance.series_uid, instance.sop_instance_uid}


def _all_instances() -> list[SampleInstance]:
    return [
        *tutorial_instances("all").values(),
        *tutorial_instances("all", keep_uids=True).values(),
        synthetic_instance("all"),
        synthetic_instance("all", frames=4, samples_per_pixel=3, rows=5, columns=7),
        synthetic_instance("all", rows=3, columns=3),
    ]


def test_write_tutorial_samples_is_byte_identical(tmp_path: Path) -> None:
    first = write_tutorial_samples(tmp_path / "a")
    second = write_tutorial_samples(tmp_path / "b")
    assert [path.name for path in first] == [*(f"{name}.dcm" for name in TUTORIAL_FILES), "dicom-metadata.csv"]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


def test_tutorial_csv_content(tmp_path: Path) -> None:
    write_tutorial_samples(tmp_path)
    assert (tmp_path / "dicom-metadata.csv").read_text(encoding="ascii") == EXPECTED_CSV


def test_cli_writes_tutorial_set(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "blue-circle.dcm",
        "dicom-metadata.csv",
        "green-square.dcm",
        "red-triangle.dcm",
    ]


def test_tutorial_files_are_part10_with_zero_preamble(tmp_path: Path) -> None:
    for path in write_tutorial_samples(tmp_path)[:3]:
        data = path.read_bytes()
        assert data[:128] == b"\x00" * 128
        assert data[128:132] == b"DICM"


def test_tutorial_uids_and_relationships() -> None:
    datasets = tutorial_datasets()
    assert tuple(datasets) == TUTORIAL_FILES
    for name, ds in datasets.items():
        assert ds.StudyInstanceUID == TUTORIAL_STUDY_UID
        assert ds.SeriesInstanceUID == TUTORIAL_SERIES_UIDS[name]
        assert ds.SOPInstanceUID == TUTORIAL_INSTANCE_UIDS[name]
    assert TUTORIAL_SERIES_UIDS["green-square"] == TUTORIAL_SERIES_UIDS["red-triangle"] == SHAPES_SERIES
    assert TUTORIAL_SERIES_UIDS["blue-circle"] == CIRCLE_SERIES
    assert {ds.SeriesNumber for ds in datasets.values()} == {1, 2}


def test_tutorial_image_attributes() -> None:
    for ds in tutorial_datasets().values():
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        assert (ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.BitsAllocated) == (64, 64, 3, 8)
        assert (ds.PhotometricInterpretation, ds.PlanarConfiguration) == ("RGB", 0)
        assert (ds.Modality, ds.PatientName, ds.StudyDate) == ("OT", "Tutorial^Shapes", "20210101")
        assert ds.SpecificCharacterSet == "ISO_IR 100"


@pytest.mark.parametrize("name", TUTORIAL_FILES)
def test_shape_is_visible(name: str) -> None:
    pixels = tutorial_instances("px", keep_uids=True)[name].dataset.pixel_array
    assert pixels[32, 32].tolist() == COLOURS[name]
    for row, column in [(0, 0), (0, 63), (63, 0), (63, 63)]:
        assert pixels[row, column].tolist() == [0, 0, 0]


def test_remapped_instances_have_fresh_valid_uids() -> None:
    instances = tutorial_instances("run-1")
    originals = {TUTORIAL_STUDY_UID, *TUTORIAL_SERIES_UIDS.values(), *TUTORIAL_INSTANCE_UIDS.values()}
    fresh = set().union(*(_uids(instance) for instance in instances.values()))
    assert all(is_valid_uid(uid) and uid.startswith("2.25.") for uid in fresh)
    assert not fresh & originals
    assert len(fresh) == 1 + 2 + 3


def test_remapped_instances_keep_relationships() -> None:
    instances = tutorial_instances("run-1")
    assert len({instance.study_uid for instance in instances.values()}) == 1
    assert instances["green-square"].series_uid == instances["red-triangle"].series_uid
    assert instances["blue-circle"].series_uid != instances["green-square"].series_uid
    for instance in instances.values():
        ds = instance.dataset
        assert (ds.StudyInstanceUID, ds.SeriesInstanceUID) == (instance.study_uid, instance.series_uid)
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID == instance.sop_instance_uid


def test_instances_are_stamped_with_run_id() -> None:
    run_id = "run-0123456789abcdef"
    for keep_uids in (False, True):
        for instance in tutorial_instances(run_id, keep_uids=keep_uids).values():
            ds = instance.dataset
            assert ds.PatientID == run_patient_id(run_id, "Tutorial^Shapes")
            assert ds.AccessionNumber == run_id[:16]


def test_keep_uids_keeps_tutorial_uids() -> None:
    for name, instance in tutorial_instances("keep", keep_uids=True).items():
        assert instance.study_uid == TUTORIAL_STUDY_UID
        assert instance.series_uid == TUTORIAL_SERIES_UIDS[name]
        assert instance.sop_instance_uid == TUTORIAL_INSTANCE_UIDS[name]


def test_two_runs_have_disjoint_uids() -> None:
    first = set().union(*(_uids(instance) for instance in tutorial_instances("a").values()))
    second = set().union(*(_uids(instance) for instance in tutorial_instances("b").values()))
    assert not first & second


def test_shared_remapper_reproduces_uids() -> None:
    remapper = UidRemapper()
    first = tutorial_instances("a", remapper=remapper)
    second = tutorial_instances("a", remapper=remapper)
    assert {name: _uids(i) for name, i in first.items()} == {name: _uids(i) for name, i in second.items()}


def test_remap_uids_covers_frame_of_reference_and_file_meta() -> None:
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3"
    ds.FrameOfReferenceUID = "1.2.4"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPInstanceUID = UID("1.2.3")
    remapper = UidRemapper()
    remap_uids(ds, remapper)
    assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID == remapper("1.2.3")
    assert ds.FrameOfReferenceUID == remapper("1.2.4")


def test_invalid_run_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="run_id"):
        tutorial_instances("x" * 60)


@pytest.mark.parametrize("samples_per_pixel", [1, 3])
def test_pixel_frames_of_multiframe_synthetic(samples_per_pixel: int) -> None:
    instance = synthetic_instance("mf", rows=4, columns=5, frames=3, samples_per_pixel=samples_per_pixel)
    frames = instance.pixel_frames()
    assert len(frames) == 3
    assert all(len(frame) == 4 * 5 * samples_per_pixel for frame in frames)
    assert len(set(frames)) == 3
    assert b"".join(frames) == instance.dataset.PixelData
    assert instance.dataset.NumberOfFrames == 3


def test_pixel_frames_ignore_odd_length_padding() -> None:
    instance = synthetic_instance("odd", rows=3, columns=3)
    assert len(instance.dataset.PixelData) == 10
    assert [len(frame) for frame in instance.pixel_frames()] == [9]


def test_pixel_frames_of_big_endian_words_are_little_endian() -> None:
    ds = synthetic_instance("be", rows=2, columns=2, frames=2).dataset
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelData = np.arange(8, dtype=">u2").tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    frames = instance_from_dataset("be", ds).pixel_frames()
    assert frames == [np.arange(4, dtype="<u2").tobytes(), np.arange(4, 8, dtype="<u2").tobytes()]


def test_synthetic_defaults_and_overrides() -> None:
    single = synthetic_instance("syn", study_uid="1.2.3", series_uid="1.2.3.4", name="odd", extra=_add_comment)
    ds = single.dataset
    assert (single.name, single.study_uid, single.series_uid) == ("odd", "1.2.3", "1.2.3.4")
    assert "NumberOfFrames" not in ds
    assert ds.ImageComments == "from extra"
    assert ds.PatientID == run_patient_id("syn", str(ds.PatientName))
    fresh = synthetic_instance("syn")
    assert is_valid_uid(fresh.study_uid)
    assert fresh.study_uid != synthetic_instance("syn").study_uid


def _add_comment(ds: Dataset) -> None:
    ds.ImageComments = "from extra"


def test_instance_from_dataset_honours_file_meta_and_leaves_input_alone() -> None:
    ds = tutorial_datasets()["red-triangle"]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    instance = instance_from_dataset("implicit", ds)
    assert instance.transfer_syntax_uid == ImplicitVRLittleEndian
    assert instance.dataset.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert "MediaStorageSOPInstanceUID" not in ds.file_meta
    assert instance.pixel_frames() == tutorial_instances("x", keep_uids=True)["red-triangle"].pixel_frames()


def test_reencoding_a_parsed_instance_is_byte_identical() -> None:
    instance = tutorial_instances("again", keep_uids=True)["blue-circle"]
    assert instance_from_dataset(instance.name, instance.dataset).data == instance.data


def test_every_instance_parses_with_matching_file_meta() -> None:
    for instance in _all_instances():
        ds = instance.dataset
        assert ds.file_meta.TransferSyntaxUID == instance.transfer_syntax_uid == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID == instance.sop_class_uid
        assert ds.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
        assert instance.data[:128] == b"\x00" * 128


def test_one_patient_name_per_patient_id() -> None:
    """PS3.4 C.6.1.1: a server may keep one set of demographics per PatientID."""
    a = synthetic_instance("r1", patient_name="Doe^Jane").dataset
    b = synthetic_instance("r1", patient_name="Roe^Richard").dataset
    renamed = synthetic_instance("r1", extra=lambda ds: setattr(ds, "PatientName", "Doe^Jane")).dataset
    assert a.PatientID != b.PatientID
    assert renamed.PatientID == a.PatientID
    assert a.PatientID.startswith("DWCS-r1-")


def test_the_summary_names_the_sample_files_the_server_declined() -> None:
    stored = "suites/samples/test_sample_files.py::test_stored"
    na = "dicomweb_conformance.checks.common.NotApplicable: NOT-APPLICABLE: "
    checks = {
        f"{stored}[a.dcm]": {"outcome": "PASS", "message": ""},
        f"{stored}[dir/b c.dcm]": {"outcome": "PASS", "message": ""},
        "suites/samples/test_sample_files.py::test_metadata[dir/b c.dcm]": {
            "outcome": "NOT-APPLICABLE",
            "message": na + "the server declined dir/b c.dcm: 409, FailureReason 0x0110",
        },
    }
    assert declined_files(checks) == ({"dir/b c.dcm": "409, FailureReason 0x0110"}, 2)
    assert declined_lines(checks) == [
        "sample files: the server declined 1 of 2; their other checks are NOT-APPLICABLE",
        "  dir/b c.dcm: 409, FailureReason 0x0110",
    ]
    del checks[f"{stored}[a.dcm]"]
    assert declined_lines(checks)[0] == "SAMPLE FILES: the server declined all 1; their per-file checks judged nothing"
    assert declined_lines({f"{stored}[a.dcm]": {"outcome": "PASS", "message": None}}) == []


def test_a_dataset_given_away_encodes_to_the_same_bytes() -> None:
    kept, given = tutorial_datasets(), tutorial_datasets()
    for name in kept:
        assert instance_from_dataset(name, given[name], reuse=True).data == instance_from_dataset(name, kept[name]).data
