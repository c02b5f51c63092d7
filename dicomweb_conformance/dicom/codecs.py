"""Pixel data of every transfer syntax the suite meets, decoded to one canonical array (and encoded, for the corpus).

The canonical frame is a (rows, columns, samples) array of uint8/int8/uint16/int16/uint32/int32 (by Bits Allocated
and Pixel Representation), colour always RGB, values masked to Bits Stored and sign-extended when signed: two
decodings of the same pixels compare equal with ``np.array_equal`` whatever syntax carried them.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import cast

import imagecodecs
import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.encaps import generate_frames
from pydicom.pixels.encoders.base import RLELosslessEncoder

from dicomweb_conformance.dicom import part10
from dicomweb_conformance.dicom.rle import rle_decode_frame

Frame = npt.NDArray[np.integer]

# PS3.5 A.4.1 (JPEG), A.4.3 (JPEG-LS), A.4.4 (JPEG 2000): the lossy ones; PS3.3 C.7.6.1.1.5 asks for Lossy Image
# Compression "01" on what they carry.
LOSSY_SYNTAXES = frozenset(
    {part10.JPEG_BASELINE_8BIT, part10.JPEG_EXTENDED_12BIT, part10.JPEG_LS_NEAR_LOSSLESS, part10.JPEG_2000}
)
# The largest |decoded - source| of a lossy frame, as a fraction of the Bits Stored range, that the built-in corpus
# stays under. Measured by tests/unit/test_compressed_corpus.py on every lossy corpus file: JPEG Baseline 4:2:2 on
# the RGB phantom's sharp chroma edges 57/255 = 0.224 (the worst), JPEG Baseline mono 14/255 = 0.055, JPEG 2000 at
# 40 dB 179/4095 = 0.044, JPEG-LS NEAR=3 3/4095. A decoder showing another image (or unconverted YBR) misses it.
LOSSY_TOLERANCE = 0.25
# PS3.18 Table 8.7.3-5 (Compressed Bulkdata media types): the media type of a frame in its own transfer syntax.
ENCAPSULATED_MEDIA_TYPES: dict[str, str] = {
    part10.JPEG_BASELINE_8BIT: "image/jpeg",
    part10.JPEG_EXTENDED_12BIT: "image/jpeg",
    part10.JPEG_LOSSLESS: "image/jpeg",
    part10.JPEG_LOSSLESS_SV1: "image/jpeg",
    part10.JPEG_LS_LOSSLESS: "image/jls",
    part10.JPEG_LS_NEAR_LOSSLESS: "image/jls",
    part10.JPEG_2000_LOSSLESS: "image/jp2",
    part10.JPEG_2000: "image/jp2",
    part10.RLE_LOSSLESS: "image/dicom-rle",
}
NATIVE_SYNTAXES = frozenset(
    {
        part10.IMPLICIT_VR_LITTLE_ENDIAN,
        part10.EXPLICIT_VR_LITTLE_ENDIAN,
        part10.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
        part10.EXPLICIT_VR_BIG_ENDIAN,
    }
)
_JPEG_SYNTAXES = frozenset(
    {part10.JPEG_BASELINE_8BIT, part10.JPEG_EXTENDED_12BIT, part10.JPEG_LOSSLESS, part10.JPEG_LOSSLESS_SV1}
)
_JPEG_LS_SYNTAXES = frozenset({part10.JPEG_LS_LOSSLESS, part10.JPEG_LS_NEAR_LOSSLESS})
_J2K_SYNTAXES = frozenset({part10.JPEG_2000_LOSSLESS, part10.JPEG_2000})
# T.81 Table B.1 / T.87 Table C.1: the frame header (SOF) each syntax's process writes; PS3.5 A.4.1: .4.50 is
# process 1 (SOF0), .4.51 processes 2 and 4 (SOF0 for 8 bits, SOF1), .4.57 and .4.70 process 14 (SOF3).
_SOF_MARKERS: dict[str, frozenset[int]] = {
    part10.JPEG_BASELINE_8BIT: frozenset({0xC0}),
    part10.JPEG_EXTENDED_12BIT: frozenset({0xC0, 0xC1}),
    part10.JPEG_LOSSLESS: frozenset({0xC3}),
    part10.JPEG_LOSSLESS_SV1: frozenset({0xC3}),
    part10.JPEG_LS_LOSSLESS: frozenset({0xF7}),
    part10.JPEG_LS_NEAR_LOSSLESS: frozenset({0xF7}),
}
_J2K_CODESTREAM = b"\xff\x4f\xff\x51"  # SOC then SIZ (ISO/IEC 15444-1 A.3)
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  "
_JPEG_LS_NEAR = 3  # the NEAR parameter (T.87 A.2.1) encode_frame uses for .4.81
_J2K_PSNR = 40  # dB, the quality encode_frame asks of lossy JPEG 2000 (ratio about 8:1 on the 12-bit phantom)


class UndecodableSyntax(ValueError):
    """A transfer syntax (or a form of pixel data) this module does not decode or encode."""


@dataclass(frozen=True)
class ImageDescription:
    """What is needed to interpret one frame (PS3.3 C.7.6.3 Image Pixel Module)."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    planar_configuration: int
    number_of_frames: int

    @classmethod
    def of(cls, ds: pydicom.Dataset) -> ImageDescription:
        return cls(
            rows=int(ds.Rows),
            columns=int(ds.Columns),
            samples_per_pixel=int(ds.get("SamplesPerPixel", 1)),
            bits_allocated=int(ds.BitsAllocated),
            bits_stored=int(ds.get("BitsStored", ds.BitsAllocated)),
            pixel_representation=int(ds.get("PixelRepresentation", 0)),
            photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
            planar_configuration=int(ds.get("PlanarConfiguration", 0) or 0),
            number_of_frames=int(ds.get("NumberOfFrames", 1) or 1),
        )

    @property
    def native_frame_size(self) -> int:
        """Bytes of one frame in a native syntax; YBR_FULL_422 is stored subsampled there (PS3.3 C.7.6.3.1.2)."""
        if self.bits_allocated % 8:
            raise UndecodableSyntax(f"Bits Allocated {self.bits_allocated} is not a whole number of bytes")
        samples = 2 if self.photometric == "YBR_FULL_422" else self.samples_per_pixel
        return self.rows * self.columns * samples * self.bits_allocated // 8

    @property
    def dtype(self) -> np.dtype[np.integer]:
        kind = "i" if self.pixel_representation else "u"
        return np.dtype(f"<{kind}{self.bits_allocated // 8}")


def decode_frame(data: bytes, syntax: str, image: ImageDescription) -> Frame:
    """One frame as the canonical array: native little endian bytes, or one compressed bitstream (fragments joined)."""
    if syntax in NATIVE_SYNTAXES:
        decoded = _decode_native(data, image)
    elif syntax in _JPEG_SYNTAXES:
        decoded = _decode_jpeg(data, image)
    elif syntax in _JPEG_LS_SYNTAXES:
        decoded = _as_rgb(imagecodecs.jpegls_decode(data), image.photometric)
    elif syntax in _J2K_SYNTAXES:
        # The decoder undoes the codestream's own colour transform (RCT/ICT, PS3.5 8.2.4), leaving RGB.
        decoded = _as_rgb(imagecodecs.jpeg2k_decode(data), image.photometric)
    elif syntax == part10.RLE_LOSSLESS:
        planes = rle_decode_frame(data, image.rows, image.columns, image.samples_per_pixel, image.bits_allocated)
        decoded = _as_rgb(np.moveaxis(planes.view(image.dtype), 0, -1), image.photometric)
    else:
        raise UndecodableSyntax(f"no decoder for transfer syntax {syntax}")
    return _canonical(decoded, image)


def decode_frames(ds: pydicom.Dataset) -> list[Frame]:
    """Every frame of `ds` (native in any byte order, deflated, or encapsulated) as canonical arrays."""
    if "PixelData" not in ds:
        raise ValueError("the dataset has no Pixel Data (7FE0,0010)")
    syntax = str(ds.file_meta.TransferSyntaxUID)
    image = ImageDescription.of(ds)
    if syntax in NATIVE_SYNTAXES:
        raw = _little_endian(ds, syntax, image)
        size = image.native_frame_size
        if len(raw) < size * image.number_of_frames:
            raise ValueError(f"Pixel Data holds {len(raw)} bytes, {image.number_of_frames} frames need more")
        return [decode_frame(raw[k * size : (k + 1) * size], syntax, image) for k in range(image.number_of_frames)]
    frames = generate_frames(ds.PixelData, number_of_frames=image.number_of_frames)
    return [decode_frame(frame, syntax, image) for frame in frames]


def frame_magic_matches(data: bytes, syntax: str, image: ImageDescription | None = None) -> bool:
    """Whether `data` starts like a frame of `syntax`; native syntaxes need `image` (the length is all they show)."""
    if syntax in NATIVE_SYNTAXES:
        if image is None:
            raise ValueError("a native frame is recognised by its length: pass the image description")
        return len(data) == image.native_frame_size
    if syntax in _SOF_MARKERS:
        return data.startswith(b"\xff\xd8") and _jpeg_frame_marker(data) in _SOF_MARKERS[syntax]
    if syntax in _J2K_SYNTAXES:
        return data.startswith((_J2K_CODESTREAM, _JP2_SIGNATURE))
    if syntax == part10.RLE_LOSSLESS:
        # PS3.5 G.5: a 64-byte header of 16 uint32 LE: the number of segments (1..15), then the offset of each,
        # the first one 64.
        if len(data) < 64:
            return False
        count, first = cast(tuple[int, int], struct.unpack_from("<2I", data))
        return 1 <= count <= 15 and first == 64
    raise UndecodableSyntax(f"no frame signature known for transfer syntax {syntax}")


def encode_frame(array: npt.NDArray[np.integer], syntax: str, image: ImageDescription) -> bytes:
    """One canonical frame encoded in `syntax` as `image` describes it (photometric chooses the colour transform)."""
    frame = array.reshape(image.rows, image.columns, image.samples_per_pixel).astype(image.dtype)
    plain = frame[..., 0] if image.samples_per_pixel == 1 else frame
    stored = _unsigned_pattern(plain, image.bits_stored)
    if syntax in NATIVE_SYNTAXES:
        if image.photometric == "YBR_FULL_422":
            raise UndecodableSyntax("native YBR_FULL_422 is not written by this suite")
        return frame.tobytes() if image.planar_configuration == 0 else np.moveaxis(frame, -1, 0).tobytes()
    if syntax == part10.JPEG_BASELINE_8BIT:
        if image.bits_stored != 8 or image.pixel_representation:
            raise UndecodableSyntax("JPEG Baseline holds unsigned 8-bit samples only (PS3.5 A.4.1)")
        if image.samples_per_pixel == 1:
            return bytes(imagecodecs.jpeg8_encode(plain, level=90))
        # PS3.5 8.2.1: YBR_FULL_422 names the JPEG colour transform with 2:1 horizontal chroma subsampling.
        if image.photometric != "YBR_FULL_422":
            raise UndecodableSyntax(f"JPEG Baseline colour is written as YBR_FULL_422, not {image.photometric}")
        return bytes(imagecodecs.jpeg8_encode(plain, level=90, subsampling="422"))
    if syntax == part10.JPEG_LOSSLESS_SV1:
        # PS3.5 8.2.1: lossless colour is stored as RGB (no colour transform), so Photometric stays RGB.
        colour = "RGB" if image.samples_per_pixel == 3 else None
        encoded = imagecodecs.jpeg8_encode(
            stored,
            lossless=True,
            predictor=1,
            bitspersample=image.bits_stored,
            colorspace=colour,
            outcolorspace=colour,
        )
        return bytes(encoded)
    if syntax == part10.JPEG_LS_LOSSLESS:
        return bytes(imagecodecs.jpegls_encode(stored))
    if syntax == part10.JPEG_LS_NEAR_LOSSLESS:
        return bytes(imagecodecs.jpegls_encode(stored, level=_JPEG_LS_NEAR))
    if syntax in _J2K_SYNTAXES:
        # PS3.5 8.2.4: YBR_RCT (lossless) and YBR_ICT (lossy) name the codestream's multiple-component transform.
        lossless = syntax == part10.JPEG_2000_LOSSLESS
        encoded = imagecodecs.jpeg2k_encode(
            plain,
            level=None if lossless else _J2K_PSNR,
            codecformat="J2K",
            reversible=lossless,
            mct=image.photometric in ("YBR_RCT", "YBR_ICT"),
            bitspersample=image.bits_stored,
        )
        return bytes(encoded)
    if syntax == part10.RLE_LOSSLESS:
        return bytes(
            RLELosslessEncoder.encode(
                frame.tobytes(),
                rows=image.rows,
                columns=image.columns,
                samples_per_pixel=image.samples_per_pixel,
                bits_allocated=image.bits_allocated,
                bits_stored=image.bits_stored,
                pixel_representation=image.pixel_representation,
                photometric_interpretation=image.photometric,
                planar_configuration=0,
                number_of_frames=1,
                byteorder="<",
            )
        )
    raise UndecodableSyntax(f"no encoder for transfer syntax {syntax}")


def _decode_native(data: bytes, image: ImageDescription) -> Frame:
    if len(data) != image.native_frame_size:
        raise ValueError(f"a native frame holds {image.native_frame_size} bytes, got {len(data)}")
    values = np.frombuffer(data, dtype=image.dtype)
    if image.photometric == "YBR_FULL_422":
        # PS3.3 C.7.6.3.1.2: Y1 Y2 Cb Cr for each pair of pixels of a row.
        quads = values.reshape(image.rows, image.columns // 2, 4)
        ybr = np.empty((image.rows, image.columns, 3), dtype=image.dtype)
        ybr[:, 0::2, 0], ybr[:, 1::2, 0] = quads[..., 0], quads[..., 1]
        ybr[..., 1] = np.repeat(quads[..., 2], 2, axis=1)
        ybr[..., 2] = np.repeat(quads[..., 3], 2, axis=1)
        return _as_rgb(ybr, "YBR_FULL")
    if image.planar_configuration == 1:
        planes = values.reshape(image.samples_per_pixel, image.rows, image.columns)
        return _as_rgb(np.moveaxis(planes, 0, -1), image.photometric)
    return _as_rgb(values.reshape(image.rows, image.columns, image.samples_per_pixel), image.photometric)


def _decode_jpeg(data: bytes, image: ImageDescription) -> Frame:
    # PS3.5 8.2.1: a YBR photometric means the encoder applied the colour transform, RGB that it did not; libjpeg's
    # own guess (JFIF / Adobe / component ids) is overridden so an RGB frame without markers stays RGB.
    source, target = None, None
    if image.samples_per_pixel == 3:
        source, target = ("YCbCr" if image.photometric.startswith("YBR") else "RGB"), "RGB"
    try:
        return cast(Frame, imagecodecs.jpeg8_decode(data, colorspace=source, outcolorspace=target))
    except imagecodecs.Jpeg8Error:
        if image.samples_per_pixel != 1:
            raise
        return cast(Frame, imagecodecs.ljpeg_decode(data))


def _as_rgb(decoded: Frame, photometric: str) -> Frame:
    """YBR_FULL (and YBR_FULL_422 once upsampled) to RGB by PS3.3 C.7.6.3.1.2; anything else is left as it is."""
    if photometric not in ("YBR_FULL", "YBR_FULL_422") or decoded.ndim != 3 or decoded.shape[-1] != 3:
        return decoded
    if decoded.dtype != np.uint8:
        raise UndecodableSyntax(f"{photometric} with {decoded.dtype} samples")
    y, cb, cr = (decoded[..., k].astype(np.float64) for k in range(3))
    rgb = np.stack(
        [y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128), y + 1.772 * (cb - 128)], axis=-1
    )
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _canonical(decoded: Frame, image: ImageDescription) -> Frame:
    shape = (image.rows, image.columns, image.samples_per_pixel)
    if decoded.size != image.rows * image.columns * image.samples_per_pixel:
        raise ValueError(f"decoded {decoded.shape}, the dataset describes {shape}")
    values = decoded.reshape(shape).astype(np.int64) & ((1 << image.bits_stored) - 1)
    if image.pixel_representation:
        sign = 1 << (image.bits_stored - 1)
        values = (values ^ sign) - sign
    return values.astype(image.dtype.newbyteorder("="))


def _unsigned_pattern(values: Frame, bits_stored: int) -> Frame:
    """Signed samples as the unsigned bit pattern the JPEG family stores (PS3.5 8.2.1), masked to Bits Stored."""
    if values.dtype.kind != "i":
        return values
    unsigned = values.view(values.dtype.str.replace("i", "u"))
    return cast(Frame, unsigned & ((1 << bits_stored) - 1))


def _little_endian(ds: pydicom.Dataset, syntax: str, image: ImageDescription) -> bytes:
    raw = bytes(ds.PixelData)
    if syntax != part10.EXPLICIT_VR_BIG_ENDIAN:
        return raw
    # PS3.5 A.3: big endian OW is swapped word by word, which also swaps 8-bit samples packed into an OW value.
    width = 2 if image.bits_allocated == 8 and ds["PixelData"].VR == "OW" else image.bits_allocated // 8
    if width == 1:
        return raw
    return np.frombuffer(raw[: len(raw) - len(raw) % width], dtype=f">u{width}").astype(f"<u{width}").tobytes()


def _jpeg_frame_marker(data: bytes) -> int | None:
    """The SOF marker (second byte) of a JPEG / JPEG-LS stream: the first marker of T.81 Table B.1's SOF range or
    T.87's SOF55, walking the marker segments from SOI up to the scan."""
    stream = io.BytesIO(data)
    stream.seek(2)
    while True:
        head = stream.read(4)
        if len(head) < 4 or head[0] != 0xFF:
            return None
        marker = head[1]
        if marker == 0xFF:
            stream.seek(-3, io.SEEK_CUR)
            continue
        if marker in (0xC4, 0xC8, 0xCC) or not (0xC0 <= marker <= 0xCF or marker == 0xF7):
            if marker == 0xDA:
                return None
            stream.seek(struct.unpack(">H", head[2:])[0] - 2, io.SEEK_CUR)
            continue
        return marker
