"""Metadata equals what was stored: each attribute of the metadata corpus, one VR class at a time, compared with
pydicom's own DICOM JSON of the stored dataset. The comparison removes exactly what Annex F and PS3.5 let differ:
IS/DS as a Number or a String (F.2.3), insignificant padding (PS3.5 Table 6.2-1, which F.2.3 defers to), and a
BulkDataURI where F.2.2 allows one in place of a Value. Study and series metadata hold the same as instance metadata.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.common import fail
from dicomweb_conformance.checks.metadata import instance_metadata, resolve_bulk_values, series_metadata, study_metadata
from dicomweb_conformance.corpora.metadata import COVERAGE, ISO_2022, SECOND_SERIES, MetadataCorpus
from dicomweb_conformance.dicom.annex_f import canonical_element, differences, non_bulk_keys, stored_json
from dicomweb_conformance.dicom.dicomjson import BULK_VRS, DatasetJson, attribute_name, key, show
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient

# One family per VR class: (corpus instance, keywords or keys). Empty values, nulls, empty PN groups and bulk VRs
# have checks of their own; SV and UV live in the private block (no public attribute of those VRs fits an image).
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "AE": (COVERAGE, ("RetrieveAETitle", "StationAETitle")),
    "AS": (COVERAGE, ("PatientAge",)),
    "AT": (COVERAGE, ("FrameIncrementPointer",)),
    "CS": (COVERAGE, ("ImageType", "PatientSex", "BurnedInAnnotation")),
    "DA": (COVERAGE, ("StudyDate", "CalibrationDate")),
    "DS": (COVERAGE, ("PixelSpacing", "SliceThickness", "WindowCenter", "WindowWidth")),
    "DS-beyond-32-bits": (COVERAGE, ("ImagePositionPatient",)),
    "DT": (COVERAGE, ("AcquisitionDateTime",)),
    "FD": (COVERAGE, ("TimeRange",)),
    "FL": (COVERAGE, ("LocalizingCursorPosition",)),
    "IS": (COVERAGE, ("SeriesNumber", "InstanceNumber", "EchoNumbers")),
    "LO": (COVERAGE, ("PatientID", "Manufacturer", "InstitutionName")),
    "LT": (COVERAGE, ("AdditionalPatientHistory",)),
    "PN": (COVERAGE, ("PatientName", "OperatorsName")),
    "SH": (COVERAGE, ("AccessionNumber", "StationName", "ReferringPhysicianTelephoneNumbers")),
    "SL": (COVERAGE, ("ReferencePixelX0",)),
    "SQ": (COVERAGE, ("RequestAttributesSequence", "IconImageSequence")),
    "SS": (COVERAGE, ("TagAngleSecondAxis",)),
    "ST": (COVERAGE, ("InstitutionAddress",)),
    "TM": (COVERAGE, ("StudyTime", "AcquisitionTime")),
    "UC": (COVERAGE, ("PotentialReasonsForProcedure",)),
    "UI": (COVERAGE, ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "RelatedGeneralSOPClassUID")),
    "UL": (COVERAGE, ("SimpleFrameList",)),
    "UR": (COVERAGE, ("RetrieveURI",)),
    "US": (COVERAGE, ("Rows", "Columns", "AcquisitionMatrix")),
    "UT": (COVERAGE, ("UniqueDeviceIdentifier",)),
    "SV": (COVERAGE, ("0011100A",)),
    "UV": (COVERAGE, ("0011100B",)),
    "ISO_2022_IR_87-text": (ISO_2022, ("PatientName", "InstitutionName", "StudyDescription")),
}
_TAG_KEY = re.compile(r"^[0-9A-F]{8}$")
PRIVATE_KEYS = ("00110010", "00111001", "00111005")
CHARACTER_SETS = {"ISO_IR_192": COVERAGE, "ISO_2022_IR_87": ISO_2022}
UTF_8 = ("CS", ("ISO_IR 192",))


def compare(
    client: DicomwebClient, instance_name: str, corpus: MetadataCorpus, keys: tuple[str, ...], what: str
) -> None:
    instance = corpus[instance_name]
    expected = stored_json(instance)
    absent = [k for k in keys if k not in expected]
    if absent:
        raise LookupError(f"the corpus instance {instance_name} was built without {absent}")
    response, dataset = instance_metadata(client, instance)
    found = resolve_bulk_values(client, dataset, instance, response.url)
    lines = differences(found, expected, keys)
    if lines:
        raise fail(
            f"{what} differs from the stored dataset",
            expected="the stored values",
            actual="\n    ".join(lines),
            response=response,
        )


@pytest.mark.req("DW-META-020")
@pytest.mark.parametrize("family", list(FAMILIES))
def test_attribute_values_equal_the_stored_ones(
    client: DicomwebClient, metadata_corpus: MetadataCorpus, family: str
) -> None:
    """Each attribute of one VR class has, in instance metadata, the stored VR and values (Annex F variations aside)."""
    instance_name, keywords = FAMILIES[family]
    keys = tuple(name if _TAG_KEY.match(name) else key(name) for name in keywords)
    compare(client, instance_name, metadata_corpus, keys, f"{family} metadata")


@pytest.mark.req("DW-META-021")
def test_private_block_is_kept(client: DicomwebClient, metadata_corpus: MetadataCorpus) -> None:
    """The private creator (0011,0010) 'DWCS CONFORMANCE', its LO (0011,1001) and US (0011,1005) keep VR and value."""
    compare(client, COVERAGE, metadata_corpus, PRIVATE_KEYS, "the private block")


@pytest.mark.req("DW-META-022")
@pytest.mark.parametrize("name", [COVERAGE, ISO_2022, SECOND_SERIES])
def test_instance_metadata_holds_every_stored_attribute(
    client: DicomwebClient, metadata_corpus: MetadataCorpus, name: str
) -> None:
    """Every (non-bulk) attribute of the stored dataset is in the instance metadata, with the stored VR."""
    instance = metadata_corpus[name]
    expected = stored_json(instance)
    response, dataset = instance_metadata(client, instance)
    problems = [
        f"{attribute_name(k)} ({k}, {expected[k]['vr']}): {'absent' if k not in dataset else show(dataset[k])[:80]}"
        for k in non_bulk_keys(expected)
        if not isinstance(dataset.get(k), dict) or dataset[k].get("vr") != expected[k]["vr"]
    ]
    if problems:
        raise fail(
            f"instance metadata of {name} lacks stored attributes (PS3.18 10.4.1.1.2)",
            expected=f"{len(non_bulk_keys(expected))} attributes with their stored VR",
            actual="\n    ".join(problems),
            response=response,
        )


def check_same_as_instance_metadata(
    client: DicomwebClient,
    level: str,
    level_response: requests.Response,
    datasets: dict[str, DatasetJson],
    instances: list[SampleInstance],
) -> None:
    """Each instance's dataset at `level` has every attribute, and the same values, as its instance metadata."""
    for instance in instances:
        _, reference = instance_metadata(client, instance)
        found = datasets[instance.sop_instance_uid]
        problems = [f"{attribute_name(k)} ({k}): absent" for k in sorted(set(reference) - set(found))] + [
            f"{attribute_name(k)} ({k}): instance level {show(reference[k])}, {level} level {show(found[k])}"
            for k in sorted(set(reference) & set(found))
            if comparable(reference[k]) != comparable(found[k])
        ]
        if problems:
            raise fail(
                f"{level} metadata of {instance.name} differs from its instance metadata (PS3.18 10.4.1.1.2)",
                expected="every attribute of the instance metadata, with the same values",
                actual="\n    ".join(problems),
                response=level_response,
            )


def comparable(element: Any) -> Any:
    # A bulk attribute is compared by VR: each level may mint its own BulkDataURI for the same bytes.
    if isinstance(element, dict) and element.get("vr") in BULK_VRS:
        return element.get("vr")
    return canonical_element(element)


@pytest.mark.req("DW-META-023")
def test_study_metadata_holds_every_attribute_of_every_instance(
    client: DicomwebClient, metadata_corpus: MetadataCorpus
) -> None:
    """Study metadata gives each of the three instances (two series) all the attributes its instance metadata has."""
    response, datasets = study_metadata(client, metadata_corpus)
    check_same_as_instance_metadata(client, "study", response, datasets, metadata_corpus.all)


@pytest.mark.req("DW-META-024")
def test_series_metadata_holds_every_attribute_of_every_instance(
    client: DicomwebClient, metadata_corpus: MetadataCorpus
) -> None:
    """Series metadata gives each of its two instances all the attributes its instance metadata has."""
    response, datasets = series_metadata(client, metadata_corpus)
    check_same_as_instance_metadata(client, "series", response, datasets, metadata_corpus.first_series)


@pytest.mark.req("DW-META-025")
@pytest.mark.parametrize("charset", list(CHARACTER_SETS))
def test_specific_character_set(client: DicomwebClient, metadata_corpus: MetadataCorpus, charset: str) -> None:
    """Specific Character Set is the stored value (an empty first value as null) or ISO_IR 192 after transcoding."""
    instance = metadata_corpus[CHARACTER_SETS[charset]]
    tag = key("SpecificCharacterSet")
    expected = stored_json(instance)[tag]
    response, dataset = instance_metadata(client, instance)
    found = canonical_element(dataset.get(tag))
    # F.2.5: the stored value with null for its empty value 1; 8.8.5: or the repertoire the JSON was transcoded to.
    if found not in (canonical_element(expected), UTF_8):
        raise fail(
            f"Specific Character Set of {instance.name} is neither the stored value nor ISO_IR 192",
            expected=f"{show(expected)} or {show({'vr': 'CS', 'Value': ['ISO_IR 192']})}",
            actual=show(dataset.get(tag)),
            response=response,
        )
