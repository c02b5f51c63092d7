from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames, parse_basic_offsets

import dicomweb_conformance
from dicomweb_conformance.corpora.compressed import (
    BuiltInFile,
    build_files,
    built_in_file,
    built_in_files,
    built_in_names,
)
from dicomweb_conformance.dicom import part10
from dicomweb_conformance.dicom.codecs import (
    LOSSY_SYNTAXES,
    LOSSY_TOLERANCE,
    ImageDescription,
    decode_frame,
    decode_frames,
)
from dicomweb_conformance.dicom.samples import IMPLEMENTATION_CLASS_UID
from dicomweb_conformance.dicom.uids import is_valid_uid

FILES = built_in_files()
BY_NAME = {file.name: file for file in FILES}
IMAGES = [file for file in FILES if file.source is not None]
MAX_FILE_SIZE = 300_000
JPEG_MEAN_ERROR = 10
SEARCHABLE = ("PatientName", "PatientID", "StudyDate", "Modality", "AccessionNumber", "StudyID")
SEARCHABLE_NUMBERS = ("SeriesNumber", "InstanceNumber")
SYNTAX_OF_SUFFIX = {
    "explicit": part10.EXPLICIT_VR_LITTLE_ENDIAN,
    "deflated": part10.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    "jpeg_baseline": part10.JPEG_BASELINE_8BIT,
    "jpeg_lossless_sv1": part10.JPEG_LOSSLESS_SV1,
    "jpegls_lossless": part10.JPEG_LS_LOSSLESS,
    "jpegls_near_lossless": part10.JPEG_LS_NEAR_LOSSLESS,
    "j2k_lossless": part10.JPEG_2000_LOSSLESS,
    "j2k_lossy": part10.JPEG_2000,
    "rle": part10.RLE_LOSSLESS,
}
DIGESTS_SCRIPT = (
    "from dicomweb_conformance.corpora.compressed import built_in_files; import hashlib\n"
    "for f in built_in_files(): print(f.name, hashlib.sha256(f.data).hexdigest())"
)


def parsed(file: BuiltInFile) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(file.data))


def digests(files: list[BuiltInFile]) -> list[str]:
    return [f"{file.name} {hashlib.sha256(file.data).hexdigest()}" for file in files]


def max_error(file: BuiltInFile) -> int:
    assert file.source is not None
    decoded = decode_frames(parsed(file))
    assert len(decoded) == len(file.source)
    pairs = zip(decoded, file.source, strict=True)
    return max(int(np.abs(got.astype(np.int64) - want.astype(np.int64)).max()) for got, want in pairs)


def test_two_builds_are_byte_identical() -> None:
    first, second = build_files(), build_files()
    assert digests(first) == digests(second)
    assert digests(first) == digests(FILES)


def test_the_names_collection_uses_are_the_built_files_own() -> None:
    """Collection parametrizes by built_in_names without building; each name and syntax is its file's."""
    built = [(file.name, str(parsed(file).file_meta.TransferSyntaxUID)) for file in build_files()]
    assert built_in_names() == built


def test_one_file_built_alone_is_the_same_file() -> None:
    fresh = {file.name: file.data for file in build_files()}
    for name, _ in built_in_names():
        assert built_in_file(name).data == fresh[name], name


def test_another_process_builds_the_same_bytes() -> None:
    root = str(Path(dicomweb_conformance.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    answer = subprocess.run(
        [sys.executable, "-c", DIGESTS_SCRIPT], capture_output=True, text=True, check=True, env=env, cwd=root
    )
    assert answer.stdout.splitlines() == digests(FILES)


def test_the_corpus_holds_every_case() -> None:
    assert len(BY_NAME) == len(FILES) >= 20
    for kind in ("ct16s", "mr12", "sc8", "rgb", "enhmr120"):
        assert f"{kind}_explicit.dcm" in BY_NAME
    assert {"pdf_encapsulated.dcm", "sr_basic_text.dcm"} <= BY_NAME.keys()
    assert max(len(file.data) for file in FILES) < MAX_FILE_SIZE


@pytest.mark.parametrize("file", FILES, ids=lambda file: file.name)
def test_file_is_part10_with_our_file_meta(file: BuiltInFile) -> None:
    assert file.data[128:132] == b"DICM"
    ds = parsed(file)
    assert ds.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert is_valid_uid(ds[keyword].value)
    for keyword in SEARCHABLE:
        assert str(ds[keyword].value), keyword
    for keyword in SEARCHABLE_NUMBERS:
        assert int(ds[keyword].value) >= 1, keyword


def test_uids_are_unique_and_studies_group_by_patient() -> None:
    datasets = [parsed(file) for file in FILES]
    assert len({ds.SOPInstanceUID for ds in datasets}) == len(FILES)
    assert len({ds.SeriesInstanceUID for ds in datasets}) == len(FILES)
    studies = {ds.StudyInstanceUID: ds.PatientID for ds in datasets}
    assert len(set(studies.values())) == len(studies)


@pytest.mark.parametrize("file", IMAGES, ids=lambda file: file.name)
def test_syntax_is_the_one_named(file: BuiltInFile) -> None:
    suffix = file.name.removesuffix(".dcm").split("_", 1)[1]
    assert parsed(file).file_meta.TransferSyntaxUID == SYNTAX_OF_SUFFIX[suffix]


@pytest.mark.parametrize("file", IMAGES, ids=lambda file: file.name)
def test_decoded_pixels_equal_the_source(file: BuiltInFile) -> None:
    ds = parsed(file)
    syntax = str(ds.file_meta.TransferSyntaxUID)
    error = max_error(file)
    if syntax in LOSSY_SYNTAXES:
        assert 0 < error <= LOSSY_TOLERANCE * ((1 << int(ds.BitsStored)) - 1)
        assert ds.LossyImageCompression == "01"
        assert float(ds.LossyImageCompressionRatio) > 1
        assert ds.LossyImageCompressionMethod.startswith("ISO_")
    else:
        assert error == 0
        assert ds.LossyImageCompression == "00"


def test_lossy_tolerance_is_the_measured_worst_with_a_small_margin() -> None:
    worst = max(
        max_error(file) / ((1 << int(parsed(file).BitsStored)) - 1)
        for file in IMAGES
        if parsed(file).file_meta.TransferSyntaxUID in LOSSY_SYNTAXES
    )
    assert LOSSY_TOLERANCE * 0.8 < worst <= LOSSY_TOLERANCE


def test_rgb_jpeg_baseline_is_ybr_full_422_and_decodes_to_rgb() -> None:
    file = BY_NAME["rgb_jpeg_baseline.dcm"]
    assert file.source is not None
    ds = parsed(file)
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    image = ImageDescription.of(ds)
    right = np.abs(decode_frame(frame, ds.file_meta.TransferSyntaxUID, image).astype(np.int64) - file.source[0])
    unconverted = decode_frame(frame, ds.file_meta.TransferSyntaxUID, dataclasses.replace(image, photometric="RGB"))
    wrong = np.abs(unconverted.astype(np.int64) - file.source[0])
    # Measured: 4.4 mean (57 max) decoded as YBR_FULL_422, 28.6 mean (126 max) left as YCbCr.
    assert right.mean() < JPEG_MEAN_ERROR < wrong.mean()
    assert wrong.max() > LOSSY_TOLERANCE * 255


def test_ct_is_signed_with_a_rescale() -> None:
    ds = parsed(BY_NAME["ct16s_explicit.dcm"])
    assert (ds.PixelRepresentation, ds.BitsAllocated, ds.BitsStored) == (1, 16, 16)
    assert (float(ds.RescaleIntercept), float(ds.RescaleSlope)) == (-1024, 1)
    source = BY_NAME["ct16s_explicit.dcm"].source
    assert source is not None
    assert source[0].min() < 0


def test_mr_stores_twelve_bits_in_sixteen() -> None:
    ds = parsed(BY_NAME["mr12_explicit.dcm"])
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 12, 11)


@pytest.mark.parametrize("name", ["enhmr120_explicit.dcm", "enhmr120_jpegls_lossless.dcm", "enhmr120_j2k_lossless.dcm"])
def test_enhanced_mr_has_a_frame_per_functional_group(name: str) -> None:
    ds = parsed(BY_NAME[name])
    frames = int(ds.NumberOfFrames)
    assert frames >= 100
    assert len(ds.PerFrameFunctionalGroupsSequence) == frames
    assert len(ds.SharedFunctionalGroupsSequence) == 1
    assert len(ds.DimensionIndexSequence) == 2
    if ds.file_meta.TransferSyntaxUID != part10.EXPLICIT_VR_LITTLE_ENDIAN:
        # PS3.5 A.4: the Basic Offset Table holds where each of the frames starts.
        assert len(parse_basic_offsets(io.BytesIO(ds.PixelData))) == frames


def test_encapsulated_pdf_holds_a_pdf() -> None:
    ds = parsed(BY_NAME["pdf_encapsulated.dcm"])
    with pytest.raises(ValueError, match="no Pixel Data"):
        decode_frames(ds)
    document = bytes(ds.EncapsulatedDocument)[: int(ds.EncapsulatedDocumentLength)]
    assert document.startswith(b"%PDF-1.4")
    assert document.rstrip().endswith(b"%%EOF")
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert "PixelData" not in ds


def test_pdf_cross_reference_points_at_its_objects() -> None:
    ds = parsed(BY_NAME["pdf_encapsulated.dcm"])
    document = bytes(ds.EncapsulatedDocument)[: int(ds.EncapsulatedDocumentLength)]
    xref = int(document.rsplit(b"startxref\n", 1)[1].split()[0])
    entries = document[xref:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        assert document[int(entry[:10]) :].startswith(b"%d 0 obj" % number)


def test_basic_text_sr_holds_its_text() -> None:
    ds = parsed(BY_NAME["sr_basic_text.dcm"])
    assert ds.ValueType == "CONTAINER"
    assert ds.ContentSequence[0].ValueType == "TEXT"


def test_sources_are_read_only() -> None:
    source = BY_NAME["sc8_explicit.dcm"].source
    assert source is not None
    with pytest.raises(ValueError, match="read-only"):
        source[0][0, 0, 0] = 1
