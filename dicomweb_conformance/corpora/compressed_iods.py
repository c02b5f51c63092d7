"""The datasets of the built-in compressed corpus (corpora/compressed.py) before their pixels are encoded: a smooth
phantom per kind of image, and the attributes of CT, MR, Secondary Capture, Enhanced MR, Encapsulated PDF and Basic
Text SR that a server indexes and a search can find."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from dicomweb_conformance.dicom.uids import UID_ROOT_UUID

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
FIXED_DATE, FIXED_TIME = "20240102", "030405"
ENHANCED_FRAMES = 120

Frames = list[npt.NDArray[np.integer]]


@dataclass(frozen=True)
class Patient:
    """One patient with one study: every file of a kind of image lives there, one series per file."""

    key: str
    name: str
    modality: str
    study_date: str


PATIENTS = {
    "ct16s": Patient("ct16s", "Corpus^CT^Signed", "CT", "20240102"),
    "mr12": Patient("mr12", "Corpus^MR^Twelve", "MR", "20240103"),
    "sc8": Patient("sc8", "Corpus^SC^Mono", "OT", "20240104"),
    "rgb": Patient("rgb", "Corpus^SC^Colour", "OT", "20240105"),
    "enhmr120": Patient("enhmr120", "Corpus^MR^Enhanced", "MR", "20240106"),
    "doc": Patient("doc", "Corpus^Documents", "DOC", "20240107"),
}


def fixed_uid(*parts: str) -> UID:
    """A UID derived from a name (PS3.5 B.2 form), the same in every process."""
    digest = hashlib.sha256("/".join(("dicomweb-conformance-corpus", *parts)).encode()).digest()
    return UID(UID_ROOT_UUID + str(int.from_bytes(digest[:16], "big")))


def base(name: str, patient: Patient, sop_class: str, modality: str, series_number: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = fixed_uid(name, "instance")
    ds.StudyInstanceUID = fixed_uid(patient.key, "study")
    ds.SeriesInstanceUID = fixed_uid(name, "series")
    ds.PatientName = patient.name
    ds.PatientID = "DWCONF-" + patient.key
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = patient.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = FIXED_TIME
    ds.AccessionNumber = "ACC-" + patient.key
    ds.StudyID = patient.key
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "dicomweb-conformance corpus: " + patient.key
    ds.Modality = modality
    ds.SeriesNumber = series_number
    ds.SeriesDescription = name
    ds.InstanceNumber = 1
    ds.Manufacturer = "dicomweb-conformance"
    return ds


def phantom(rows: int, columns: int, bits: int, signed: bool, seed: int, frame: int = 0) -> npt.NDArray[np.float64]:
    """A smooth image (disc, gradient, light noise) over the full range of `bits`: compresses like a real one."""
    rng = np.random.default_rng(seed + 1000 * frame)
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    radius = np.hypot(y - rows / 2, x - columns / 2 - frame * 0.1)
    image = 0.35 + 0.25 * (x / columns) + 0.3 * (radius < min(rows, columns) / 3)
    image += 0.02 * rng.standard_normal((rows, columns))
    scaled: npt.NDArray[np.float64] = low + np.clip(image, 0, 1) * (high - low)
    return scaled


def image_pixel(ds: Dataset, rows: int, columns: int, bits_stored: int, signed: bool, photometric: str) -> None:
    """PS3.3 C.7.6.3 Image Pixel Module attributes (not the Pixel Data)."""
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 3 if photometric != "MONOCHROME2" else 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits_stored <= 8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0


def ct16s(name: str, series_number: int) -> tuple[Dataset, Frames]:
    ds = base(name, PATIENTS["ct16s"], CT_IMAGE, "CT", series_number)
    # -2048..2047 in a 16-bit signed word: 12 significant bits, as CT scanners write them.
    pixels = np.round(phantom(128, 128, 16, True, 1) / 16).astype(np.int16)
    image_pixel(ds, 128, 128, 16, True, "MONOCHROME2")
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.KVP = "120"
    ds.PixelSpacing, ds.SliceThickness = ["0.5", "0.5"], "1"
    ds.ImagePositionPatient, ds.ImageOrientationPatient = ["0", "0", "0"], ["1", "0", "0", "0", "1", "0"]
    return ds, [pixels[..., None]]


def mr12(name: str, series_number: int) -> tuple[Dataset, Frames]:
    ds = base(name, PATIENTS["mr12"], MR_IMAGE, "MR", series_number)
    pixels = np.round(phantom(128, 128, 12, False, 2)).astype(np.uint16)
    image_pixel(ds, 128, 128, 12, False, "MONOCHROME2")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions, ds.MRAcquisitionType = "SE", "NONE", "", "2D"
    ds.EchoTime, ds.RepetitionTime = "20", "500"
    ds.PixelSpacing = ["1", "1"]
    ds.ImagePositionPatient, ds.ImageOrientationPatient = ["0", "0", "0"], ["1", "0", "0", "0", "1", "0"]
    return ds, [pixels[..., None]]


def sc8(name: str, series_number: int) -> tuple[Dataset, Frames]:
    ds = base(name, PATIENTS["sc8"], SECONDARY_CAPTURE, "OT", series_number)
    pixels = np.round(phantom(128, 128, 8, False, 3)).astype(np.uint8)
    image_pixel(ds, 128, 128, 8, False, "MONOCHROME2")
    ds.ConversionType = "WSD"
    return ds, [pixels[..., None]]


def rgb(name: str, series_number: int) -> tuple[Dataset, Frames]:
    ds = base(name, PATIENTS["rgb"], SECONDARY_CAPTURE, "OT", series_number)
    grey = phantom(96, 128, 8, False, 4)
    pixels = np.round(np.stack([grey, grey[:, ::-1], grey[::-1, :]], axis=-1)).astype(np.uint8)
    image_pixel(ds, 96, 128, 8, False, "RGB")
    ds.ConversionType = "WSD"
    return ds, [pixels]


def enhanced_mr(name: str, series_number: int) -> tuple[Dataset, Frames]:
    """PS3.3 A.36.2 Enhanced MR: shared and per-frame functional groups, a two-dimension index (C.7.6.17)."""
    ds = base(name, PATIENTS["enhmr120"], ENHANCED_MR, "MR", series_number)
    frames: Frames = [
        np.round(phantom(32, 32, 12, False, 5, k)).astype(np.uint16)[..., None] for k in range(ENHANCED_FRAMES)
    ]
    image_pixel(ds, 32, 32, 12, False, "MONOCHROME2")
    ds.NumberOfFrames = ENHANCED_FRAMES
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    ds.ContentQualification = "PRODUCT"
    ds.PresentationLUTShape = "IDENTITY"
    ds.BurnedInAnnotation = "NO"
    ds.InstanceCreationDate, ds.InstanceCreationTime = FIXED_DATE, FIXED_TIME
    ds.AcquisitionDateTime = FIXED_DATE + FIXED_TIME
    ds.FrameOfReferenceUID = fixed_uid(name, "frame-of-reference")
    dimension_uid = fixed_uid(name, "dimension-organization")
    ds.DimensionOrganizationSequence = Sequence([Dataset()])
    ds.DimensionOrganizationSequence[0].DimensionOrganizationUID = dimension_uid
    dimensions = []
    # (In-Stack Position Number, Frame Content Sequence), (Image Position Patient, Plane Position Sequence)
    for pointer, group in ((0x00209057, 0x00209111), (0x00200032, 0x00209113)):
        dimension = Dataset()
        dimension.DimensionOrganizationUID = dimension_uid
        dimension.DimensionIndexPointer = pointer
        dimension.FunctionalGroupPointer = group
        dimensions.append(dimension)
    ds.DimensionIndexSequence = Sequence(dimensions)
    measures, orientation, shared = Dataset(), Dataset(), Dataset()
    measures.PixelSpacing, measures.SliceThickness = ["1", "1"], "1"
    orientation.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    shared.PixelMeasuresSequence = Sequence([measures])
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for index in range(ENHANCED_FRAMES):
        content, position, item = Dataset(), Dataset(), Dataset()
        content.StackID = "1"
        content.InStackPositionNumber = index + 1
        content.DimensionIndexValues = [index + 1, index + 1]
        content.FrameAcquisitionDateTime = FIXED_DATE + FIXED_TIME
        position.ImagePositionPatient = ["0", "0", str(index)]
        item.FrameContentSequence = Sequence([content])
        item.PlanePositionSequence = Sequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    return ds, frames


# A one-page PDF 1.4 written by hand: catalog, page tree, one page showing one line of Helvetica.
_PDF_CONTENT = b"BT /F1 18 Tf 20 40 Td (dicomweb-conformance) Tj ET"
_PDF_OBJECTS = (
    b"<</Type/Catalog/Pages 2 0 R>>",
    b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 240 100]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
    b"<</Length %d>>stream\n%s\nendstream" % (len(_PDF_CONTENT), _PDF_CONTENT),
    b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
)


def minimal_pdf() -> bytes:
    """The PDF with a correct cross-reference table (ISO 32000-1 7.5.4), so strict readers open it."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(_PDF_OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(_PDF_OBJECTS) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(_PDF_OBJECTS) + 1, xref)
    return bytes(out)


def encapsulated_pdf(name: str, series_number: int) -> Dataset:
    """PS3.3 A.45.1 Encapsulated PDF."""
    ds = base(name, PATIENTS["doc"], ENCAPSULATED_PDF, "DOC", series_number)
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = "dicomweb-conformance corpus PDF"
    ds.ConceptNameCodeSequence = Sequence([])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    document = minimal_pdf()
    # PS3.3 C.24.2.1: the OB value is padded to even length; the length attribute keeps the document's own.
    ds.EncapsulatedDocument = document + b"\0" * (len(document) % 2)
    ds.EncapsulatedDocumentLength = len(document)
    return ds


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, scheme, meaning
    return code


def basic_text_sr(name: str, series_number: int) -> Dataset:
    """PS3.3 A.35.1 Basic Text SR: a CONTAINER root holding one TEXT item."""
    ds = base(name, PATIENTS["doc"], BASIC_TEXT_SR, "SR", series_number)
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = Sequence([_code("11528-7", "LN", "Radiology Report")])
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag, ds.VerificationFlag = "COMPLETE", "UNVERIFIED"
    ds.ReferencedPerformedProcedureStepSequence = Sequence([])
    ds.PerformedProcedureCodeSequence = Sequence([])
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = Sequence([_code("121071", "DCM", "Finding")])
    item.TextValue = "No abnormality detected (synthetic report, dicomweb-conformance corpus)."
    ds.ContentSequence = Sequence([item])
    return ds
