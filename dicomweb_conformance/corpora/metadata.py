"""The metadata corpus: one study holding every VR class and the special cases of PS3.18 Annex F.

An ISO_IR 192 instance holds every VR class and the special cases of Annex F (multi-valued, empty, padded, non-ASCII
and multi-group values, nested and empty sequences, private and bulk data, a group length), a Japanese ISO 2022 IR 87
instance sits in the same series, and a plain instance in a second series. An Implicit VR instance whose private
elements the server cannot know the VR of is built to be stored on its own.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from dicomweb_conformance.dicom.dicomjson import BULK_VRS, Path
from dicomweb_conformance.dicom.part10 import IMPLICIT_VR_LITTLE_ENDIAN, LONG_LENGTH_VRS
from dicomweb_conformance.dicom.samples import SampleInstance, synthetic_instance

COVERAGE = "vr-coverage"
ISO_2022 = "iso-2022-ir-87"
SECOND_SERIES = "second-series"
IMPLICIT = "implicit-vr-private"

# PS3.5 I.2 / H.3.1: one person name in three component groups (alphabetic, ideographic, phonetic).
MULTI_GROUP_NAME = "Yamada^Tarou=山田^太郎=やまだ^たろう"
# Names with an empty component group: no alphabetic group, and no ideographic one.
EMPTY_GROUP_NAMES = ["=山田^太郎", "Smith^John==スミス"]
PRIVATE_GROUP = 0x0011
PRIVATE_CREATOR = "DWCS CONFORMANCE"
IMPLICIT_PRIVATE_GROUP = 0x0009
IMPLICIT_PRIVATE_CREATOR = "DWCS IMPLICIT"
GROUP_LENGTH_GROUP = 0x0018
# Valid DS values (PS3.5 6.2: at most 16 characters) beyond 32 bits, each exact as a JSON Number.
LARGE_DECIMALS = ["12345678901", "1E10", "-4294967296"]
ICON_PIXELS = bytes(range(100, 116))
# The private block's elements (0011,10xx): xx -> (VR, value). Bulk VRs hold 16 distinct bytes each.
PRIVATE_ELEMENTS: dict[int, tuple[str, Any]] = {
    0x01: ("LO", "private text"),
    0x02: ("OB", bytes(range(16))),
    0x03: ("OW", bytes(range(32, 48))),
    0x04: ("UN", bytes(range(64, 80))),
    0x05: ("US", [1, 2]),
    0x06: ("OF", bytes(range(80, 96))),
    0x07: ("OD", bytes(range(96, 112))),
    0x08: ("OL", bytes(range(112, 128))),
    0x09: ("OV", bytes(range(128, 144))),
    0x0A: ("SV", [-(2**62), 9007199254740993]),
    0x0B: ("UV", [2**64 - 1]),
}

# Where each bulk value of the coverage instance sits: a key, or a sequence key, an item index (from 0) and a key.
BULK_PATHS: dict[str, Path] = {
    "PixelData": ("7FE00010",),
    **{
        f"private-{vr}": (f"{PRIVATE_GROUP:04X}10{xx:02X}",)
        for xx, (vr, _) in PRIVATE_ELEMENTS.items()
        if vr in BULK_VRS
    },
    "IconImageSequence-PixelData": ("00880200", 0, "7FE00010"),
}
IMPLICIT_PRIVATE_KEYS = ("00091001", "00091002")


# --- the corpus -----------------------------------------------------------------------------------------------------


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "99DWCS"
    item.CodeMeaning = meaning
    return item


def _text_values(ds: Dataset) -> None:
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = MULTI_GROUP_NAME
    ds.OperatorsName = ["Op^One", "Op^Two"]
    ds.PerformingPhysicianName = EMPTY_GROUP_NAMES
    ds.RetrieveAETitle = ["DWCS_AE1", "DWCS_AE2"]
    ds.StationAETitle = "DWCS_SCU"
    ds.PatientAge = "045Y"
    ds.BurnedInAnnotation = "YES"  # odd length: stored with a padding space (PS3.5 6.2)
    ds.CalibrationDate = ["20240101", "20240202"]
    ds.AcquisitionDateTime = "20240102123456.123456+0100"
    ds.AcquisitionTime = "235959.123456"
    ds.InstitutionName = "Klinik Müller–Ñandú 東京"
    ds.StationName = "STATION 1  "
    ds.ReferringPhysicianTelephoneNumbers = ["555-0100", "555-0199"]
    ds.AdditionalPatientHistory = "  Leading spaces are significant.\r\nSecond line.  "
    ds.InstitutionAddress = "  1 Main Street, Springfield"
    ds.PotentialReasonsForProcedure = ["reason one", "a second reason, longer than the 64 characters an LO may hold"]
    ds.RelatedGeneralSOPClassUID = ["1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.2"]
    ds.RetrieveURI = "https://example.org/wado?studyUID=1.2.3&contentType=application%2Fdicom"
    ds.UniqueDeviceIdentifier = "(01)00123456789012(17)251231(10)LOT-42 "


def _number_values(ds: Dataset) -> None:
    # DS values keep at most 15 significant digits, so pydicom's float of each is the decimal value itself.
    ds.PixelSpacing = ["0.5", "0.25"]
    ds.SliceThickness = "1.5"
    ds.WindowCenter = ["40", "-1.5E2"]
    ds.WindowWidth = "1.23456789012345"
    ds.ImagePositionPatient = LARGE_DECIMALS
    ds.EchoNumbers = ["1", "-2", "+3", "007"]
    ds.TimeRange = [0.1, 3.141592653589793]
    ds.LocalizingCursorPosition = [0.1, -2.25]
    ds.ReferencePixelX0 = -100000
    ds.TagAngleSecondAxis = -45
    ds.SimpleFrameList = [1, 4294967295]
    ds.AcquisitionMatrix = [0, 16, 65535, 0]
    ds.FrameIncrementPointer = [Tag("FrameTime"), Tag("FrameTimeVector")]


def _empty_values(ds: Dataset) -> None:
    """PS3.5 7.4.3: Type 2 attributes with zero length; and multi-valued attributes with an empty value."""
    ds.ReferringPhysicianName = ""
    ds.PatientBirthDate = ""
    ds.SeriesTime = ""
    ds.InstitutionalDepartmentName = ""
    ds.AcquisitionNumber = ""
    ds.PatientWeight = ""
    ds.IrradiationEventUID = ""
    ds.ExposuresOnPlate = None
    ds.ReferencedStudySequence = DicomSequence([])
    ds.ReferencedPatientSequence = DicomSequence([Dataset()])
    ds.SoftwareVersions = ["1.0", "", "beta 2"]
    ds.ScanOptions = ["", "OPT2"]


def _sequences(ds: Dataset) -> None:
    items = []
    for number in (1, 2):
        item = Dataset()
        item.RequestedProcedureID = f"RP{number}"
        item.ScheduledProcedureStepID = f"SPS{number}"
        item.ScheduledProtocolCodeSequence = DicomSequence([_code(f"P{number}", f"Protocol {number}")])
        items.append(item)
    ds.RequestAttributesSequence = DicomSequence(items)
    icon = Dataset()
    icon.SamplesPerPixel = 1
    icon.PhotometricInterpretation = "MONOCHROME2"
    icon.Rows = icon.Columns = 4
    icon.BitsAllocated = icon.BitsStored = 8
    icon.HighBit = 7
    icon.PixelRepresentation = 0
    icon.PixelData = ICON_PIXELS
    ds.IconImageSequence = DicomSequence([icon])


def _private_values(ds: Dataset) -> None:
    # PS3.5 7.8.1: the creator (0011,0010) reserves elements (0011,1000-10FF) for this block.
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    for element, (vr, value) in PRIVATE_ELEMENTS.items():
        block.add_new(element, vr, value)


def _coverage(ds: Dataset) -> None:
    for add in (_text_values, _number_values, _empty_values, _sequences, _private_values):
        add(ds)


def _iso_2022(ds: Dataset) -> None:
    # PS3.5 H.3.1: the first value is empty (the default repertoire), code extension to JIS X 0208.
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    ds.PatientName = MULTI_GROUP_NAME
    ds.InstitutionName = "東京病院"
    ds.StudyDescription = "胸部 CT"


def _second_series(ds: Dataset) -> None:
    # One study, one patient (PS3.3 C.7.1.1): the same name as the study's other instances.
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = MULTI_GROUP_NAME
    ds.ImageComments = "an instance of the study's second series"
    ds.ContentLabel = "SECOND"
    ds.ContentCreatorName = "Creator^Second"


def _implicit_private(ds: Dataset) -> None:
    block = ds.private_block(IMPLICIT_PRIVATE_GROUP, IMPLICIT_PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", "implicit private text")
    block.add_new(0x02, "OB", bytes(range(8)))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(IMPLICIT_VR_LITTLE_ENDIAN)


def with_group_length(instance: SampleInstance, group: int) -> SampleInstance:
    """The instance with a (gggg,0000) Group Length before `group`'s top-level elements (PS3.5 7.2).

    pydicom no longer writes group lengths, so the element goes into the encoded file, in front of the group's bytes.
    """
    ds = instance.dataset
    tags = sorted(ds.keys())
    members = [tag for tag in tags if tag.group == group]
    after = [tag for tag in tags if tag.group > group]
    if not members or not after:
        raise ValueError(f"{instance.name} has no group {group:04X} followed by another group")
    start, end = _element_start(ds, members[0]), _element_start(ds, after[0])
    length = struct.pack("<HH2sHI", group, 0, b"UL", 4, end - start)
    return replace(instance, data=instance.data[:start] + length + instance.data[start:])


def _element_start(ds: Dataset, tag: BaseTag) -> int:
    raw = ds.get_item(tag)
    if not isinstance(raw, RawDataElement) or raw.value_tell is None:
        raise ValueError(f"{tag} was not read from a file")
    # PS3.5 7.1.2: explicit VR elements of the long-length VRs have a 12-byte header, all others an 8-byte one.
    return int(raw.value_tell) - (12 if (raw.VR or "").encode() in LONG_LENGTH_VRS else 8)


def build_metadata_corpus(run_id: str) -> dict[str, SampleInstance]:
    coverage = synthetic_instance(run_id, name=COVERAGE, extra=_coverage)
    iso_2022 = synthetic_instance(
        run_id, name=ISO_2022, study_uid=coverage.study_uid, series_uid=coverage.series_uid, extra=_iso_2022
    )
    second = synthetic_instance(run_id, name=SECOND_SERIES, study_uid=coverage.study_uid, extra=_second_series)
    return {
        COVERAGE: with_group_length(coverage, GROUP_LENGTH_GROUP),
        ISO_2022: iso_2022,
        SECOND_SERIES: second,
    }


@dataclass(frozen=True)
class MetadataCorpus:
    """The stored metadata corpus, by name (COVERAGE, ISO_2022, SECOND_SERIES)."""

    instances: Mapping[str, SampleInstance]

    def __getitem__(self, name: str) -> SampleInstance:
        return self.instances[name]

    @property
    def study_uid(self) -> str:
        return self[COVERAGE].study_uid

    @property
    def all(self) -> list[SampleInstance]:
        return list(self.instances.values())

    @property
    def first_series(self) -> list[SampleInstance]:
        return [self[COVERAGE], self[ISO_2022]]


def build_implicit_private(run_id: str) -> SampleInstance:
    """An Implicit VR instance with a private block the server has no dictionary for, in a study of its own."""
    return synthetic_instance(run_id, name=IMPLICIT, extra=_implicit_private)
