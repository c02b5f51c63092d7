"""The retrieve corpus: a 3-frame MONOCHROME2 instance and an RGB instance in one series, and an Implicit VR Little
Endian instance in another series of the same study."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from dicomweb_conformance.dicom.part10 import IMPLICIT_VR_LITTLE_ENDIAN
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance

MULTIFRAME_COUNT = 3
RGB_ROWS, RGB_COLUMNS = 8, 12  # not square, so a swapped width and height shows
# Frame k (from 0) of the multi-frame instance carries a bright square from row = column 1 + 5k, 4 pixels a side.
_MARK_STEP, _MARK_SIDE = 5, 4


def _mark_each_frame(ds: Dataset) -> None:
    """Frame k gets a bright square of its own: frames differ in shape, not only in offset, so a rendered frame
    (whose window may remove any offset) still shows which frame it is."""
    frames = np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(int(ds.NumberOfFrames), int(ds.Rows), -1).copy()
    for k in range(frames.shape[0]):
        start = 1 + _MARK_STEP * k
        frames[k, start : start + _MARK_SIDE, start : start + _MARK_SIDE] = 255
    ds.PixelData = frames.tobytes()


def _encode_implicit_vr(ds: Dataset) -> None:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(IMPLICIT_VR_LITTLE_ENDIAN)


def build_first_series(run_id: str) -> tuple[SampleInstance, SampleInstance]:
    """The multi-frame MONOCHROME2 instance and the RGB instance, in one series of a fresh study."""
    multiframe = synthetic_instance(run_id, name="retrieve-multiframe", frames=MULTIFRAME_COUNT, extra=_mark_each_frame)
    rgb = synthetic_instance(
        run_id,
        name="retrieve-rgb",
        study_uid=multiframe.study_uid,
        series_uid=multiframe.series_uid,
        rows=RGB_ROWS,
        columns=RGB_COLUMNS,
        samples_per_pixel=3,
    )
    return multiframe, rgb


def build_implicit(run_id: str, study_uid: str) -> SampleInstance:
    """A single-frame MONOCHROME2 instance encoded in Implicit VR Little Endian, in a series of its own."""
    return synthetic_instance(run_id, name="retrieve-implicit-vr", study_uid=study_uid, extra=_encode_implicit_vr)
