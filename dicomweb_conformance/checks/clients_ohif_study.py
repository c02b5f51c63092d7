"""The data the OHIF profile reads and writes: one study of this run shaped like a study a user opens in OHIF (one
patient, one description and date, three series of the built-in corpus), and the SR OHIF saves into a study."""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian

from dicomweb_conformance.checks.clients import ClientStudy, build_client_study
from dicomweb_conformance.dicom.samples import SampleInstance, instance_from_dataset, stamp_run
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.transport.store import Dicomweb

# A native single frame (OT), a native 120-frame enhanced MR, a JPEG 2000 lossless CT: one series each.
OHIF_STUDY_FILES = ("sc8_explicit", "enhmr120_explicit", "ct16s_j2k_lossless")
OHIF_DESCRIPTION = "OHIF client profile"
OHIF_STUDY_DATE = "20240106"
COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


@dataclass(frozen=True)
class OhifStudy:
    study: ClientStudy
    patient_name: str  # Family^Given, the family name carrying this run's token
    patient_token: str  # a part of the name only this run's study has: the study list's *token* search
    patient_id: str

    @property
    def study_uid(self) -> str:
        return self.study.study_uid

    @property
    def instances(self) -> list[SampleInstance]:
        return list(self.study.instances.values())


def patient_token(run_id: str) -> str:
    return "OHIF" + "".join(c for c in run_id if c.isalnum()).upper()[-12:]


def build_ohif_study(run_id: str) -> OhifStudy:
    token = patient_token(run_id)
    name = f"{token}^Viewer"
    built = build_client_study(run_id, OHIF_STUDY_FILES)
    instances: dict[str, SampleInstance] = {}
    for key, instance in built.instances.items():
        ds = instance.dataset
        ds.PatientName = name
        ds.StudyDescription = OHIF_DESCRIPTION
        ds.StudyDate = OHIF_STUDY_DATE
        stamp_run(ds, run_id)
        instances[key] = instance_from_dataset(key, ds, reuse=True)
    patient_id = str(next(iter(instances.values())).dataset.PatientID)
    return OhifStudy(ClientStudy(built.study_uid, instances), name, token, patient_id)


def store_ohif_study(dicomweb: Dicomweb, run_id: str) -> OhifStudy:
    study = build_ohif_study(run_id)
    dicomweb.store_and_wait(study.instances, what="the OHIF study")
    return study


def measurement_sr(run_id: str) -> SampleInstance:
    """A Comprehensive SR in Explicit VR Little Endian, the syntax OHIF's store.dicom writes (index.ts:
    EXPLICIT_VR_LITTLE_ENDIAN into dcmjs DicomDict), in a study of its own."""
    ds = Dataset()
    ds.SOPClassUID = COMPREHENSIVE_SR
    ds.SOPInstanceUID = new_uid()
    ds.StudyInstanceUID = new_uid()
    ds.SeriesInstanceUID = new_uid()
    ds.Modality = "SR"
    ds.PatientName = f"{patient_token(run_id)}^Saved"
    ds.StudyDate = OHIF_STUDY_DATE
    ds.SeriesNumber = 4700
    ds.InstanceNumber = 1
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    ds.CompletionFlag = "COMPLETE"
    ds.VerificationFlag = "UNVERIFIED"
    ds.ConceptNameCodeSequence = DicomSequence([_code("126000", "DCM", "Imaging Measurement Report")])
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.ConceptNameCodeSequence = DicomSequence([_code("121106", "DCM", "Comment")])
    item.TextValue = "saved by the OHIF client profile"
    ds.ContentSequence = DicomSequence([item])
    stamp_run(ds, run_id)
    ds.file_meta = Dataset()  # type: ignore[assignment]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return instance_from_dataset("ohif-sr", ds, reuse=True)


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue = value
    code.CodingSchemeDesignator = scheme
    code.CodeMeaning = meaning
    return code
