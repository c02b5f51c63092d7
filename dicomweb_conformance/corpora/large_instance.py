"""A multi-frame instance of a gigabyte or more, written to disk frame by frame and sent and read back as streams,
so the client never holds more than a chunk of it (the `large` checks, suites/samples/test_large_round_trip.py)."""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, MultiFrameGrayscaleWordSecondaryCaptureImageStorage

from dicomweb_conformance.dicom.samples import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
    SampleInstance,
    stamp_run,
)
from dicomweb_conformance.dicom.uids import new_uid

FRAME_SIDE = 512
FRAME_BYTES = FRAME_SIDE * FRAME_SIDE * 2  # 16-bit monochrome: 512 KiB a frame
CHUNK_BYTES = 1 << 20
# PS3.5 7.1.2: (7FE0,0010) OW in Explicit VR Little Endian: tag, VR, two reserved bytes, a 32-bit length.
_PIXEL_DATA_HEADER = b"\xe0\x7f\x10\x00OW\x00\x00"


@dataclass(frozen=True)
class LargeFile:
    """The file on disk, its identifiers, and the SHA-256 of its dataset (everything after the File Meta)."""

    path: Path
    size: int
    dataset_offset: int
    dataset_sha256: str
    frames: int
    instance: SampleInstance  # identifiers only: its `data` is the header, never the pixel data


def frame(number: int) -> bytes:
    """Frame `number` (from 1): a ramp shifted by the frame number, so frames differ and a swap shows."""
    ramp = (np.arange(FRAME_SIDE * FRAME_SIDE, dtype=np.uint32) + number * 7919) % 4096
    return ramp.astype("<u2").tobytes()


def write_large_file(directory: Path, run_id: str, minimum_bytes: int) -> LargeFile:
    """Write a Multi-frame Grayscale Word SC instance of at least `minimum_bytes`, one frame at a time."""
    frames = max(1, -(-minimum_bytes // FRAME_BYTES))
    ds = _dataset(run_id, frames)
    header = io.BytesIO()
    dcmwrite(header, ds, enforce_file_format=True)
    head = header.getvalue()
    dataset_offset = 132 + 12 + struct.unpack_from("<I", head, 132 + 8)[0]  # preamble, DICM, (0002,0000) element
    pixel_length = frames * FRAME_BYTES
    digest = hashlib.sha256(head[dataset_offset:])
    path = directory / f"large-{ds.SOPInstanceUID}.dcm"
    with path.open("wb") as out:
        out.write(head)
        tail = _PIXEL_DATA_HEADER + struct.pack("<I", pixel_length)
        out.write(tail)
        digest.update(tail)
        for number in range(1, frames + 1):
            data = frame(number)
            out.write(data)
            digest.update(data)
    instance = SampleInstance(
        name=path.name,
        study_uid=str(ds.StudyInstanceUID),
        series_uid=str(ds.SeriesInstanceUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        sop_class_uid=str(ds.SOPClassUID),
        transfer_syntax_uid=ExplicitVRLittleEndian,
        data=head,
    )
    size = len(head) + len(tail) + pixel_length
    return LargeFile(path, size, dataset_offset, digest.hexdigest(), frames, instance)


def _dataset(run_id: str, frames: int) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = MultiFrameGrayscaleWordSecondaryCaptureImageStorage
    ds.SOPInstanceUID = new_uid()
    ds.StudyInstanceUID = new_uid()
    ds.SeriesInstanceUID = new_uid()
    ds.PatientName = "Large^Multiframe"
    ds.StudyDate = "20260101"
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = FRAME_SIDE
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = (0x0018, 0x2005)  # PS3.3 C.8.6.3: Slice Location Vector
    ds.SliceLocationVector = [float(k) for k in range(frames)]
    stamp_run(ds, run_id)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
    ds.preamble = b"\x00" * 128
    return ds


class RelatedBody(io.RawIOBase):
    """A one-part multipart/related body read from a file: the length is known, the content never all in memory."""

    def __init__(self, path: Path, boundary: str):
        super().__init__()
        self._pieces: list[BinaryIO | io.BytesIO] = [
            io.BytesIO(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()),
            path.open("rb"),
            io.BytesIO(f"\r\n--{boundary}--\r\n".encode()),
        ]
        self.length = sum(_remaining(piece) for piece in self._pieces)

    def __len__(self) -> int:
        return self.length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        wanted = CHUNK_BYTES if size is None or size < 0 else size
        while self._pieces:
            data = self._pieces[0].read(wanted)
            if data:
                return data
            self._pieces.pop(0).close()
        return b""

    def close(self) -> None:
        for piece in self._pieces:
            piece.close()
        super().close()


def _remaining(stream: BinaryIO | io.BytesIO) -> int:
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


def only_part_digest(chunks: Iterator[bytes], boundary: str) -> tuple[str, int]:
    """The SHA-256 of the dataset (what follows the File Meta, PS3.10 7.1) of a one-part multipart body's Part 10
    file, and the part's length, read as a stream: only the tail that could hold the closing delimiter is kept."""
    delimiter = f"\r\n--{boundary}".encode()
    content = _DatasetDigest()
    buffer = b""
    in_content = False
    for chunk in chunks:
        buffer += chunk
        if not in_content:
            start = buffer.find(b"\r\n\r\n")
            if start < 0:
                continue
            buffer = buffer[start + 4 :]
            in_content = True
        end = buffer.find(delimiter)
        if end >= 0:
            content.feed(buffer[:end])
            return content.hexdigest(), content.length
        keep = len(delimiter) - 1
        if len(buffer) > keep:
            content.feed(buffer[:-keep])
            buffer = buffer[-keep:]
    raise ValueError("the body ended before the part's closing delimiter")


class _DatasetDigest:
    """Hashes a Part 10 file fed in pieces, from the end of its File Meta (whose length its first bytes give)."""

    def __init__(self) -> None:
        self.length = 0
        self._head = b""
        self._skip: int | None = None
        self._digest = hashlib.sha256()

    def feed(self, data: bytes) -> None:
        offset = self.length
        self.length += len(data)
        if self._skip is None:
            self._head += data[: max(0, 144 - offset)]
            if len(self._head) < 144:
                return
            if self._head[128:132] != b"DICM":
                raise ValueError("the part is not a Part 10 file (no DICM at byte 128)")
            self._skip = 144 + struct.unpack_from("<I", self._head, 140)[0]
        if self.length > self._skip:
            self._digest.update(data[max(0, self._skip - offset) :])

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
