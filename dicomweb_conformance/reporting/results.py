"""conformance.json: the run's results in the documented, versioned shape of conformance.schema.json."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SCHEMA_VERSION = "1"
SCHEMA_FILE = "conformance.schema.json"

# Worst first: a feature row or a requirement shows the worst outcome of its SHALL checks.
SEVERITY = (
    "FAIL",
    "BLOCKED",
    "SUITE-ERROR",
    "KNOWN-DEVIATION",
    "FIXED",
    "NON-STRICT",
    "UNTESTABLE",
    "PASS",
    "NOT-APPLICABLE",
)
_KIND_OF_OUTCOME = {
    "BLOCKED": "blocked",
    "SUITE-ERROR": "suite-error",
    "KNOWN-DEVIATION": "declared-deviation",
    "FIXED": "fixed",
    "NON-STRICT": "recommendation-not-met",
    "NOT-APPLICABLE": "not-applicable",
    "UNTESTABLE": "untestable",
}


@dataclass(frozen=True)
class RunFacts:
    """What the report header says about the run, besides the outcomes."""

    run_id: str
    suite_version: str
    started: datetime
    duration_s: float
    target: str
    base_url: str
    profile: str
    auth: str
    target_file: str | None
    server: Mapping[str, Any]


@dataclass(frozen=True)
class RequirementFacts:
    level: str
    source: str
    text: str
    feature: str


def without_credentials(url: str) -> str:
    """A URL as reports show it: never a user name or password."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def failure_kind(check: Mapping[str, Any]) -> str | None:
    """Why a check did not pass, in one word a filter can use."""
    outcome = check["outcome"]
    if outcome == "PASS":
        return None
    if outcome != "FAIL":
        return _KIND_OF_OUTCOME.get(outcome)
    if check.get("data_loss"):
        return "data-loss"
    if check.get("deviation_changed"):
        return "deviation-changed"
    status = check.get("status")
    if isinstance(status, int) and status >= 500:
        return "server-error"
    if status is None and check.get("failure", "").startswith("no answer"):
        return "no-answer"
    return "non-conformant"


def worst(outcomes: Counter[str]) -> str:
    return min(outcomes, key=SEVERITY.index) if outcomes else "NOT-APPLICABLE"


def feature_rows(checks: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per feature: the worst SHALL outcome (a SHOULD or MAY not met counts as NON-STRICT), the counts by
    outcome, its requirements."""
    rows: dict[str, dict[str, Any]] = {}
    for check in checks.values():
        row = rows.setdefault(check["feature"], {"counts": Counter(), "deciding": Counter(), "requirements": set()})
        row["counts"][check["outcome"]] += 1
        row["requirements"].add(check["requirement"])
        if check["level"] == "SHALL" or check["outcome"] == "NON-STRICT":
            row["deciding"][check["outcome"]] += 1
    return [
        {
            "name": name,
            "service": name.split(".")[0],
            "outcome": worst(row["deciding"]),
            "counts": dict(sorted(row["counts"].items())),
            "requirements": sorted(row["requirements"]),
        }
        for name, row in sorted(rows.items())
    ]


def requirement_rows(
    checks: Mapping[str, Mapping[str, Any]], catalog: Mapping[str, RequirementFacts]
) -> dict[str, dict[str, Any]]:
    """Per requirement: its catalogue entry, the worst outcome of its checks, and how many had each outcome."""
    outcomes: dict[str, Counter[str]] = {}
    for check in checks.values():
        outcomes.setdefault(check["requirement"], Counter())[check["outcome"]] += 1
    rows = {}
    for requirement, counts in sorted(outcomes.items()):
        facts = catalog.get(requirement)
        rows[requirement] = {
            "level": facts.level if facts else checks_level(checks, requirement),
            "clause": facts.source if facts else "",
            "text": facts.text if facts else "",
            "feature": facts.feature if facts else "",
            "outcome": worst(counts),
            "outcomes": dict(sorted(counts.items())),
        }
    return rows


def checks_level(checks: Mapping[str, Mapping[str, Any]], requirement: str) -> str:
    return next((str(c["level"]) for c in checks.values() if c["requirement"] == requirement), "")


def conformance_document(
    facts: RunFacts,
    checks: Mapping[str, Mapping[str, Any]],
    catalog: Mapping[str, RequirementFacts],
    *,
    verdict: str,
    conformant: bool,
    setup_failures: Mapping[str, Any],
    server_down: str | None,
    baseline: Mapping[str, Any] | None = None,
    performance: Mapping[str, Any] | None = None,
    clients: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole document; `checks` maps each test id to what the plugin recorded of it; `clients`: the client
    checks per client and user action (reporting/compatibility.py)."""
    shaped = {nodeid: _check(entry) for nodeid, entry in sorted(checks.items())}
    document = {
        "schema_version": SCHEMA_VERSION,
        "suite_version": facts.suite_version,
        "run_id": facts.run_id,
        "started": facts.started.isoformat(timespec="seconds"),
        "duration_s": round(facts.duration_s, 3),
        "target": facts.target,
        "base_url": without_credentials(facts.base_url),
        "profile": facts.profile,
        "auth": facts.auth,
        "target_file": facts.target_file,
        "server": dict(facts.server),
        "verdict": verdict,
        "conformant": conformant,
        "totals": dict(sorted(Counter(check["outcome"] for check in shaped.values()).items())),
        "requirements": requirement_rows(shaped, catalog),
        "checks": shaped,
        "setup_failures": dict(setup_failures),
        "server_down": server_down,
        "data_loss": [nodeid for nodeid, check in shaped.items() if check["data_loss"]],
        "baseline": dict(baseline) if baseline is not None else None,
        "performance": dict(performance) if performance is not None else {"requests": 0, "kinds": {}},
    }
    if clients is not None:
        document["clients"] = dict(clients)
    return document


def _check(entry: Mapping[str, Any]) -> dict[str, Any]:
    check: dict[str, Any] = {
        "outcome": entry["outcome"],
        "requirement": entry.get("requirement", ""),
        "feature": entry.get("feature", ""),
        "level": entry.get("level", ""),
        "message": entry.get("message", ""),
        "duration_s": round(float(entry.get("duration_s", 0.0)), 4),
        "status": entry.get("status"),
        "data_loss": entry.get("data_loss") in (True, "true"),
    }
    for optional in ("failure", "deviation_changed", "deviation_reason"):
        if entry.get(optional):
            check[optional] = entry[optional]
    check["failure_kind"] = failure_kind(check)
    return check


def schema() -> dict[str, Any]:
    text = files("dicomweb_conformance.reporting").joinpath(SCHEMA_FILE).read_text()
    return dict(json.loads(text))


def validate(document: Mapping[str, Any]) -> None:
    """Raises jsonschema.ValidationError, naming the path, when the document departs from the schema."""
    import jsonschema  # here, not at the top: only the process writing the reports needs it (40 ms of each start)

    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)
