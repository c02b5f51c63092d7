"""The QIDO depth corpus (fixture qido_depth_corpus): six studies of this run with varied patients, dates,
modalities and names.

Studies A-E share the AccessionNumber Q<nonce> (study F has R<nonce>), so a search scoped by it never sees
another run's data, nor another xdist worker's copy of the corpus. The scope is a study attribute on purpose:
each study has a patient of its own (PatientID DWCS-<run_id>-Q<nonce>-<code>), because a server may keep one
demographic record per PatientID (PS3.4 C.6.1.1: Patient attributes are a level of their own), and five names
under one PatientID would then be its data, not ours. AccessionNumber is a required matching key of every profile
(PS3.18 10.6.1.2 Table 10.6.1-5; the Azure DICOM service's documented study keys).
What each search must answer is computed from these datasets by checks/qido_matching.py, never written down.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from dicomweb_conformance.dicom.levels import INSTANCE, LEVEL_KEY, LEVELS, SERIES, STUDY
from dicomweb_conformance.dicom.samples import PATIENT_ID_PREFIX, SampleInstance, synthetic_instance
from dicomweb_conformance.dicom.uids import new_uid

# Attributes read from the stored datasets, by the level of the DICOM information model they belong to
# (PS3.4 C.6.1.1: Patient and Study modules -> study, General Series and Equipment -> series, image -> instance).
STUDY_ATTRIBUTES = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientWeight",
    "StudyID",
)
SERIES_ATTRIBUTES = (
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "SeriesDate",
    "SeriesTime",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "ManufacturerModelName",
    "InstitutionName",
)
INSTANCE_ATTRIBUTES = (
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
    "PhotometricInterpretation",
)
# Computed by the server, not stored (PS3.18 10.6.3.3 Tables 10.6.3-3 and 10.6.3-4).
STUDY_COMPUTED = ("ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances")
SERIES_COMPUTED = ("NumberOfSeriesRelatedInstances",)

ATTRIBUTE_LEVEL: dict[str, str] = {
    **{keyword: STUDY for keyword in (*STUDY_ATTRIBUTES, *STUDY_COMPUTED)},
    **{keyword: SERIES for keyword in (*SERIES_ATTRIBUTES, *SERIES_COMPUTED)},
    **{keyword: INSTANCE for keyword in INSTANCE_ATTRIBUTES},
}

Values = tuple[str, ...]
Attributes = Mapping[str, Values]


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    number: int
    frames: int = 1  # 2 frames make a Multi-frame Grayscale Byte SC instance: another SOP Class


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    modality: str
    number: int
    time: str
    procedure_date: str
    procedure_time: str
    model: str
    instances: tuple[InstanceSpec, ...]


@dataclass(frozen=True)
class StudySpec:
    name: str
    patient_name: str
    date: str
    time: str
    patient_code: str  # the end of the PatientID: its first letter groups A, B (A1, A2) and C, D (B1, B2)
    description: str
    referring: str
    birth_date: str
    series: tuple[SeriesSpec, ...]
    other_patient: bool = False
    character_set: str = "ISO_IR 100"
    sex: str = "O"
    age: str = "045Y"
    weight: str = "70"


def _series(
    name: str, modality: str, number: int, time: str, procedure: tuple[str, str], model: str, *numbers: int
) -> SeriesSpec:
    instances = tuple(InstanceSpec(f"{name}-{n}", n) for n in numbers)
    return SeriesSpec(name, modality, number, time, procedure[0], procedure[1], model, instances)


SCOPE_KEY = "AccessionNumber"

# Study A is the focus of the /studies/{study}/... routes: two series, MR (two instances, one multi-frame)
# and OT. Names cover a multi-component accented name in ISO_IR 192 (A), a name with a space (D), a
# single-component name (E, searchable without any character that needs percent-encoding), and two
# names sharing a prefix (B, C) for wildcard matching. Studies A-E are one scope of 5 studies, 7 series and
# 9 instances: odd counts, so that paging with limit=2 ends on a short page.
STUDIES: tuple[StudySpec, ...] = (
    StudySpec(
        "A",
        "Müller^Jürgen",
        "20190315",
        "083000",
        "A1",
        "HeadMR",
        "House^Gregory",
        "19700101",
        (
            SeriesSpec(
                "A1",
                "MR",
                1,
                "083500",
                "20190315",
                "083100",
                "ScannerX",
                (InstanceSpec("A1-1", 1), InstanceSpec("A1-2", 2, frames=2)),
            ),
            _series("A2", "OT", 2, "090000", ("20190316", "090500"), "ScannerY", 1),
        ),
        character_set="ISO_IR 192",
        sex="M",
        age="049Y",
        weight="80",
    ),
    StudySpec(
        "B",
        "Smith^John",
        "20200610",
        "141500",
        "A2",
        "ChestCT",
        "Welby",
        "19650505",
        (
            _series("B1", "CT", 1, "141700", ("20200610", "141600"), "ScannerZ", 1, 2),
            _series("B2", "OT", 2, "142000", ("20200610", "141900"), "ScannerY", 1),
        ),
        sex="M",
    ),
    StudySpec(
        "C",
        "Smithson^Anna",
        "20200611",
        "235959",
        "B1",
        "Chest CT follow-up",
        "House^Gregory",
        "19801224",
        (_series("C1", "CT", 3, "235959", ("20200611", "235900"), "ScannerZ", 1),),
        sex="F",
        age="039Y",
    ),
    StudySpec(
        "D",
        "Van Dyke^Dick",
        "20210101",
        "000000",
        "B2",
        "Abdomen",
        "de la Cruz",
        "19700101",
        (_series("D1", "OT", 1, "000100", ("20210101", "000030"), "ScannerY", 1),),
        sex="M",
    ),
    StudySpec(
        "E",
        "Plato",
        "20211231",
        "120000",
        "C1",
        "Knee MR",
        "Welby",
        "19551111",
        (_series("E1", "MR", 4, "120500", ("20211231", "120100"), "ScannerX", 1),),
    ),
    StudySpec(
        "F",
        "Roe^Richard",
        "20200610",
        "141500",
        "C2",
        "ChestCT",
        "Welby",
        "19900202",
        (_series("F1", "CT", 1, "141800", ("20200610", "141600"), "ScannerZ", 1),),
        other_patient=True,
    ),
)
FOCUS_STUDY = "A"
FOCUS_SERIES = "A1"


@dataclass(frozen=True)
class CorpusInstance:
    """One stored instance, its place in the corpus, and the attributes the searches are computed from."""

    study: str
    series: str
    name: str
    sample: SampleInstance
    attributes: Attributes


@dataclass(frozen=True)
class QidoCorpus:
    scope_accession: str  # AccessionNumber of studies A-E
    other_accession: str  # AccessionNumber of study F
    instances: tuple[CorpusInstance, ...]
    _uids: Mapping[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> tuple[str, str]:
        """The query parameter that confines an all-studies search to studies A-E."""
        return (SCOPE_KEY, self.scope_accession)

    @property
    def samples(self) -> list[SampleInstance]:
        return [instance.sample for instance in self.instances]

    def uid(self, name: str) -> str:
        """The UID of a study, series or instance of the corpus by its name ('A', 'A1', 'A1-2')."""
        return self._uids[name]

    def focus_study(self) -> str:
        return self.uid(FOCUS_STUDY)

    def focus_series(self) -> str:
        return self.uid(FOCUS_SERIES)

    def value(self, name: str, keyword: str) -> str:
        """The (first) value of `keyword` on the corpus entity called `name`."""
        for instance in self.instances:
            if name in (instance.study, instance.series, instance.name):
                found = self.entity(ATTRIBUTE_LEVEL[keyword], instance).get(keyword, ())
                if found:
                    return found[0]
        raise KeyError(f"no {keyword} on corpus entity {name!r}")

    def entity(self, level: str, instance: CorpusInstance) -> Attributes:
        """The attributes of the entity of `level` that holds `instance`."""
        uid = instance.attributes[LEVEL_KEY[level]][0]
        return self.entities(level)[uid]

    def entities(self, level: str) -> dict[str, Attributes]:
        """Every entity of a level, by UID, with its own attributes and those of the levels above it."""
        found: dict[str, dict[str, Values]] = {}
        for instance in self.instances:
            uid = instance.attributes[LEVEL_KEY[level]][0]
            if uid not in found:
                found[uid] = _visible_at(level, instance.attributes)
                for above in LEVELS[: LEVELS.index(level) + 1]:
                    found[uid].update(self._computed(above, instance.attributes[LEVEL_KEY[above]][0]))
        return dict(found)

    def _members(self, level: str, uid: str) -> list[CorpusInstance]:
        return [i for i in self.instances if i.attributes[LEVEL_KEY[level]][0] == uid]

    def _computed(self, level: str, uid: str) -> dict[str, Values]:
        members = self._members(level, uid)
        if level == STUDY:
            modalities = sorted({i.attributes["Modality"][0] for i in members})
            series = {i.attributes["SeriesInstanceUID"][0] for i in members}
            return {
                "ModalitiesInStudy": tuple(modalities),
                "NumberOfStudyRelatedSeries": (str(len(series)),),
                "NumberOfStudyRelatedInstances": (str(len(members)),),
            }
        if level == SERIES:
            return {"NumberOfSeriesRelatedInstances": (str(len(members)),)}
        return {}


def _visible_at(level: str, attributes: Attributes) -> dict[str, Values]:
    # A series result also carries its study's attributes, an instance result its series' and study's.
    depth = LEVELS.index(level)
    return {k: v for k, v in attributes.items() if LEVELS.index(ATTRIBUTE_LEVEL[k]) <= depth}


def build_qido_depth_corpus(run_id: str) -> QidoCorpus:
    """The corpus as SampleInstances with fresh UIDs, not stored yet."""
    # SH holds 16 characters: Q and 12 hexadecimal digits, unique to this copy of the corpus.
    nonce = secrets.token_hex(6).upper()
    scope, other = f"Q{nonce}", f"R{nonce}"
    uids: dict[str, str] = {}
    instances = []
    for study, series, spec in _walk(STUDIES):
        study_uid = uids.setdefault(study.name, new_uid())
        series_uid = uids.setdefault(series.name, new_uid())
        sample = synthetic_instance(
            run_id,
            study_uid=study_uid,
            series_uid=series_uid,
            name=spec.name,
            frames=spec.frames,
            modality=series.modality,
            patient_name=study.patient_name,
            study_date=study.date,
            extra=_stamp(study, series, spec, run_id, other if study.other_patient else scope),
        )
        uids[spec.name] = sample.sop_instance_uid
        instances.append(CorpusInstance(study.name, series.name, spec.name, sample, _attributes(sample)))
    return QidoCorpus(scope, other, tuple(instances), uids)


def _walk(studies: tuple[StudySpec, ...]) -> Iterator[tuple[StudySpec, SeriesSpec, InstanceSpec]]:
    for study in studies:
        for series in study.series:
            for spec in series.instances:
                yield study, series, spec


def _stamp(
    study: StudySpec, series: SeriesSpec, spec: InstanceSpec, run_id: str, accession: str
) -> Callable[[Dataset], None]:
    def stamp(ds: Dataset) -> None:
        # PS3.5 6.1.2.5.3: ISO_IR 192 is UTF-8; pydicom encodes the names with the final character set.
        ds.SpecificCharacterSet = study.character_set
        ds.PatientID = f"{PATIENT_ID_PREFIX}{run_id}-{accession}-{study.patient_code}"
        ds.PatientBirthDate = study.birth_date
        ds.PatientSex = study.sex
        ds.PatientAge = study.age
        ds.PatientWeight = study.weight
        ds.StudyTime = study.time
        ds.AccessionNumber = accession
        ds.StudyDescription = study.description
        ds.ReferringPhysicianName = study.referring
        ds.StudyID = f"Q{study.name}"
        ds.SeriesNumber = series.number
        ds.SeriesDescription = f"Series {series.name}"
        ds.SeriesDate = study.date
        ds.SeriesTime = series.time
        ds.PerformedProcedureStepStartDate = series.procedure_date
        ds.PerformedProcedureStepStartTime = series.procedure_time
        ds.ManufacturerModelName = series.model
        ds.InstitutionName = "DICOMweb Conformance Hospital"
        ds.InstanceNumber = spec.number

    return stamp


def _attributes(sample: SampleInstance) -> dict[str, Values]:
    ds = sample.dataset
    found: dict[str, Values] = {}
    for keyword in (*STUDY_ATTRIBUTES, *SERIES_ATTRIBUTES, *INSTANCE_ATTRIBUTES):
        if keyword in ds and ds[keyword].value not in (None, ""):
            found[keyword] = _as_strings(ds[keyword].value)
    return found


def _as_strings(value: object) -> Values:
    items = list(value) if isinstance(value, MultiValue | list | tuple) else [value]
    return tuple(str(item) for item in items)
