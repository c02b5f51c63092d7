"""Generated DICOM instances: a DatasetSpec of public, sequence, private and pixel data elements drawn from the
values of dicom/generators.py, and the synthetic instance (fresh UIDs) that holds it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from pydicom.datadict import dictionary_VM, dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset

from dicomweb_conformance.dicom.dicomjson import BULK_VRS
from dicomweb_conformance.dicom.generators import (
    BINARY_UNITS,
    CHARSETS,
    CS_CHARACTERS,
    LATIN_1,
    NUMBER_VRS,
    SINGLE_VALUED_VRS,
    TEXT_VRS,
    element_values,
)
from dicomweb_conformance.dicom.samples import PATIENT_ID_PREFIX, SampleInstance, synthetic_instance

# --- generated datasets -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementSpec:
    """One data element: its tag (a private offset within a private block), VR and value or items."""

    tag: int
    vr: str
    value: Any

    def __repr__(self) -> str:
        name = keyword_for_tag(self.tag) if self.tag > 0xFF else f"offset {self.tag:02X}"
        return f"{name or f'({self.tag >> 16:04X},{self.tag & 0xFFFF:04X})'} {self.vr}={self.value!r}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # hypothesis prints the falsifying example with this, one readable line per element.
        printer.text(repr(self))


def element_spec(keyword: str, value: Any) -> ElementSpec:
    """A public element by keyword, with the VR of the PS3.6 dictionary (for explicit examples)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(f"unknown DICOM keyword {keyword!r}")
    return ElementSpec(int(tag), str(dictionary_VR(tag)), value)


@dataclass(frozen=True)
class PrivateBlockSpec:
    group: int
    creator: str
    elements: tuple[ElementSpec, ...]


@dataclass(frozen=True)
class DatasetSpec:
    """What one generated instance holds beyond the synthetic instance's own attributes."""

    charset: str = LATIN_1
    elements: tuple[ElementSpec, ...] = ()
    private_blocks: tuple[PrivateBlockSpec, ...] = ()
    frames: int = 1
    rows: int = 4
    columns: int = 4
    samples_per_pixel: int = 1


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _checked_pool(keywords: Iterable[str], vrs: frozenset[str]) -> tuple[str, ...]:
    pool = tuple(keywords)
    unfit = [k for k in pool if tag_for_keyword(k) is None or dictionary_VR(k) not in vrs]
    if unfit:
        raise ValueError(f"not public attributes of the expected VRs: {unfit}")
    return pool


# Public attributes the synthetic instance does not rely on (its UIDs, pixel module, PatientID stay untouched).
TEXT_KEYWORDS = _checked_pool(
    _words(
        "StationAETitle RetrieveAETitle PatientAge BodyPartExamined ScanningSequence AcquisitionDate "
        "DateOfSecondaryCapture AcquisitionDateTime InstitutionName ProtocolName AdmittingDiagnosesDescription "
        "AdditionalPatientHistory PatientComments PatientName OperatorsName PerformingPhysicianName StationName "
        "ReferringPhysicianTelephoneNumbers InstitutionAddress DerivationDescription AcquisitionTime SeriesTime "
        "StrainDescription PotentialReasonsForProcedure AcquisitionUID IrradiationEventUID CodingSchemeURL "
        "StrainAdditionalInformation ProtocolPlanningInformation FunctionalGroupPointer"
    ),
    TEXT_VRS | {"AT"},
)
NUMBER_KEYWORDS = _checked_pool(
    _words(
        "PatientWeight PatientSize EventElapsedTimes RecommendedDisplayFrameRateInFloat TableOfParameterValues "
        "EventTimeOffset TimeRange AcquisitionNumber ReferencedFrameNumber StageNumber ReferencePixelX0 "
        "TagAngleSecondAxis SimpleFrameList RegionFlags AcquisitionMatrix FileOffsetInContainer SelectorSVValue"
    ),
    NUMBER_VRS,
)
BINARY_KEYWORDS = _checked_pool(("RecordKey", "VerticesOfThePolygonalOutline"), BULK_VRS)
SEQUENCE_KEYWORDS = _checked_pool(
    ("ProcedureCodeSequence", "AnatomicRegionSequence", "ReferencedStudySequence"), frozenset({"SQ"})
)
NESTED_SEQUENCE_KEYWORDS = _checked_pool(("ModifierCodeSequence", "PurposeOfReferenceCodeSequence"), frozenset({"SQ"}))
PRIVATE_GROUPS = (0x0009, 0x0011, 0x0013)
PRIVATE_VALUE_VRS = tuple(sorted(TEXT_VRS | NUMBER_VRS | {"AT"}))
PRIVATE_BINARY_VRS = tuple(sorted(BINARY_UNITS))


@st.composite
def public_elements(draw: st.DrawFn, keywords: Sequence[str], charset: str, max_size: int) -> tuple[ElementSpec, ...]:
    chosen = draw(st.lists(st.sampled_from(keywords), unique=True, min_size=1, max_size=max_size))
    specs = []
    for keyword in sorted(chosen, key=lambda k: int(tag_for_keyword(k) or 0)):
        tag = int(tag_for_keyword(keyword) or 0)
        specs.append(
            ElementSpec(tag, dictionary_VR(tag), draw(element_values(dictionary_VR(tag), dictionary_VM(tag), charset)))
        )
    return tuple(specs)


@st.composite
def sequence_items(draw: st.DrawFn, charset: str, depth: int) -> tuple[ElementSpec, ...]:
    """An item: up to three leaf elements (possibly none: an empty item) and, one level down, a nested sequence."""
    leaves = draw(st.none() | public_elements(TEXT_KEYWORDS + NUMBER_KEYWORDS, charset, 3))
    nested = draw(st.none() | sequences(NESTED_SEQUENCE_KEYWORDS, charset, depth + 1)) if depth == 1 else None
    return tuple(sorted([*(leaves or ()), *([nested] if nested else [])], key=lambda e: e.tag))


@st.composite
def sequences(draw: st.DrawFn, keywords: Sequence[str], charset: str, depth: int = 1) -> ElementSpec:
    """An SQ element with zero to three items, nested at most two levels deep."""
    tag = int(tag_for_keyword(draw(st.sampled_from(keywords))) or 0)
    items = draw(st.lists(sequence_items(charset, depth), max_size=3))
    return ElementSpec(tag, "SQ", tuple(items))


@st.composite
def private_blocks(draw: st.DrawFn, vrs: Sequence[str], charset: str) -> PrivateBlockSpec:
    """A private creator (PS3.5 7.8.1) and up to four of its elements, with explicit VRs."""
    group = draw(st.sampled_from(PRIVATE_GROUPS))
    creator = "DWCS " + draw(st.text(st.sampled_from(CS_CHARACTERS[:36]), min_size=1, max_size=12))
    offsets = draw(st.lists(st.integers(0x00, 0xFF), unique=True, min_size=1, max_size=4))
    elements = []
    for offset in sorted(offsets):
        vr = draw(st.sampled_from(vrs))
        vm = "1" if vr in SINGLE_VALUED_VRS else "1-n"
        elements.append(ElementSpec(offset, vr, draw(element_values(vr, vm, charset))))
    return PrivateBlockSpec(group, creator, tuple(elements))


def _unique_blocks(blocks: Sequence[PrivateBlockSpec]) -> tuple[PrivateBlockSpec, ...]:
    seen: dict[tuple[int, str], PrivateBlockSpec] = {}
    for block in blocks:
        seen.setdefault((block.group, block.creator), block)
    return tuple(seen.values())


FAMILIES = frozenset({"text", "numbers", "binary", "sequences", "private", "multiframe"})


@st.composite
def dataset_specs(draw: st.DrawFn, families: frozenset[str]) -> DatasetSpec:
    """A valid dataset of the given families: text VRs and character sets, numbers, binary VRs, sequences,
    private blocks, and multi-frame 8-bit MONOCHROME2 or RGB pixel data."""
    unknown = families - FAMILIES
    if unknown:
        raise ValueError(f"unknown dataset families {sorted(unknown)}")
    charset = draw(st.sampled_from(CHARSETS)) if "text" in families else LATIN_1
    pools = [("text", TEXT_KEYWORDS, 6), ("numbers", NUMBER_KEYWORDS, 5), ("binary", BINARY_KEYWORDS, 2)]
    elements: list[ElementSpec] = []
    for family, keywords, size in pools:
        if family in families:
            elements += draw(public_elements(keywords, charset, size))
    if "sequences" in families:
        elements += draw(
            st.lists(sequences(SEQUENCE_KEYWORDS, charset), min_size=1, max_size=2, unique_by=lambda e: e.tag)
        )
    blocks: list[PrivateBlockSpec] = []
    if "private" in families:
        blocks += draw(st.lists(private_blocks(PRIVATE_VALUE_VRS, charset), min_size=1, max_size=2))
    if "binary" in families:
        blocks += draw(st.lists(private_blocks(PRIVATE_BINARY_VRS, charset), max_size=1))
    frames, samples = 1, 1
    if "multiframe" in families:
        frames, samples = draw(st.integers(1, 4)), draw(st.sampled_from((1, 3)))
    return DatasetSpec(
        charset=charset,
        elements=tuple(sorted(elements, key=lambda e: e.tag)),
        private_blocks=_unique_blocks(blocks),
        frames=frames,
        rows=draw(st.integers(1, 8)),
        columns=draw(st.integers(1, 8)),
        samples_per_pixel=samples,
    )


@dataclass(frozen=True)
class FramesRequest:
    """A generated multi-frame instance and the frame numbers asked for, in the order asked."""

    spec: DatasetSpec
    frames: tuple[int, ...]


@st.composite
def frames_requests(draw: st.DrawFn) -> FramesRequest:
    spec = draw(dataset_specs(frozenset({"multiframe"})))
    order = draw(st.permutations(range(1, spec.frames + 1)))
    return FramesRequest(spec, tuple(order[: draw(st.integers(1, spec.frames))]))


def property_patient_id(run_id: str) -> str:
    """The PatientID of this run's generated instances: apart from the run's other data and from the QIDO corpus."""
    return f"{PATIENT_ID_PREFIX}{run_id}-PROP"


def _add_element(ds: Dataset, element: ElementSpec) -> None:
    if element.vr == "SQ":
        ds.add_new(element.tag, "SQ", [_item(items) for items in element.value])
    else:
        ds.add_new(element.tag, element.vr, element.value)


def _item(elements: Sequence[ElementSpec]) -> Dataset:
    item = Dataset()
    for element in elements:
        _add_element(item, element)
    return item


def build_instance(spec: DatasetSpec, run_id: str) -> SampleInstance:
    """The synthetic instance (fresh UIDs) with everything `spec` holds added."""

    def extra(ds: Dataset) -> None:
        if spec.charset:
            ds.SpecificCharacterSet = spec.charset
        else:
            del ds.SpecificCharacterSet
        ds.PatientID = property_patient_id(run_id)
        for element in spec.elements:
            _add_element(ds, element)
        for block in spec.private_blocks:
            private = ds.private_block(block.group, block.creator, create=True)
            for element in block.elements:
                private.add_new(element.tag, element.vr, element.value)

    return synthetic_instance(
        run_id,
        name="property",
        rows=spec.rows,
        columns=spec.columns,
        frames=spec.frames,
        samples_per_pixel=spec.samples_per_pixel,
        extra=extra,
    )
