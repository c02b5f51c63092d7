"""The per-file scenarios' shared steps: store one sample file, and judge what comes back against it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import requests

from dicomweb_conformance.checks.common import BlockedBy, ConformanceFailure, fail, not_applicable, untestable
from dicomweb_conformance.checks.declined import DECLINED
from dicomweb_conformance.checks.store import check_successful_store, store_response_dataset
from dicomweb_conformance.dicom.codecs import (
    LOSSY_SYNTAXES,
    ImageDescription,
    UndecodableSyntax,
    decode_frame,
    decode_frames,
)
from dicomweb_conformance.dicom.dicomjson import first, values
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.store import Dicomweb

Frame = np.ndarray

# Two decoders of one lossy bitstream differ: ISO/IEC 10918-2 lets a JPEG decoder's IDCT be off by one per sample,
# and libraries upsample chroma and convert YCbCr to RGB each their own way. The allowance, on a scale of 8 bits
# (scaled to the image's BitsStored): no sample further off than this, and the mean within a quarter of it.
LOSSY_MAX_DIFFERENCE_8_BIT = 12


@dataclass
class StoredSample:
    """One sample file as this run stored it, with the pixels the suite decoded from it."""

    instance: SampleInstance
    image: ImageDescription | None  # None: no pixel data (a PDF, an SR)
    frames: list[Frame] | None  # None when the suite cannot decode the stored syntax (see `undecodable`)
    undecodable: str | None
    store_failure: ConformanceFailure | None = None
    refusal: str | None = None  # the server declined the file with a FailureReason (PS3.18 10.5.3)
    refusal_problem: ConformanceFailure | None = None  # what is wrong with the refusal itself

    @property
    def lossy(self) -> bool:
        return self.instance.transfer_syntax_uid in LOSSY_SYNTAXES

    def require_stored(self) -> SampleInstance:
        """The stored instance; BLOCKED when the store broke a rule, NOT-APPLICABLE when the server declined it."""
        if self.store_failure is not None:
            raise BlockedBy(f"storing {self.instance.name}", self.store_failure)
        if self.refusal is not None:
            not_applicable(f"{DECLINED} {self.instance.name}: {self.refusal}")
        return self.instance

    def require_pixels(self) -> tuple[ImageDescription, list[Frame]]:
        self.require_stored()
        if self.image is None:
            not_applicable(f"{self.instance.name} has no pixel data")
        if self.frames is None:
            untestable(f"the suite cannot decode {self.instance.name}: {self.undecodable}")
        return self.image, self.frames


def describe(instance: SampleInstance) -> StoredSample:
    ds = instance.dataset
    if "PixelData" not in ds:
        return StoredSample(instance, None, None, None)
    image = ImageDescription.of(ds)
    try:
        return StoredSample(instance, image, decode_frames(ds), None)
    except UndecodableSyntax as error:
        return StoredSample(instance, image, None, str(error))


def store_sample(dicomweb: Dicomweb, sample: StoredSample) -> StoredSample:
    """STOW the file (ledger first) and wait until QIDO finds it. A 409 whose Failed SOP Sequence gives a
    FailureReason declines the file (PS3.18 10.5.3: the server need not store every SOP Class or syntax): its
    checks are NOT-APPLICABLE, and test_stored judges the refusal itself. Any other refusal is a failure."""
    instance = sample.instance
    what = f"storing {instance.name}"
    response = dicomweb.store([instance])
    declined = _declining_item(response) if response.status_code == 409 else None
    if declined is not None:
        dicomweb.forget([instance.sop_instance_uid])
        sample.refusal = f"409, FailureReason {_reason(declined)}"
        sample.refusal_problem = _refusal_problem(declined, instance, response)
        return sample
    try:
        check_successful_store(response, [instance], what)
        dicomweb.wait_found([instance], what=instance.name)
    except ConformanceFailure as failure:
        sample.store_failure = failure
    except BlockedBy as blocked:
        sample.store_failure = blocked.failure
    return sample


def _declining_item(response: requests.Response) -> dict[str, object] | None:
    """The one Failed SOP Sequence item of a single-instance store that carries a FailureReason."""
    try:
        dataset = store_response_dataset(response, "store")
    except ConformanceFailure:
        return None
    items = [item for item in values(dataset, "FailedSOPSequence") if isinstance(item, dict)]
    return items[0] if len(items) == 1 and first(items[0], "FailureReason") is not None else None


def _reason(item: dict[str, object]) -> str:
    reason = first(item, "FailureReason")
    return f"0x{int(reason):04X}" if isinstance(reason, int | float) else repr(reason)


def _refusal_problem(
    item: dict[str, object], instance: SampleInstance, response: requests.Response
) -> ConformanceFailure | None:
    """PS3.18 Table 10.5.3-2 (Annex I.2): a Failed SOP Sequence item names the SOP Class and Instance it refused."""
    named = (first(item, "ReferencedSOPClassUID"), first(item, "ReferencedSOPInstanceUID"))
    if named == (instance.sop_class_uid, instance.sop_instance_uid):
        return None
    return fail(
        f"storing {instance.name}: the refusal does not name the instance it refused",
        expected=f"ReferencedSOPClassUID {instance.sop_class_uid}, ReferencedSOPInstanceUID "
        f"{instance.sop_instance_uid}",
        actual=f"{named[0]!r}, {named[1]!r}",
        response=response,
    )


def check_decoded_pixels(
    returned: Sequence[Frame], stored: Sequence[Frame], *, lossy: bool, bits_stored: int, what: str
) -> None:
    """The frames a server returned decode to the stored ones: exactly for a lossless file, within the stated
    allowance of two decoders of one lossy bitstream otherwise (PS3.5 8.2: a lossy file's pixels are the decoder's)."""
    if len(returned) != len(stored):
        raise fail(f"{what}: wrong number of frames", expected=len(stored), actual=len(returned))
    for number, (got, want) in enumerate(zip(returned, stored, strict=True), start=1):
        if got.shape != want.shape:
            raise fail(f"{what}: frame {number} has another shape", expected=want.shape, actual=got.shape)
        difference = np.abs(got.astype(np.int64) - want.astype(np.int64))
        worst = int(difference.max()) if difference.size else 0
        allowed = lossy_allowance(bits_stored) if lossy else 0
        mean = float(difference.mean()) if difference.size else 0.0
        if worst > allowed or (lossy and mean > allowed / 4):
            raise fail(
                f"{what}: frame {number} does not decode to the stored pixels",
                expected="the same pixels"
                if not lossy
                else f"every sample within {allowed}, mean within {allowed / 4}",
                actual=f"{int(np.count_nonzero(difference))} samples differ, at most by {worst}, mean {mean:.2f}",
            )


def lossy_allowance(bits_stored: int) -> int:
    return LOSSY_MAX_DIFFERENCE_8_BIT << max(0, bits_stored - 8)


def decode_returned_frame(data: bytes, syntax: str, image: ImageDescription, what: str) -> Frame:
    """One frame as a server returned it, decoded in the syntax its part declares."""
    try:
        return decode_frame(data, syntax, image)
    except UndecodableSyntax as error:
        raise fail(
            f"{what}: the frame does not decode as {syntax}", expected=f"a frame in {syntax}", actual=str(error)
        ) from None
    except Exception as error:  # a codec's own error: the bytes are not what the part says they are
        raise fail(
            f"{what}: the frame does not decode as {syntax}",
            expected=f"a frame in {syntax}",
            actual=f"{type(error).__name__}: {error}; {len(data)} bytes starting {data[:8].hex()}",
        ) from None
