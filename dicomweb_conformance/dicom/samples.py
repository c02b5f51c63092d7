"""The tutorial sample set (three shapes, one study) and synthetic DICOM instances."""

from __future__ import annotations

import argparse
import copy
import csv
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
)

from dicomweb_conformance.dicom.uids import UidRemapper, new_uid

TUTORIAL_STUDY_UID = "1.2.826.0.1.3680043.8.498.13230779778012324449356534479549187420"
_SERIES_SHAPES = "1.2.826.0.1.3680043.8.498.45787841905473114233124723359129632652"
_SERIES_CIRCLE = "1.2.826.0.1.3680043.8.498.77033797676425927098669402985243398207"
TUTORIAL_FILES = ("blue-circle", "green-square", "red-triangle")
TUTORIAL_SERIES_UIDS: dict[str, str] = {
    "blue-circle": _SERIES_CIRCLE,
    "green-square": _SERIES_SHAPES,
    "red-triangle": _SERIES_SHAPES,
}
TUTORIAL_INSTANCE_UIDS: dict[str, str] = {
    "blue-circle": "1.2.826.0.1.3680043.8.498.13273713909719068980354078852867170114",
    "green-square": "1.2.826.0.1.3680043.8.498.12714725698140337137334606354172323212",
    "red-triangle": "1.2.826.0.1.3680043.8.498.47359123102728459884412887463296905395",
}
TUTORIAL_CSV_NAME = "dicom-metadata.csv"
TUTORIAL_CSV_HEADER = ("file", "StudyUID", "SeriesUID", "InstanceUID")

IMPLEMENTATION_CLASS_UID = "2.25.150230214089791581096345198838598116885"
IMPLEMENTATION_VERSION_NAME = "DWCS_1"
PATIENT_ID_PREFIX = "DWCS-"

_IMAGE_SIZE = 64
_BLACK = (0, 0, 0)
_SHAPE_COLOURS = {"blue-circle": (0, 0, 255), "green-square": (0, 255, 0), "red-triangle": (255, 0, 0)}
_SERIES_NUMBERS = {"blue-circle": 2, "green-square": 1, "red-triangle": 1}
_INSTANCE_NUMBERS = {"blue-circle": 1, "green-square": 2, "red-triangle": 1}
_SERIES_DESCRIPTIONS = {1: "Square and triangle", 2: "Circle"}

# PS3.6 Table 6-1: LO holds at most 64 characters, SH at most 16.
_LO_MAX = 64
_SH_MAX = 16

# Attributes holding UIDs that identify this instance or its context (remapped as a whole).
_REMAPPED_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")

Mask = npt.NDArray[np.bool_]
Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class SampleInstance:
    """One DICOM instance with its identifying UIDs and its complete Part 10 encoding."""

    name: str
    study_uid: str
    series_uid: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    data: bytes

    @property
    def dataset(self) -> Dataset:
        """A freshly parsed copy of `data` (callers may mutate it freely)."""
        return dcmread(io.BytesIO(self.data))

    def pixel_frames(self) -> list[bytes]:
        """The native little endian pixel data of each frame, as WADO-RS returns it for 1.2.840.10008.1.2.1."""
        ds = self.dataset
        syntax = UID(self.transfer_syntax_uid)
        if syntax.is_compressed:
            raise ValueError(f"{self.name}: encapsulated pixel data ({syntax}) cannot be split natively")
        if "PixelData" not in ds:
            raise ValueError(f"{self.name}: no PixelData")
        size = _frame_size(ds)
        count = int(ds.get("NumberOfFrames") or 1)
        raw = _to_little_endian(ds.PixelData, int(ds.BitsAllocated), syntax.is_little_endian)
        if len(raw) < size * count:
            raise ValueError(f"{self.name}: PixelData holds {len(raw)} bytes, {count} frames need {size * count}")
        return [raw[k * size : (k + 1) * size] for k in range(count)]


def _frame_size(ds: Dataset) -> int:
    bits = int(ds.Rows) * int(ds.Columns) * int(ds.SamplesPerPixel) * int(ds.BitsAllocated)
    # PS3.5 8.1.1: frames of 1-bit data are packed without padding, so a frame may not end on a byte.
    if bits % 8:
        raise ValueError("frame is not a whole number of bytes")
    return bits // 8


def _to_little_endian(raw: bytes, bits_allocated: int, little_endian: bool) -> bytes:
    width = bits_allocated // 8
    if little_endian or width <= 1:
        return raw
    usable = len(raw) - len(raw) % width
    words = np.frombuffer(raw[:usable], dtype=f">u{width}")
    return words.astype(f"<u{width}").tobytes()


# --- encoding -----------------------------------------------------------------------------------------------------


def instance_from_dataset(name: str, ds: Dataset, *, reuse: bool = False) -> SampleInstance:
    """Encode `ds` as a Part 10 file (explicit VR little endian unless ds.file_meta names another syntax).

    `ds` is left alone unless `reuse`: a caller that discards `ds` afterwards lets it be encoded as it is (its
    file_meta and preamble set, elements whose VR depends on others corrected), without a deep copy first (the
    largest corpus file holds thousands of elements)."""
    encoded = ds if reuse else copy.deepcopy(ds)
    encoded.file_meta = _file_meta_for(ds)
    encoded.preamble = b"\x00" * 128
    buffer = io.BytesIO()
    dcmwrite(buffer, encoded, enforce_file_format=True)
    return SampleInstance(
        name=name,
        study_uid=str(ds.get("StudyInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        sop_class_uid=str(ds.get("SOPClassUID", "")),
        transfer_syntax_uid=str(encoded.file_meta.TransferSyntaxUID),
        data=buffer.getvalue(),
    )


def _file_meta_for(ds: Dataset) -> FileMetaDataset:
    # PS3.10 7.1: the File Meta Information names the writing implementation and mirrors the SOP identifiers.
    existing = getattr(ds, "file_meta", None)
    meta = copy.deepcopy(existing) if isinstance(existing, FileMetaDataset) else FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.get("SOPClassUID")
    meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID")
    meta.TransferSyntaxUID = meta.get("TransferSyntaxUID") or ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta


# --- common attributes ----------------------------------------------------------------------------------------------


def _set_patient_and_study(ds: Dataset, patient_name: str, study_date: str, description: str) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = patient_name
    ds.PatientID = "Tutorial-Shapes"
    ds.PatientBirthDate = "19800101"
    ds.PatientSex = "O"
    ds.StudyDate = study_date
    ds.StudyTime = "120000"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = "Referring^Doctor"
    ds.StudyID = "1"
    ds.StudyDescription = description


def _set_series_and_image(ds: Dataset, modality: str, series_number: int, instance_number: int) -> None:
    ds.Modality = modality
    ds.SeriesNumber = series_number
    ds.Manufacturer = "DICOMweb conformance suite"
    ds.ConversionType = "SYN"
    ds.InstanceNumber = instance_number
    ds.PatientOrientation = ""
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.BurnedInAnnotation = "NO"


def _set_pixels(ds: Dataset, frames: Pixels) -> None:
    """Image Pixel module for 8-bit unsigned `frames` shaped (frames, rows, columns, samples)."""
    count, rows, columns, samples = frames.shape
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if count > 1:
        ds.NumberOfFrames = count
        # PS3.3 C.8.6.3: multi-frame Secondary Capture frames are indexed by e.g. Page Number Vector.
        ds.FrameIncrementPointer = Tag("PageNumberVector")
        ds.PageNumberVector = list(range(1, count + 1))
    ds.PixelData = frames.tobytes()


def run_patient_id(run_id: str, patient_name: str) -> str:
    """This run's PatientID for one patient name: DWCS-<run_id>-<4 hex digits of the name>.

    PS3.4 C.6.1.1: PatientName is a patient-level attribute. A server may keep one set of
    demographics per PatientID, so one PatientID must never carry two names.
    """
    patient_id = f"{PATIENT_ID_PREFIX}{run_id}-{zlib.crc32(patient_name.encode()) & 0xFFFF:04X}"
    if not run_id or len(patient_id) > _LO_MAX or "\\" in run_id or not run_id.isprintable():
        raise ValueError(f"run_id {run_id!r} does not fit PatientID (LO) / AccessionNumber (SH)")
    return patient_id


def stamp_run(ds: Dataset, run_id: str) -> None:
    ds.PatientID = run_patient_id(run_id, str(ds.get("PatientName", "")))
    ds.AccessionNumber = run_id[:_SH_MAX]


def remap_uids(ds: Dataset, remapper: UidRemapper) -> None:
    """Replace the instance's identifying UIDs in place; one remapper keeps study/series relationships."""
    for keyword in _REMAPPED_UID_KEYWORDS:
        if keyword in ds:
            setattr(ds, keyword, remapper(str(ds[keyword].value)))
    meta = getattr(ds, "file_meta", None)
    if isinstance(meta, FileMetaDataset) and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = UID(remapper(str(meta.MediaStorageSOPInstanceUID)))


# --- tutorial set ---------------------------------------------------------------------------------------------------


def _shape_mask(name: str, size: int) -> Mask:
    rows, columns = np.mgrid[0:size, 0:size]
    centre = size // 2
    if name == "blue-circle":
        return np.asarray((rows - centre) ** 2 + (columns - centre) ** 2 <= (size * 5 // 16) ** 2)
    if name == "green-square":
        half = size // 4
        return np.asarray((abs(rows - centre) <= half) & (abs(columns - centre) <= half))
    top, bottom = size * 3 // 16, size * 13 // 16
    half_width = (rows - top) / 2
    return np.asarray((rows >= top) & (rows <= bottom) & (abs(columns - centre) <= half_width))


def _shape_pixels(name: str) -> Pixels:
    image = np.zeros((1, _IMAGE_SIZE, _IMAGE_SIZE, 3), dtype=np.uint8)
    image[0][_shape_mask(name, _IMAGE_SIZE)] = _SHAPE_COLOURS[name]
    return image


def _tutorial_dataset(name: str) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = TUTORIAL_INSTANCE_UIDS[name]
    ds.StudyInstanceUID = TUTORIAL_STUDY_UID
    ds.SeriesInstanceUID = TUTORIAL_SERIES_UIDS[name]
    _set_patient_and_study(ds, "Tutorial^Shapes", "20210101", "DICOMweb tutorial shapes")
    series_number = _SERIES_NUMBERS[name]
    _set_series_and_image(ds, "OT", series_number, _INSTANCE_NUMBERS[name])
    ds.SeriesDescription = _SERIES_DESCRIPTIONS[series_number]
    ds.ImageComments = f"Tutorial shape - {name}"
    _set_pixels(ds, _shape_pixels(name))
    return ds


def tutorial_datasets() -> dict[str, Dataset]:
    """The three tutorial shapes with the tutorial's literal UIDs, keyed by file stem."""
    return {name: _tutorial_dataset(name) for name in TUTORIAL_FILES}


def tutorial_instances(
    run_id: str, *, keep_uids: bool = False, remapper: UidRemapper | None = None
) -> dict[str, SampleInstance]:
    """The tutorial set stamped with `run_id`; UIDs remapped to fresh 2.25 UIDs unless `keep_uids`."""
    remap = remapper if remapper is not None else UidRemapper()
    instances: dict[str, SampleInstance] = {}
    for name, ds in tutorial_datasets().items():
        if not keep_uids:
            remap_uids(ds, remap)
        stamp_run(ds, run_id)
        instances[name] = instance_from_dataset(name, ds, reuse=True)
    return instances


def write_tutorial_samples(directory: Path) -> list[Path]:
    """Write the three tutorial files and dicom-metadata.csv into `directory` (byte-identical every call)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    rows: list[Sequence[str]] = [TUTORIAL_CSV_HEADER]
    for name, ds in tutorial_datasets().items():
        instance = instance_from_dataset(name, ds, reuse=True)
        path = directory / f"{name}.dcm"
        path.write_bytes(instance.data)
        paths.append(path)
        rows.append((path.name, instance.study_uid, instance.series_uid, instance.sop_instance_uid))
    csv_path = directory / TUTORIAL_CSV_NAME
    csv_path.write_bytes(_csv_bytes(rows))
    paths.append(csv_path)
    return paths


def _csv_bytes(rows: Sequence[Sequence[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode("ascii")


# --- synthetic instances --------------------------------------------------------------------------------------------


def _synthetic_pixels(frames: int, rows: int, columns: int, samples: int) -> Pixels:
    """Frame k holds (37k + 3r + 5c + 11s) mod 256, so frames differ for k below 256."""
    k, r, c, s = np.indices((frames, rows, columns, samples), dtype=np.int64)
    values: npt.NDArray[np.int64] = (37 * k + 3 * r + 5 * c + 11 * s) % 256
    return values.astype(np.uint8)


def _synthetic_sop_class(frames: int, samples_per_pixel: int) -> str:
    if frames == 1:
        return SecondaryCaptureImageStorage
    if samples_per_pixel == 3:
        return MultiFrameTrueColorSecondaryCaptureImageStorage
    return MultiFrameGrayscaleByteSecondaryCaptureImageStorage


def synthetic_instance(
    run_id: str,
    *,
    study_uid: str | None = None,
    series_uid: str | None = None,
    name: str = "synthetic",
    rows: int = 16,
    columns: int = 16,
    frames: int = 1,
    samples_per_pixel: int = 1,
    modality: str = "OT",
    patient_name: str = "Conformance^Synthetic",
    study_date: str = "20240102",
    extra: Callable[[Dataset], None] | None = None,
) -> SampleInstance:
    """A deterministic-pixel 8-bit Secondary Capture instance with fresh UIDs where none are given."""
    if samples_per_pixel not in (1, 3):
        raise ValueError("samples_per_pixel must be 1 (MONOCHROME2) or 3 (RGB)")
    if min(rows, columns, frames) < 1:
        raise ValueError("rows, columns and frames must be positive")
    ds = Dataset()
    ds.SOPClassUID = _synthetic_sop_class(frames, samples_per_pixel)
    ds.SOPInstanceUID = new_uid()
    ds.StudyInstanceUID = study_uid or new_uid()
    ds.SeriesInstanceUID = series_uid or new_uid()
    _set_patient_and_study(ds, patient_name, study_date, "DICOMweb conformance synthetic")
    _set_series_and_image(ds, modality, 1, 1)
    ds.SeriesDescription = name
    _set_pixels(ds, _synthetic_pixels(frames, rows, columns, samples_per_pixel))
    stamp_run(ds, run_id)
    if extra is not None:
        stamped = ds.PatientID
        extra(ds)
        if ds.PatientID == stamped:  # extra left PatientID alone: keep one PatientName per PatientID
            ds.PatientID = run_patient_id(run_id, str(ds.get("PatientName", "")))
    return instance_from_dataset(name, ds, reuse=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dicomweb_conformance.dicom.samples", description=write_tutorial_samples.__doc__
    )
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    for path in write_tutorial_samples(args.outdir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
