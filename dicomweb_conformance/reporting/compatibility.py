"""Client compatibility: the client checks as their own class of outcome, per client and as the clients x user
actions matrix (conformance.json "clients", the terminal summary, the page)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from dicomweb_conformance.config.clients import ACTIONS, CLIENTS, ClientSelection, client_of
from dicomweb_conformance.reporting.results import SEVERITY, worst

# A client breaks when one of its checks fails, declared or not; it cannot be told when a check could not judge.
BREAKS = frozenset({"FAIL", "KNOWN-DEVIATION"})
CANNOT_TELL = frozenset({"BLOCKED", "SUITE-ERROR"})
# The checks a failing cell links to, worst first.
NOT_WORKING = BREAKS | CANNOT_TELL


def is_client_check(check: Mapping[str, Any]) -> bool:
    return client_of(str(check.get("feature", ""))) is not None


def compatibility(
    checks: Mapping[str, Mapping[str, Any]],
    actions_of: Mapping[str, str],
    selection: ClientSelection,
    failing: Iterable[str],
) -> dict[str, Any]:
    """conformance.json's "clients": per client its status and counts, and per client and user action (a client
    requirement's `action`, `actions_of` maps requirement ids to it) the worst outcome of that cell's checks, the
    counts, and the checks that did not pass, worst first. `failing`: the outcomes that fail the run."""
    failing = frozenset(failing)
    cells: dict[str, dict[str, list[tuple[str, str]]]] = {client: {} for client in CLIENTS}
    for nodeid, check in sorted(checks.items()):
        client = client_of(str(check.get("feature", "")))
        if client in cells:
            action = actions_of.get(str(check["requirement"]), "")
            cells[client].setdefault(action, []).append((nodeid, str(check["outcome"])))
    profiles = {client: _profile(client, cells[client], selection, failing) for client in CLIENTS}
    return {
        "chosen": list(selection.chosen),
        "chosen_from": selection.source,
        "actions": dict(ACTIONS),
        "profiles": profiles,
        "matrix": {client: {action: _cell(cells[client].get(action, [])) for action in ACTIONS} for client in CLIENTS},
        "summary": summary_line(profiles),
    }


def _cell(entries: list[tuple[str, str]]) -> dict[str, Any]:
    counts = Counter(outcome for _, outcome in entries)
    not_working = sorted(
        (nodeid for nodeid, outcome in entries if outcome in NOT_WORKING),
        key=lambda nodeid: SEVERITY.index(dict(entries)[nodeid]),
    )
    return {
        "outcome": worst(counts) if entries else None,
        "counts": dict(sorted(counts.items())),
        "not_working": not_working,
    }


def _profile(
    client: str, cells: Mapping[str, list[tuple[str, str]]], selection: ClientSelection, failing: frozenset[str]
) -> dict[str, Any]:
    counts = Counter(outcome for entries in cells.values() for _, outcome in entries)
    return {
        "name": CLIENTS[client],
        "chosen": selection.runs(client),
        "status": _status(counts, chosen=selection.runs(client)),
        "counts": dict(sorted(counts.items())),
        "fails_run": sum(n for outcome, n in counts.items() if outcome in failing),
    }


def _status(counts: Counter[str], *, chosen: bool) -> str:
    if not chosen:
        return "not run"
    if not counts:
        return "no checks"
    if BREAKS & set(counts):
        return "breaks"
    if CANNOT_TELL & set(counts):
        return "cannot tell"
    if set(counts) == {"NOT-APPLICABLE"}:
        return "not applicable"
    return "works"


def summary_line(profiles: Mapping[str, Mapping[str, Any]]) -> str:
    """Per client: breaks / works / cannot tell / ..., with its counts; what fails the run said so."""
    parts = []
    for profile in profiles.values():
        counts = ", ".join(f"{n} {outcome}" for outcome, n in profile["counts"].items())
        fails = f", {profile['fails_run']} fail(s) the run" if profile["fails_run"] else ""
        parts.append(f"{profile['name']} {profile['status'].upper()}" + (f" ({counts}{fails})" if counts else ""))
    return "; ".join(parts)


def matrix_lines(clients: Mapping[str, Any]) -> list[str]:
    """The matrix as the terminal prints it: a row per client, a column per user action (legend below)."""
    actions = list(clients["actions"])
    rows = [["client", *actions]]
    for client, row in clients["matrix"].items():
        profile = clients["profiles"][client]
        if not profile["chosen"]:
            rows.append([profile["name"], *(["not run"] + [""] * (len(actions) - 1))])
            continue
        rows.append([profile["name"], *(cell_text(row[action]) for action in actions)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  " + "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    legend = "; ".join(f"{key}: {name}" for key, name in clients["actions"].items())
    return [*lines, f"  (cell: worst outcome, checks not passing/all; {legend})"]


def cell_text(cell: Mapping[str, Any]) -> str:
    if cell["outcome"] is None:
        return "-"
    total = sum(cell["counts"].values())
    not_applicable = cell["counts"].get("NOT-APPLICABLE", 0) if cell["outcome"] != "NOT-APPLICABLE" else 0
    counted = f"{len(cell['not_working'])}/{total}" if cell["not_working"] else str(total)
    return f"{cell['outcome']} {counted}" + (f" ({not_applicable} N/A)" if not_applicable else "")
