"""Sample files the server declined (a 409 with a FailureReason, PS3.18 10.5.3): how a check says so, and how the
run's summary finds them again among the checks' messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DECLINED = "the server declined"
_DECLINED_MESSAGE = re.compile(rf"{DECLINED} (.+?): (409, .*)$", re.MULTILINE)
_STORED_CHECK = "suites/samples/test_sample_files.py::test_stored["


def declined_files(checks: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, str], int]:
    """Each sample file the server declined (name -> its refusal), and how many sample files the run stored or tried."""
    declined: dict[str, str] = {}
    for entry in checks.values():
        found = _DECLINED_MESSAGE.search(str(entry.get("message") or ""))
        if found:
            declined[found.group(1)] = found.group(2)
    return declined, sum(1 for nodeid in checks if nodeid.startswith(_STORED_CHECK))


def declined_lines(checks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    declined, tried = declined_files(checks)
    if not declined:
        return []
    if len(declined) >= tried:
        header = f"SAMPLE FILES: the server declined all {tried}; their per-file checks judged nothing"
    else:
        header = f"sample files: the server declined {len(declined)} of {tried}; their other checks are NOT-APPLICABLE"
    return [header, *(f"  {name}: {refusal}" for name, refusal in sorted(declined.items()))]
