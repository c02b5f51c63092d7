"""A conformance statement derived from the run's evidence: per feature, what the checks showed the server does,
where it departs, and what was not shown. Nothing is claimed that no check showed: a requirement appears as
shown only by checks that passed, and as departing when any of its checks failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SHOWN = frozenset({"PASS", "FIXED"})
DEPARTS = frozenset({"FAIL", "KNOWN-DEVIATION", "NON-STRICT"})
SERVICE_NAMES = {
    "stow": "Store (STOW-RS)",
    "wado": "Retrieve (WADO-RS)",
    "metadata": "Retrieve metadata (WADO-RS)",
    "qido": "Search (QIDO-RS)",
    "delete": "Delete",
    "changefeed": "Change feed",
    "auth": "Authentication",
    "properties": "Round trips and matching on generated data",
    "robustness": "Robustness to bad input",
    "data": "Real data, file by file (the built-in corpus or --dicomweb-samples)",
    "clients": "Client profiles: what each client needs of the server (not PS3.18)",
}


@dataclass(frozen=True)
class Line:
    requirement: str
    level: str
    text: str
    clause: str
    checks: tuple[str, ...]
    detail: str = ""


@dataclass
class FeatureStatement:
    feature: str
    shown: list[Line] = field(default_factory=list)
    departs: list[Line] = field(default_factory=list)
    not_shown: list[Line] = field(default_factory=list)


def derive(document: Mapping[str, Any]) -> dict[str, list[FeatureStatement]]:
    """Service -> its features, each with the requirements shown, departed from, and not shown."""
    checks_of: dict[str, list[str]] = {}
    for nodeid, check in sorted(document["checks"].items()):
        checks_of.setdefault(check["requirement"], []).append(nodeid)
    features: dict[str, FeatureStatement] = {}
    for requirement, row in sorted(document["requirements"].items()):
        nodeids = checks_of.get(requirement, [])
        outcomes = {document["checks"][nodeid]["outcome"] for nodeid in nodeids}
        statement = features.setdefault(row["feature"], FeatureStatement(row["feature"]))
        line = Line(requirement, row["level"], row["text"], row["clause"], tuple(nodeids))
        if outcomes & DEPARTS:
            failing = [document["checks"][n] for n in nodeids if document["checks"][n]["outcome"] in DEPARTS]
            statuses = sorted({str(c["status"]) for c in failing if c.get("status") is not None})
            detail = f"{len(failing)} of {len(nodeids)} check(s) {', '.join(sorted(outcomes & DEPARTS))}"
            if statuses:
                detail += f"; answered {', '.join(statuses)}"
            statement.departs.append(
                Line(requirement, row["level"], row["text"], row["clause"], tuple(nodeids), detail)
            )
        elif outcomes & SHOWN:
            passed = tuple(n for n in nodeids if document["checks"][n]["outcome"] in SHOWN)
            statement.shown.append(Line(requirement, row["level"], row["text"], row["clause"], passed))
        else:
            statement.not_shown.append(line)
    by_service: dict[str, list[FeatureStatement]] = {}
    for name, statement in sorted(features.items()):
        by_service.setdefault(name.split(".")[0], []).append(statement)
    return by_service


def markdown(document: Mapping[str, Any]) -> str:
    server = document["server"]
    name = " ".join(str(part) for part in (server.get("name"), server.get("version")) if part) or "unknown server"
    lines = [
        f"# Conformance statement of {name}, derived from run {document['run_id']}",
        "",
        f"Target {document['target']} at {document['base_url']}, profile {document['profile']}, "
        f"suite {document['suite_version']}, {document['started']}. Each line is a requirement of the catalogue and "
        "the checks that showed it; nothing here is claimed that no check showed.",
        "",
        f"Verdict: {document['verdict']}",
    ]
    for service, statements in derive(document).items():
        lines += ["", f"## {SERVICE_NAMES.get(service, service)}"]
        for statement in statements:
            lines += ["", f"### {statement.feature}"]
            for title, items in (("Shown", statement.shown), ("Departs from the standard", statement.departs)):
                if items:
                    lines += ["", f"{title}:", ""]
                    lines += [_markdown_line(item) for item in items]
            if statement.not_shown:
                ids = ", ".join(item.requirement for item in statement.not_shown)
                lines += ["", f"Not shown (not applicable, untestable or blocked): {ids}"]
    return "\n".join(lines) + "\n"


def _markdown_line(line: Line) -> str:
    detail = f" **{line.detail}.**" if line.detail else ""
    checks = "; ".join(f"`{nodeid}`" for nodeid in line.checks)
    return f"- {line.text} ({line.requirement}, {line.level}, {line.clause}).{detail} Checks: {checks}"
