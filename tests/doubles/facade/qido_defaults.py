"""The attributes Azure returns by default in a QIDO result, per API version and query resource.

microsoft/dicom-server (commit eeefbe4d7), src/Microsoft.Health.Dicom.Core/Features/Query/
QueryResponseBuilder.cs: v1 uses DefaultStudyTags / DefaultSeriesTags / DefaultInstancesTags, v2
(`useNewDefaults`) the smaller V2Default* sets; /series adds the study set, /instances the study and
series sets, /studies/{s}/instances the series set. The facade asks Orthanc for them with
includefield, so a v1 answer carries v1's defaults and a v2 answer v2's (Orthanc's own defaults lack
StudyDescription and ManufacturerModelName, for instance).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

# Keywords, as QueryResponseBuilder.cs lists the tags.
V1_STUDY = (
    "SpecificCharacterSet",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "InstanceAvailability",
    "ReferringPhysicianName",
    "TimezoneOffsetFromUTC",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyID",
)
V2_STUDY = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "ReferringPhysicianName",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
)
V1_SERIES = (
    "SpecificCharacterSet",
    "Modality",
    "TimezoneOffsetFromUTC",
    "SeriesDescription",
    "SeriesInstanceUID",
    "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
)
V2_SERIES = ("SeriesInstanceUID", "Modality", "PerformedProcedureStepStartDate", "ManufacturerModelName")
V1_INSTANCE = (
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "InstanceAvailability",
    "TimezoneOffsetFromUTC",
    "InstanceNumber",
    "Rows",
    "Columns",
    "BitsAllocated",
    "NumberOfFrames",
)
V2_INSTANCE = ("SOPInstanceUID",)

_LEVELS = {
    "1": {"study": V1_STUDY, "series": V1_SERIES, "instance": V1_INSTANCE},
    "2": {"study": V2_STUDY, "series": V2_SERIES, "instance": V2_INSTANCE},
}
# The levels whose defaults each query resource returns (QueryResponseBuilder.Initialize).
_RESOURCE_LEVELS = {
    ("studies",): ("study",),
    ("series",): ("study", "series"),
    ("instances",): ("study", "series", "instance"),
    ("studies", "series"): ("series",),
    ("studies", "instances"): ("series", "instance"),
    ("studies", "series", "instances"): ("instance",),
}


# Orthanc 1.10.1 returns SpecificCharacterSet in every result on its own, and answers 400 to
# includefield=SpecificCharacterSet for an ISO 2022 IR 87 instance (checked by hand through the facade:
# GET /v2/instances?SOPInstanceUID=<that instance>&includefield=SpecificCharacterSet -> 400).
_ORTHANC_ANSWERS_ANYWAY = frozenset({"SpecificCharacterSet"})


def default_keywords(version: str, segments: list[str]) -> tuple[str, ...]:
    """The default attributes of a QIDO resource (`segments` without the UIDs) in API version `version`."""
    resource = tuple(segment for index, segment in enumerate(segments) if index % 2 == 0)
    levels = _RESOURCE_LEVELS.get(resource, ())
    return tuple(keyword for level in levels for keyword in _LEVELS[version][level])


def with_defaults(version: str, segments: list[str], query_string: str) -> str:
    """The query string with an includefield for each default attribute (none when includefield=all is asked)."""
    params = parse_qsl(query_string, keep_blank_values=True)
    included = {value for name, value in params if name.lower() == "includefield" for value in value.split(",")}
    if "all" in {value.strip().lower() for value in included}:
        return query_string
    extra = [
        ("includefield", keyword)
        for keyword in dict.fromkeys(default_keywords(version, segments))
        if keyword not in included and keyword not in _ORTHANC_ANSWERS_ANYWAY
    ]
    if not extra:
        return query_string
    return f"{query_string}&{urlencode(extra)}" if query_string else urlencode(extra)
