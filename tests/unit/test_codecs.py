from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import generate_frames

from dicomweb_conformance.dicom import part10
from dicomweb_conformance.dicom.codecs import (
    ENCAPSULATED_MEDIA_TYPES,
    LOSSY_SYNTAXES,
    LOSSY_TOLERANCE,
    ImageDescription,
    UndecodableSyntax,
    decode_frame,
    decode_frames,
    encode_frame,
    frame_magic_matches,
)

Frames = npt.NDArray[np.int64]

# pydicom decodes these itself (no plugin): native in every byte order and VR encoding, deflated, RLE.
PYDICOM_DECODES = (
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "ExplVR_BigEnd.dcm",
    "SC_rgb_small_odd_big_endian.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
    "image_dfl.dcm",
    "MR_small_RLE.dcm",
    "SC_rgb_rle.dcm",
    "SC_rgb_rle_16bit.dcm",
    "SC_rgb_rle_32bit_2frame.dcm",
    "rtdose_rle.dcm",
)
# Lossless compressed files whose uncompressed twin pydicom also ships.
LOSSLESS_TWINS = (
    ("MR_small_RLE.dcm", "MR_small.dcm"),
    ("MR_small_jp2klossless.dcm", "MR_small.dcm"),
    ("MR_small_jpeg_ls_lossless.dcm", "MR_small.dcm"),
    ("SC_rgb_jpeg_gdcm.dcm", "SC_rgb_rle.dcm"),  # .4.70, RGB
    ("SC_rgb_gdcm_KY.dcm", "SC_rgb_rle.dcm"),  # .4.91 labelled, reversible content, RGB
)
# Lossy JPEG encodings of SC_rgb_rle.dcm's image in each colour space, with the mean error each shows (measured:
# 0.14 to 2.8). A YBR frame left unconverted, or an RGB one converted, is off by about 100 on average.
JPEG_COLOUR_TWINS = (
    "SC_rgb_dcmtk_+eb+cr.dcm",  # RGB, no colour transform
    "SC_rgb_jpeg_dcmtk.dcm",  # YBR_FULL
    "SC_rgb_dcmtk_+eb+cy+np.dcm",  # YBR_FULL_422
    "SC_rgb_dcmtk_+eb+cy+s2.dcm",  # YBR_FULL_422
    "SC_rgb_jpeg_lossy_gdcm.dcm",  # YBR_FULL
)
JPEG_COLOUR_MEAN_ERROR = 3.0


def read(name: str) -> pydicom.Dataset:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not bundled with pydicom"
    return pydicom.dcmread(path)


def stacked(ds: pydicom.Dataset) -> Frames:
    return np.stack(decode_frames(ds)).astype(np.int64)


def first_frame(ds: pydicom.Dataset) -> bytes:
    return next(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1) or 1)))


def mono(bits_stored: int, signed: bool = False, rows: int = 8, columns: int = 6) -> ImageDescription:
    bits_allocated = 8 if bits_stored <= 8 else 16
    return ImageDescription(rows, columns, 1, bits_allocated, bits_stored, int(signed), "MONOCHROME2", 0, 1)


def colour(photometric: str, rows: int = 16, columns: int = 16) -> ImageDescription:
    return ImageDescription(rows, columns, 3, 8, 8, 0, photometric, 0, 1)


@pytest.mark.parametrize("name", PYDICOM_DECODES)
def test_decode_frames_equals_pydicom(name: str) -> None:
    ds = read(name)
    ours = stacked(ds)
    assert np.array_equal(ours, ds.pixel_array.reshape(ours.shape))


@pytest.mark.parametrize(("compressed", "native"), LOSSLESS_TWINS)
def test_lossless_compressed_equals_its_twin(compressed: str, native: str) -> None:
    assert np.array_equal(stacked(read(compressed)), stacked(read(native)))


@pytest.mark.parametrize("name", JPEG_COLOUR_TWINS)
def test_lossy_jpeg_colour_comes_out_rgb(name: str) -> None:
    ds = read(name)
    error = np.abs(stacked(ds) - stacked(read("SC_rgb_rle.dcm")))
    assert error.mean() < JPEG_COLOUR_MEAN_ERROR, ds.PhotometricInterpretation


@pytest.mark.parametrize(
    ("name", "shape", "dtype"),
    [
        ("JPEG-lossy.dcm", (1, 1024, 256, 1), np.uint16),  # .4.51, 12-bit
        ("SC_jpeg_no_color_transform.dcm", (1, 256, 256, 3), np.uint8),
        ("examples_ybr_color.dcm", (30, 240, 320, 3), np.uint8),
        ("JPEGLSNearLossless_16.dcm", (1, 50, 10, 1), np.uint16),  # .4.81
        ("MR_small_jp2klossless.dcm", (1, 64, 64, 1), np.int16),
    ],
)
def test_compressed_decodes_to_the_described_shape(name: str, shape: tuple[int, ...], dtype: type) -> None:
    frames = decode_frames(read(name))
    assert (len(frames), *frames[0].shape) == shape
    assert all(frame.dtype == dtype for frame in frames)


def test_rgb_jpeg_without_colour_transform_is_not_converted() -> None:
    # The frame has no JFIF / Adobe marker, so libjpeg on its own would take it for YCbCr (a magenta pixel).
    pixel = decode_frames(read("SC_jpeg_no_color_transform.dcm"))[0][0, 0]
    assert pixel.tolist() == [244, 244, 244]


def test_values_are_masked_to_bits_stored() -> None:
    image = mono(12, rows=1, columns=2)
    data = struct.pack("<2H", 0xF123, 0x0FFF)
    assert decode_frame(data, part10.EXPLICIT_VR_LITTLE_ENDIAN, image).ravel().tolist() == [0x123, 0xFFF]


def test_signed_values_are_sign_extended_from_bits_stored() -> None:
    image = mono(12, signed=True, rows=1, columns=3)
    data = struct.pack("<3H", 0x0FFF, 0x0800, 0xF7FF)
    decoded = decode_frame(data, part10.EXPLICIT_VR_LITTLE_ENDIAN, image)
    assert decoded.dtype == np.int16
    assert decoded.ravel().tolist() == [-1, -2048, 2047]


def test_planar_configuration_1_is_interleaved() -> None:
    image = ImageDescription(1, 2, 3, 8, 8, 0, "RGB", 1, 1)
    decoded = decode_frame(bytes([1, 2, 3, 4, 5, 6]), part10.EXPLICIT_VR_LITTLE_ENDIAN, image)
    assert decoded.tolist() == [[[1, 3, 5], [2, 4, 6]]]


def test_image_description_of_a_dataset() -> None:
    image = ImageDescription.of(read("SC_rgb_rle_32bit_2frame.dcm"))
    assert image == ImageDescription(100, 100, 3, 32, 32, 0, "RGB", 0, 2)
    assert image.native_frame_size == 100 * 100 * 3 * 4


def test_native_ybr_full_422_frame_is_subsampled() -> None:
    image = ImageDescription.of(read("SC_ybr_full_422_uncompressed.dcm"))
    assert image.native_frame_size == 100 * 100 * 2


def phantom(image: ImageDescription, seed: int = 7) -> npt.NDArray[np.integer]:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : image.rows, 0 : image.columns]
    low = -(1 << (image.bits_stored - 1)) if image.pixel_representation else 0
    span = (1 << image.bits_stored) - 1
    base = (x * 7 + y * 3) / (image.rows * 7 + image.columns * 3)
    planes = [base, base[::-1], base[:, ::-1]][: image.samples_per_pixel]
    noisy = np.stack(planes, axis=-1) * 0.9 + 0.1 * rng.random((image.rows, image.columns, image.samples_per_pixel))
    return (low + np.round(noisy * span)).astype(image.dtype)


ROUND_TRIPS = [
    (part10.EXPLICIT_VR_LITTLE_ENDIAN, mono(16, signed=True)),
    (part10.JPEG_LOSSLESS_SV1, mono(16, signed=True)),
    (part10.JPEG_LOSSLESS_SV1, mono(12)),
    (part10.JPEG_LOSSLESS_SV1, colour("RGB")),
    (part10.JPEG_LS_LOSSLESS, mono(16, signed=True)),
    (part10.JPEG_LS_LOSSLESS, mono(12, signed=True)),
    (part10.JPEG_LS_LOSSLESS, colour("RGB")),
    (part10.JPEG_2000_LOSSLESS, mono(16, signed=True)),
    (part10.JPEG_2000_LOSSLESS, mono(12)),
    (part10.JPEG_2000_LOSSLESS, colour("RGB")),
    (part10.JPEG_2000_LOSSLESS, colour("YBR_RCT")),
    (part10.RLE_LOSSLESS, mono(16, signed=True)),
    (part10.RLE_LOSSLESS, colour("RGB")),
    (part10.JPEG_BASELINE_8BIT, mono(8)),
    (part10.JPEG_BASELINE_8BIT, colour("YBR_FULL_422")),
    (part10.JPEG_LS_NEAR_LOSSLESS, mono(12)),
    (part10.JPEG_2000, mono(12)),
    (part10.JPEG_2000, colour("YBR_ICT")),
]


@pytest.mark.parametrize(("syntax", "image"), ROUND_TRIPS, ids=lambda value: str(getattr(value, "photometric", value)))
def test_encode_then_decode_round_trips(syntax: str, image: ImageDescription) -> None:
    source = phantom(image)
    decoded = decode_frame(encode_frame(source, syntax, image), syntax, image)
    assert decoded.dtype == source.dtype
    assert decoded.shape == source.shape
    error = int(np.abs(decoded.astype(np.int64) - source.astype(np.int64)).max())
    if syntax in LOSSY_SYNTAXES:
        assert error <= LOSSY_TOLERANCE * ((1 << image.bits_stored) - 1)
    else:
        assert error == 0


def j2k_uses_mct(codestream: bytes) -> bool:
    """ISO/IEC 15444-1 A.6.1: the COD segment's SGcod ends with the multiple component transformation byte."""
    position = codestream.index(b"\xff\x52")
    return codestream[position + 8] == 1


def test_j2k_ybr_rct_is_written_with_the_reversible_colour_transform() -> None:
    source = phantom(colour("YBR_RCT"))
    assert j2k_uses_mct(encode_frame(source, part10.JPEG_2000_LOSSLESS, colour("YBR_RCT")))
    assert not j2k_uses_mct(encode_frame(source, part10.JPEG_2000_LOSSLESS, colour("RGB")))


def test_jpeg_ybr_full_422_of_pure_red_decodes_red() -> None:
    red = np.zeros((16, 16, 3), dtype=np.uint8)
    red[..., 0] = 255
    image = colour("YBR_FULL_422")
    decoded = decode_frame(encode_frame(red, part10.JPEG_BASELINE_8BIT, image), part10.JPEG_BASELINE_8BIT, image)
    assert np.abs(decoded.astype(np.int64) - red).max() <= 2


def corpus_frames() -> dict[str, bytes]:
    image = mono(12)
    source = phantom(image)
    frames = {
        syntax: encode_frame(source, syntax, image)
        for syntax in (
            part10.JPEG_LOSSLESS_SV1,
            part10.JPEG_LS_LOSSLESS,
            part10.JPEG_LS_NEAR_LOSSLESS,
            part10.JPEG_2000_LOSSLESS,
            part10.JPEG_2000,
            part10.RLE_LOSSLESS,
        )
    }
    frames[part10.JPEG_BASELINE_8BIT] = encode_frame(phantom(mono(8)), part10.JPEG_BASELINE_8BIT, mono(8))
    frames[part10.JPEG_EXTENDED_12BIT] = first_frame(read("JPEG-lossy.dcm"))
    return frames


FAMILIES = {
    part10.JPEG_BASELINE_8BIT: "jpeg-dct",
    part10.JPEG_EXTENDED_12BIT: "jpeg-dct",
    part10.JPEG_LOSSLESS_SV1: "jpeg-lossless",
    part10.JPEG_LS_LOSSLESS: "jpeg-ls",
    part10.JPEG_LS_NEAR_LOSSLESS: "jpeg-ls",
    part10.JPEG_2000_LOSSLESS: "j2k",
    part10.JPEG_2000: "j2k",
    part10.RLE_LOSSLESS: "rle",
}


def test_frame_magic_matches_its_own_syntax_only() -> None:
    for made_as, frame in corpus_frames().items():
        for checked_as, family in FAMILIES.items():
            expected = family == FAMILIES[made_as]
            # PS3.5 A.4.1: an 8-bit baseline (SOF0) frame is valid for .4.51 too, not a 12-bit SOF1 one for .4.50.
            if (made_as, checked_as) == (part10.JPEG_EXTENDED_12BIT, part10.JPEG_BASELINE_8BIT):
                expected = False
            assert frame_magic_matches(frame, checked_as) is expected, (made_as, checked_as)


def test_frame_magic_matches_pydicom_frames() -> None:
    assert frame_magic_matches(first_frame(read("SC_rgb_jpeg_gdcm.dcm")), part10.JPEG_LOSSLESS_SV1)
    assert frame_magic_matches(first_frame(read("MR_small_jpeg_ls_lossless.dcm")), part10.JPEG_LS_LOSSLESS)
    assert frame_magic_matches(first_frame(read("MR_small_jp2klossless.dcm")), part10.JPEG_2000_LOSSLESS)
    assert frame_magic_matches(first_frame(read("MR_small_RLE.dcm")), part10.RLE_LOSSLESS)
    assert frame_magic_matches(first_frame(read("SC_rgb_dcmtk_+eb+cy+np.dcm")), part10.JPEG_BASELINE_8BIT)
    assert not frame_magic_matches(first_frame(read("MR_small_RLE.dcm")), part10.JPEG_2000)


def test_frame_magic_accepts_a_jp2_file() -> None:
    assert frame_magic_matches(b"\x00\x00\x00\x0cjP  \r\n\x87\n", part10.JPEG_2000)


def test_native_frame_magic_is_its_length() -> None:
    image = mono(12)
    assert frame_magic_matches(bytes(image.native_frame_size), part10.EXPLICIT_VR_LITTLE_ENDIAN, image)
    assert not frame_magic_matches(bytes(image.native_frame_size + 2), part10.EXPLICIT_VR_LITTLE_ENDIAN, image)
    with pytest.raises(ValueError, match="image description"):
        frame_magic_matches(b"", part10.EXPLICIT_VR_LITTLE_ENDIAN)


def test_unknown_syntax_is_undecodable() -> None:
    with pytest.raises(UndecodableSyntax):
        decode_frame(b"", "1.2.840.10008.1.2.4.100", mono(8))
    with pytest.raises(UndecodableSyntax):
        encode_frame(phantom(mono(12)), part10.JPEG_BASELINE_8BIT, mono(12))


def test_media_types_follow_ps3_18() -> None:
    assert ENCAPSULATED_MEDIA_TYPES[part10.JPEG_2000] == "image/jp2"
    assert ENCAPSULATED_MEDIA_TYPES[part10.JPEG_LS_LOSSLESS] == "image/jls"
    assert ENCAPSULATED_MEDIA_TYPES[part10.RLE_LOSSLESS] == "image/dicom-rle"
    assert ENCAPSULATED_MEDIA_TYPES[part10.JPEG_LOSSLESS_SV1] == "image/jpeg"
    assert LOSSY_SYNTAXES.issubset(ENCAPSULATED_MEDIA_TYPES)


@pytest.mark.parametrize(
    ("data", "syntax"),
    [
        (b"", part10.JPEG_LOSSLESS_SV1),
        (b"\xff\xd8", part10.JPEG_LS_LOSSLESS),
        (b"\xff\xd8\xff\xdb\x00\x43", part10.JPEG_BASELINE_8BIT),  # a table segment cut short
        (b"\xff\xd8\xff\xda\x00\x08", part10.JPEG_BASELINE_8BIT),  # a scan before any frame header
        (b"\x02\x00\x00\x00\x40", part10.RLE_LOSSLESS),
        (struct.pack("<2I", 16, 64) + bytes(56), part10.RLE_LOSSLESS),  # PS3.5 G.5: at most 15 segments
        (b"\xff\x4f\xff\x90", part10.JPEG_2000_LOSSLESS),  # SOC then SOT: no SIZ
    ],
)
def test_frame_magic_rejects_truncated_or_malformed_frames(data: bytes, syntax: str) -> None:
    assert not frame_magic_matches(data, syntax)


def test_rle_segment_count_must_fit_the_image() -> None:
    frame = encode_frame(phantom(mono(16, signed=True)), part10.RLE_LOSSLESS, mono(16, signed=True))
    with pytest.raises(ValueError, match="RLE segments"):
        decode_frame(frame, part10.RLE_LOSSLESS, mono(8))
