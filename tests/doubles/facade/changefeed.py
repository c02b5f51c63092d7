"""The change-feed log: the only state the facade keeps (in memory, behind a lock).

Reference section 1.5. Each SOP instance (study, series, SOP UID) has a current version: the
sequence number of its latest create, or none once deleted. An entry's state follows Azure's
change-feed query: "deleted" while the instance has no current version, "current" when the entry
belongs to the current version, "replaced" otherwise. So create -> delete -> re-create gives
replaced, replaced, current, and the delete entry reads deleted until the re-create (E2E
GivenADeletedAndReplacedInstance...).

Sequence numbers: Azure's ChangeFeed.Sequence is a SQL IDENTITY column (microsoft/dicom-server
eeefbe4d7, src/Microsoft.Health.Dicom.SqlServer/Features/Schema/Sql/Tables/ChangeFeed.sql), so a
rolled-back insert or a cache flush burns numbers and v1's feed has gaps (PR #2712). With a
SequenceGap the facade burns `size` numbers after every `every` entries, so v1 readers meet gaps.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

# The docs show lowercase "create"/"current"; the code's JsonStringEnumConverter without a naming
# policy suggests "Create"/"Current" (reference 1.5, DOC!=CODE). Lowercase here; the suite
# compares case-insensitively.
Action = Literal["create", "delete"]


class InstanceKey(NamedTuple):
    study: str
    series: str
    sop: str


@dataclass(frozen=True)
class Entry:
    sequence: int
    key: InstanceKey
    action: Action
    timestamp: datetime
    version: int | None
    """The sequence number of the create this entry is about (its own for a create)."""


@dataclass(frozen=True)
class SequenceGap:
    """After every `every` entries, `size` sequence numbers are skipped (as a rolled-back identity insert does)."""

    every: int
    size: int


def _timestamp(entry: Entry) -> datetime:
    return entry.timestamp


class ChangeFeed:
    def __init__(self, gap: SequenceGap | None = None) -> None:
        self._lock = threading.Lock()
        self._gap = gap
        self._entries: list[Entry] = []
        self._sequences: list[int] = []
        """The entries' sequence numbers, ascending (for bisecting v1 offsets)."""
        self._current: dict[InstanceKey, int | None] = {}
        self._metadata: dict[int, dict[str, Any]] = {}

    def record_create(self, key: InstanceKey, metadata: dict[str, Any] | None) -> Entry:
        with self._lock:
            sequence = self._next_sequence()
            if metadata is not None:
                self._metadata[sequence] = metadata
            self._current[key] = sequence
            return self._append(key, "create", sequence)

    def record_delete(self, key: InstanceKey) -> Entry:
        with self._lock:
            version = self._current.get(key)
            self._current[key] = None
            return self._append(key, "delete", version)

    def _next_sequence(self) -> int:
        last = self._sequences[-1] if self._sequences else 0
        if self._gap is not None and self._entries and len(self._entries) % self._gap.every == 0:
            last += self._gap.size
        return last + 1

    def _append(self, key: InstanceKey, action: Action, version: int | None) -> Entry:
        now = datetime.now(UTC)
        if self._entries and now <= self._entries[-1].timestamp:
            # Keep timestamps strictly increasing so v2 time windows split the log cleanly.
            now = self._entries[-1].timestamp + timedelta(microseconds=1)
        sequence = version if action == "create" and version is not None else self._next_sequence()
        entry = Entry(sequence, key, action, now, version)
        self._entries.append(entry)
        self._sequences.append(sequence)
        return entry

    def after_sequence(self, offset: int, limit: int, *, include_metadata: bool) -> list[dict[str, Any]]:
        """v1: entries with offset < sequence <= offset + limit: limit spans sequence numbers, gaps included."""
        with self._lock:
            first = bisect.bisect_right(self._sequences, offset)
            stop = bisect.bisect_right(self._sequences, offset + limit)
            return [self._render(entry, include_metadata) for entry in self._entries[first:stop]]

    def in_window(
        self, start: datetime | None, end: datetime | None, offset: int, limit: int, *, include_metadata: bool
    ) -> list[dict[str, Any]]:
        """v2: entries with start <= timestamp < end, skipping `offset` of them."""
        with self._lock:
            first = 0 if start is None else bisect.bisect_left(self._entries, start, key=_timestamp)
            stop = len(self._entries) if end is None else bisect.bisect_left(self._entries, end, key=_timestamp)
            window = self._entries[first:stop][offset : offset + limit]
            return [self._render(entry, include_metadata) for entry in window]

    def latest(self, *, include_metadata: bool) -> dict[str, Any] | None:
        with self._lock:
            return self._render(self._entries[-1], include_metadata) if self._entries else None

    def _render(self, entry: Entry, include_metadata: bool) -> dict[str, Any]:
        current = self._current.get(entry.key)
        state = "deleted" if current is None else "current" if entry.version == current else "replaced"
        rendered: dict[str, Any] = {
            "sequence": entry.sequence,
            "studyInstanceUid": entry.key.study,
            "seriesInstanceUid": entry.key.series,
            "sopInstanceUid": entry.key.sop,
            "action": entry.action,
            "timestamp": entry.timestamp.isoformat(),
            "state": state,
        }
        # Azure returns the instance's current metadata and none once it is deleted (E2E); null
        # properties are omitted on the wire (reference 1.0, JSON conventions).
        metadata = self._metadata.get(current) if current is not None else None
        if include_metadata and metadata is not None:
            rendered["metadata"] = metadata
        return rendered
