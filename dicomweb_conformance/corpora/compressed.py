"""The built-in realistic corpus: CT, MR, Secondary Capture and Enhanced MR images in every transfer syntax that
fits them, an Encapsulated PDF and a Basic Text SR, as complete Part 10 files with fixed UIDs and dates.

Deterministic for pinned pydicom / imagecodecs / zlib: the same bytes on every call and in every process. Built in
well under a second; nothing is committed as a binary.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID

from dicomweb_conformance.corpora import compressed_iods as iods
from dicomweb_conformance.dicom import part10
from dicomweb_conformance.dicom.codecs import LOSSY_SYNTAXES, NATIVE_SYNTAXES, ImageDescription, encode_frame
from dicomweb_conformance.dicom.samples import instance_from_dataset

Builder = Callable[[str, int], tuple[Dataset, iods.Frames]]
DocumentBuilder = Callable[[str, int], Dataset]


@dataclass(frozen=True)
class BuiltInFile:
    """One corpus file: its name (the test id), its Part 10 bytes, and the canonical frames it was encoded from."""

    name: str
    data: bytes
    source: list[npt.NDArray[np.integer]] | None


@dataclass(frozen=True)
class _Case:
    name: str
    builder: Builder
    syntax: str
    photometric: str | None = None  # how the encoded colour is described, when it is not the source's RGB


# PS3.3 C.7.6.1.1.5.1: the Lossy Image Compression Method of each lossy syntax.
_LOSSY_METHODS = {
    part10.JPEG_BASELINE_8BIT: "ISO_10918_1",
    part10.JPEG_EXTENDED_12BIT: "ISO_10918_1",
    part10.JPEG_LS_NEAR_LOSSLESS: "ISO_14495_1",
    part10.JPEG_2000: "ISO_15444_1",
}

_IMAGE_CASES = (
    _Case("ct16s_explicit", iods.ct16s, part10.EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("ct16s_deflated", iods.ct16s, part10.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("ct16s_jpeg_lossless_sv1", iods.ct16s, part10.JPEG_LOSSLESS_SV1),
    _Case("ct16s_jpegls_lossless", iods.ct16s, part10.JPEG_LS_LOSSLESS),
    _Case("ct16s_j2k_lossless", iods.ct16s, part10.JPEG_2000_LOSSLESS),
    _Case("ct16s_rle", iods.ct16s, part10.RLE_LOSSLESS),
    _Case("mr12_explicit", iods.mr12, part10.EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("mr12_jpeg_lossless_sv1", iods.mr12, part10.JPEG_LOSSLESS_SV1),
    _Case("mr12_jpegls_lossless", iods.mr12, part10.JPEG_LS_LOSSLESS),
    _Case("mr12_jpegls_near_lossless", iods.mr12, part10.JPEG_LS_NEAR_LOSSLESS),
    _Case("mr12_j2k_lossy", iods.mr12, part10.JPEG_2000),
    _Case("sc8_explicit", iods.sc8, part10.EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("sc8_jpeg_baseline", iods.sc8, part10.JPEG_BASELINE_8BIT),
    _Case("rgb_explicit", iods.rgb, part10.EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("rgb_jpeg_baseline", iods.rgb, part10.JPEG_BASELINE_8BIT, "YBR_FULL_422"),
    _Case("rgb_jpeg_lossless_sv1", iods.rgb, part10.JPEG_LOSSLESS_SV1),
    _Case("rgb_jpegls_lossless", iods.rgb, part10.JPEG_LS_LOSSLESS),
    # PS3.5 8.2.4: YBR_RCT is the reversible colour transform inside the lossless codestream.
    _Case("rgb_j2k_lossless", iods.rgb, part10.JPEG_2000_LOSSLESS, "YBR_RCT"),
    _Case("rgb_rle", iods.rgb, part10.RLE_LOSSLESS),
    _Case("enhmr120_explicit", iods.enhanced_mr, part10.EXPLICIT_VR_LITTLE_ENDIAN),
    _Case("enhmr120_jpegls_lossless", iods.enhanced_mr, part10.JPEG_LS_LOSSLESS),
    _Case("enhmr120_j2k_lossless", iods.enhanced_mr, part10.JPEG_2000_LOSSLESS),
)
_DOCUMENT_CASES: tuple[tuple[str, DocumentBuilder], ...] = (
    ("pdf_encapsulated", iods.encapsulated_pdf),
    ("sr_basic_text", iods.basic_text_sr),
)


def built_in_names() -> list[tuple[str, str]]:
    """Every corpus file's name and transfer syntax, in built_in_files' order, without building any (collection
    needs only these)."""
    names = [(case.name + ".dcm", case.syntax) for case in _IMAGE_CASES]
    return names + [(name + ".dcm", part10.EXPLICIT_VR_LITTLE_ENDIAN) for name, _ in _DOCUMENT_CASES]


def built_in_files() -> list[BuiltInFile]:
    """Every corpus file, in a fixed order: each built once per process (the source arrays are read-only)."""
    return [built_in_file(name) for name, _ in built_in_names()]


@functools.cache
def built_in_file(name: str) -> BuiltInFile:
    """One corpus file by name ("ct16s_j2k_lossless.dcm"), built on first use in this process."""
    series = [listed for listed, _ in built_in_names()].index(name) + 1
    if series <= len(_IMAGE_CASES):
        return _image_file(_IMAGE_CASES[series - 1], series)
    document, builder = _DOCUMENT_CASES[series - 1 - len(_IMAGE_CASES)]
    return BuiltInFile(name, _part10(builder(document, series), part10.EXPLICIT_VR_LITTLE_ENDIAN), None)


def build_files() -> list[BuiltInFile]:
    """Every corpus file, built afresh (what built_in_files caches)."""
    files = [_image_file(case, series) for series, case in enumerate(_IMAGE_CASES, start=1)]
    for series, (name, builder) in enumerate(_DOCUMENT_CASES, start=len(files) + 1):
        files.append(BuiltInFile(name + ".dcm", _part10(builder(name, series), part10.EXPLICIT_VR_LITTLE_ENDIAN), None))
    return files


def _image_file(case: _Case, series_number: int) -> BuiltInFile:
    ds, frames = case.builder(case.name, series_number)
    if case.photometric:
        ds.PhotometricInterpretation = case.photometric
    image = ImageDescription.of(ds)
    ds.LossyImageCompression = "00"
    if case.syntax in NATIVE_SYNTAXES:
        ds.PixelData = b"".join(encode_frame(frame, case.syntax, image) for frame in frames)
        ds["PixelData"].VR = "OB" if image.bits_allocated == 8 else "OW"
    else:
        encoded = [encode_frame(frame, case.syntax, image) for frame in frames]
        # PS3.5 A.4: one fragment per frame; the Basic Offset Table lists where each frame starts (A.4 Table A.4-1).
        ds.PixelData = encapsulate(encoded, has_bot=len(encoded) > 1)
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        if case.syntax in LOSSY_SYNTAXES:
            native = image.rows * image.columns * image.samples_per_pixel * image.bits_allocated // 8 * len(frames)
            ds.LossyImageCompression = "01"
            ds.LossyImageCompressionRatio = f"{native / sum(len(frame) for frame in encoded):.2f}"
            ds.LossyImageCompressionMethod = _LOSSY_METHODS[case.syntax]
    for frame in frames:
        frame.flags.writeable = False
    return BuiltInFile(case.name + ".dcm", _part10(ds, case.syntax), frames)


def _part10(ds: Dataset, syntax: str) -> bytes:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    return instance_from_dataset(str(ds.SeriesDescription), ds, reuse=True).data
