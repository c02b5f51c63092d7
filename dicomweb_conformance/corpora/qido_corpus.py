"""The QIDO corpus of the property checks (fixture qido_corpus): a plan of six studies, eight series and ten
instances whose values are meant to collide, the values a server must match each planned entity on, and the plan
as stored by one run under a PatientID of its own. Generated queries (checks/qido_queries.py) name entities by
their labels ("S3", "S3/1", "S3/1/2"); the stored corpus maps labels to this run's UIDs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import MultiFrameGrayscaleByteSecondaryCaptureImageStorage, SecondaryCaptureImageStorage

from dicomweb_conformance.dicom.levels import LEVEL_NAMES, LEVEL_UID
from dicomweb_conformance.dicom.samples import PATIENT_ID_PREFIX, SampleInstance, synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid

# In the plan these attributes hold entity labels ("S3", "S3/1", "S3/1/2"); the stored corpus maps them to UIDs.
LABELLED_UIDS = frozenset(LEVEL_UID.values())
UNKNOWN = "unknown"
UNSTORED_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage: no corpus instance has it
SINGLE, WILDCARD, RANGE, UID_LIST = "single value", "wildcard", "range", "uid list"


@dataclass(frozen=True)
class Query:
    """One generated QIDO search: a level, an attribute, the kind of matching and the value (labels for UIDs)."""

    level: str
    keyword: str
    kind: str
    value: str

    def __repr__(self) -> str:
        return f"/{self.level}?{self.keyword}={self.value!r} ({self.kind})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(frozen=True)
class StudyPlan:
    """One corpus study: its study attributes and its series as (modality, model, PPS date, PPS time, instances)."""

    date: str
    time: str
    accession: str
    study_id: str
    referring: str
    description: str
    series: tuple[tuple[str, str, str, str, int], ...]


# Values meant to collide: case and accent variants, spaces, an empty date and time, shared dates, two modalities.
CORPUS_PATIENT_NAME = "Prüfer^Qido^M"
CORPUS_PLAN = (
    StudyPlan(
        "20200101", "083000", "ACC-001", "S1", "Smith^Anna", "Chest CT", (("CT", "Model A", "20200101", "0830", 2),)
    ),
    StudyPlan(
        "20200101",
        "120000",
        "acc-001",
        "s1",
        "smith^anna",
        "chest ct",
        (("MR", "model a", "", "", 1), ("CT", "Model-B", "20200102", "101010", 1)),
    ),
    StudyPlan(
        "20211231",
        "235959.5",
        "ACC 002",
        "S 2",
        "Müller^Jörg^^Dr",
        "Héad MR",
        (("MR", "Modèle C", "20211231", "2359", 2),),
    ),
    StudyPlan("", "101500", "", "S4", "Mueller^Joerg", "Abdomen", (("OT", "", "", "", 1),)),
    StudyPlan(
        "19991231",
        "",
        "ÄÖÜ-3",
        "S5",
        "O'Brien^Seán",
        "knee",
        (("US", "Model A", "19991231", "00", 1), ("OT", "X", "", "", 1)),
    ),
    StudyPlan("20220615", "0700", "ACC_006", "S6", "", "Knee MR", (("CR", "Model A", "20220616", "070000", 1),)),
)
# The second instance of a series has two frames, so SOPClassUID takes two values.
FRAMES_OF_INSTANCE = {1: 1, 2: 2}
SOP_CLASS_OF_FRAMES = {1: SecondaryCaptureImageStorage, 2: MultiFrameGrayscaleByteSecondaryCaptureImageStorage}


@dataclass(frozen=True)
class PlannedEntity:
    """A study, series or instance of the corpus plan with the values of every matching attribute."""

    level: str
    label: str
    values: Mapping[str, tuple[str, ...]]

    @property
    def title(self) -> str:
        return f"{LEVEL_NAMES[self.level]} {self.label}"


def _study_values(label: str, plan: StudyPlan) -> dict[str, tuple[str, ...]]:
    return {
        "StudyInstanceUID": (label,),
        "StudyDate": (plan.date,),
        "StudyTime": (plan.time,),
        "AccessionNumber": (plan.accession,),
        "StudyID": (plan.study_id,),
        "ReferringPhysicianName": (plan.referring,),
        "PatientName": (CORPUS_PATIENT_NAME,),
        "StudyDescription": (plan.description,),
        "ModalitiesInStudy": tuple(sorted({series[0] for series in plan.series})),
    }


def planned_entities() -> tuple[PlannedEntity, ...]:
    """Every entity of CORPUS_PLAN and, computed locally, the values a server must match them on."""
    entities: list[PlannedEntity] = []
    for s, plan in enumerate(CORPUS_PLAN, start=1):
        study = _study_values(f"S{s}", plan)
        entities.append(PlannedEntity("studies", f"S{s}", study))
        for n, (modality, model, pps_date, pps_time, count) in enumerate(plan.series, start=1):
            series = {
                **study,
                "Modality": (modality,),
                "SeriesInstanceUID": (f"S{s}/{n}",),
                "SeriesNumber": (str(n),),
                "PerformedProcedureStepStartDate": (pps_date,),
                "PerformedProcedureStepStartTime": (pps_time,),
                "ManufacturerModelName": (model,),
            }
            entities.append(PlannedEntity("series", f"S{s}/{n}", series))
            for i in range(1, count + 1):
                instance = {
                    **series,
                    "SOPInstanceUID": (f"S{s}/{n}/{i}",),
                    "SOPClassUID": (SOP_CLASS_OF_FRAMES[FRAMES_OF_INSTANCE[i]],),
                    "InstanceNumber": (str(i),),
                }
                entities.append(PlannedEntity("instances", f"S{s}/{n}/{i}", instance))
    return tuple(entities)


PLANNED = planned_entities()


def planned(level: str) -> tuple[PlannedEntity, ...]:
    return tuple(e for e in PLANNED if e.level == level)


def stored_values(level: str, keyword: str) -> list[str]:
    """The distinct non-empty values of `keyword` among the planned entities of `level`."""
    return sorted({v for e in planned(level) for v in e.values.get(keyword, ()) if v})


# --- the stored corpus ------------------------------------------------------------------------------------------------

CORPUS_ATTRIBUTES = (
    "StudyTime",
    "AccessionNumber",
    "StudyID",
    "ReferringPhysicianName",
    "StudyDescription",
    "SeriesNumber",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "ManufacturerModelName",
)


@dataclass(frozen=True)
class Corpus:
    """The planned corpus as stored by this run: its PatientID, the UID of each label, the instances."""

    patient_id: str
    uids: Mapping[str, str]
    instances: tuple[SampleInstance, ...]

    def __repr__(self) -> str:
        return f"Corpus({self.patient_id}, {len(self.instances)} instances)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def label(self, uid: str) -> str:
        return next((label for label, known in self.uids.items() if known == uid), f"{uid} (not in the corpus)")

    def parameters(self, query: Query) -> dict[str, str]:
        """The query as sent: entity labels in UID attributes become this run's UIDs."""
        if query.keyword not in LABELLED_UIDS:
            return {query.keyword: query.value}
        return {query.keyword: ",".join(self.uids[label] for label in query.value.split(","))}


def corpus_patient_id(run_id: str) -> str:
    return f"{PATIENT_ID_PREFIX}{run_id}-QIDO"


def build_qido_corpus(run_id: str) -> Corpus:
    """The planned corpus with fresh UIDs, ready to store: one SampleInstance per planned instance."""
    uids = {entity.label: new_uid() for entity in PLANNED if entity.level != "instances"}
    instances = []
    for entity in planned("instances"):
        study, series, number = entity.label.split("/")
        instance = _corpus_instance(run_id, entity, uids[study], uids[f"{study}/{series}"], int(number))
        if instance.sop_class_uid != entity.values["SOPClassUID"][0]:
            raise ValueError(f"{entity.title}: stored as {instance.sop_class_uid}, planned otherwise")
        uids[entity.label] = instance.sop_instance_uid
        instances.append(instance)
    uids[UNKNOWN] = new_uid()
    return Corpus(corpus_patient_id(run_id), uids, tuple(instances))


def _corpus_instance(
    run_id: str, entity: PlannedEntity, study_uid: str, series_uid: str, number: int
) -> SampleInstance:
    def extra(ds: Dataset) -> None:
        ds.PatientID = corpus_patient_id(run_id)
        for keyword in CORPUS_ATTRIBUTES:
            setattr(ds, keyword, entity.values[keyword][0])
        ds.InstanceNumber = number

    return synthetic_instance(
        run_id,
        study_uid=study_uid,
        series_uid=series_uid,
        name="qido-corpus",
        rows=2,
        columns=2,
        frames=FRAMES_OF_INSTANCE[number],
        modality=entity.values["Modality"][0],
        patient_name=CORPUS_PATIENT_NAME,
        study_date=entity.values["StudyDate"][0],
        extra=extra,
    )
