"""DELETE /vN/studies/{s}[/series/{se}[/instances/{i}]] (reference 1.4, 2.10), done through Orthanc's REST API."""

from __future__ import annotations

from tests.doubles.facade.changefeed import InstanceKey
from tests.doubles.facade.messages import Request, Response, empty, text
from tests.doubles.facade.orthanc_api import Level, OrthancClient
from tests.doubles.facade.state import FacadeState
from tests.doubles.facade.uids import is_valid_uid

_LEVELS: list[tuple[Level, str, str]] = [
    ("Study", "StudyInstanceUID", "study"),
    ("Series", "SeriesInstanceUID", "series"),
    ("Instance", "SOPInstanceUID", "instance"),
]


def delete_resource(request: Request, state: FacadeState) -> Response:
    uids = request.segments[1::2]
    for (_, keyword, _), uid in zip(_LEVELS, uids, strict=False):
        if not is_valid_uid(uid):
            return text(400, f"The specified {keyword} '{uid}' is invalid.")
    level, _, noun = _LEVELS[len(uids) - 1]
    query = {keyword: uid for (_, keyword, _), uid in zip(_LEVELS, uids, strict=False)}
    with state.write_lock:
        # /tools/find matches every UID given, so a resource under other parents is not found.
        found = state.orthanc.find(level, query)
        if not found:
            return text(404, f"The specified {noun} cannot be found.")
        for orthanc_id in found:
            removed = _instances(state.orthanc, level, orthanc_id, uids)
            state.orthanc.delete(level, orthanc_id)
            for key in removed:
                state.feed.record_delete(key)
    return empty(204)


def _instances(orthanc: OrthancClient, level: Level, orthanc_id: str, uids: list[str]) -> list[InstanceKey]:
    """The instances a delete at `level` removes, for the change feed."""
    if level == "Instance":
        return [InstanceKey(*uids)]
    if level == "Series":
        series = [(orthanc_id, uids[1])]
    else:
        listed = orthanc.children(level, orthanc_id, "Series")
        series = [(item["ID"], item["MainDicomTags"]["SeriesInstanceUID"]) for item in listed]
    return [
        InstanceKey(uids[0], series_uid, instance["MainDicomTags"]["SOPInstanceUID"])
        for series_id, series_uid in series
        for instance in orthanc.children("Series", series_id, "Instance")
    ]
