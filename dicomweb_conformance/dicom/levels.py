"""The levels of a QIDO-RS search: study, series and instance (PS3.4 C.6.1.1), the search resource of each
(PS3.18 10.6.1 Table 10.6.1-2), and the attribute that identifies one result of each (PS3.18 10.6.3.3)."""

from __future__ import annotations

STUDY = "study"
SERIES = "series"
INSTANCE = "instance"
LEVELS = (STUDY, SERIES, INSTANCE)

# The attribute of each level that identifies one result (PS3.18 10.6.3.3).
LEVEL_KEY = {STUDY: "StudyInstanceUID", SERIES: "SeriesInstanceUID", INSTANCE: "SOPInstanceUID"}

# The search resource of each level, in the order of LEVELS, and the level of each resource.
RESOURCE = {STUDY: "studies", SERIES: "series", INSTANCE: "instances"}
RESOURCES = tuple(RESOURCE[level] for level in LEVELS)
LEVEL_NAMES = {resource: level for level, resource in RESOURCE.items()}
# The identifying attribute of each search resource's results.
LEVEL_UID = {resource: LEVEL_KEY[level] for level, resource in RESOURCE.items()}
