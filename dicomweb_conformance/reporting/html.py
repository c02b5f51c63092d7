"""reports/conformance.html: one self-contained page a person reads (header, verdict, feature matrix, drill-down)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from dicomweb_conformance.reporting.results import SEVERITY, feature_rows
from dicomweb_conformance.reporting.statement import SERVICE_NAMES, derive

OUTCOME_COLUMNS = SEVERITY  # worst first
# Of a check that did not pass, its last exchanges (where the failure is): two of a FAIL, the last of the others.
EXCHANGES_KEPT = {"FAIL": 2, "BLOCKED": 2, "SUITE-ERROR": 2}
# A pass, and a failure the target declares (its message names the failing exchange and how to reproduce it):
# only the request and status lines of the last exchange.
STATUS_LINES_ONLY = frozenset({"PASS", "KNOWN-DEVIATION"})
DEVIATION_REASON_CHARS = 160  # on each check; the whole reason is in the page's table of declared deviations
EXCHANGE_CHARS = 1500
LINE_CHARS = 240  # a URL with a long UID list is cut, not the page's budget
MESSAGE_CHARS = 1500
_EXCHANGE_START = re.compile(r"\n\n(?=> [A-Z]+ )")
# A UID past 24 characters, shortened where no curl line is kept.
_LONG_UID = re.compile(r"(?<![\d.])\d+(?:\.\d+){2,}(?![\d.])")
_SKIP_PREFIX = re.compile(r"^(Skipped: )?NOT-APPLICABLE: ")
# Shown as one short row each under one heading per requirement: no exchange, no message repeated per check.
COMPACT = frozenset({"PASS", "NOT-APPLICABLE"})
NOTE_CHARS = 120


@dataclass(frozen=True)
class CheckRow:
    nodeid: str
    name: str  # the test id, without the file when all the requirement's checks share it
    anchor: str
    note: str = ""  # a compact row's own reason, where its group's differ


@dataclass(frozen=True)
class CheckGroup:
    """A requirement's checks of one outcome; `shared`: what all of them say (a reason not applicable, the declared
    deviation), shown once."""

    outcome: str
    compact: bool
    shared: str
    rows: tuple[CheckRow, ...]


@dataclass(frozen=True)
class RequirementChecks:
    file: str  # the test file all the requirement's checks are in, or ""
    groups: tuple[CheckGroup, ...]


def requirement_checks(
    nodeids: Sequence[str], checks: Mapping[str, Mapping[str, Any]], anchors: Mapping[str, str]
) -> RequirementChecks:
    """One requirement's checks for the page, grouped by outcome, worst first: what they share said once."""
    files = {nodeid.split("::")[0] for nodeid in nodeids}
    file = next(iter(files)) if len(files) == 1 and all("::" in n for n in nodeids) else ""
    by_outcome: dict[str, list[str]] = {}
    for nodeid in nodeids:
        by_outcome.setdefault(checks[nodeid]["outcome"], []).append(nodeid)
    groups = []
    for outcome in sorted(by_outcome, key=SEVERITY.index):
        members = by_outcome[outcome]
        notes = {nodeid: _group_note(checks[nodeid]) for nodeid in members}
        shared = next(iter(notes.values())) if len(set(notes.values())) == 1 else ""
        rows = tuple(
            CheckRow(
                nodeid,
                nodeid.split("::", 1)[1] if file else nodeid,
                anchors[nodeid],
                "" if shared or outcome not in COMPACT else _cut(notes[nodeid], NOTE_CHARS),
            )
            for nodeid in members
        )
        groups.append(CheckGroup(outcome, outcome in COMPACT, shared, rows))
    return RequirementChecks(file, tuple(groups))


def _group_note(check: Mapping[str, Any]) -> str:
    if check["outcome"] == "NOT-APPLICABLE":
        return _SKIP_PREFIX.sub("", str(check.get("message", "")))
    return str(check.get("deviation_reason", ""))


@dataclass(frozen=True)
class DeviationRow:
    subject: str
    failure: str
    versions: str
    reason: str


def exchange_excerpt(section: str, outcome: str, base_url: str | None = None) -> str:
    """What the page keeps of a check's recorded exchanges: the last ones in full (truncated) where it did not
    pass, only the request and status lines of the last one where it passed (the page stays small). URLs under
    the target's base URL are shown from it on ("{base}/studies/...") and long UIDs shortened ("2.25.12345...678901")
    where no curl line is kept."""
    if outcome in STATUS_LINES_ONLY:
        if base_url:
            section = section.replace(base_url.rstrip("/"), "{base}")
        section = _LONG_UID.sub(_short_uid, section)
    exchanges = [
        "\n".join(_cut(line, LINE_CHARS) for line in part.splitlines())
        for part in _EXCHANGE_START.split(section.strip())
        if part.startswith("> ")
    ]
    if not exchanges:
        return ""
    if outcome in STATUS_LINES_ONLY:
        last = exchanges[-1].splitlines()
        kept = [line for line in last if re.match(r"^(> [A-Z]+ |< \d{3} |< no response)", line)]
        return f"{len(exchanges)} exchange(s); the last:\n" + "\n".join(kept)
    shown = exchanges[-EXCHANGES_KEPT.get(outcome, 1) :]
    excerpts = [_cut(text, EXCHANGE_CHARS) for text in shown]
    more = f"{len(exchanges)} exchanges, the last {len(shown)}:\n\n" if len(exchanges) > len(shown) else ""
    return more + "\n\n".join(excerpts)


def text_node(value: object) -> Markup:
    """Escaped for an element's text (never an attribute): quotes stay quotes, a third of a JSON body's bytes."""
    return Markup(str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def shown_message(check: Mapping[str, Any], base_url: str) -> str:
    """A check's message as the page shows it: a declared failure's `exchange:` line (its URL repeats in the curl
    line below it) from the base URL on, with long UIDs shortened; any other message as recorded."""
    message = str(check.get("message", ""))
    if check["outcome"] != "KNOWN-DEVIATION" or "\n  reproduce: " not in message:
        return message
    return "\n".join(
        _LONG_UID.sub(_short_uid, line.replace(base_url.rstrip("/"), "{base}"))
        if line.startswith("  exchange: ")
        else line
        for line in message.split("\n")
    )


def _short_uid(match: re.Match[str]) -> str:
    uid = match.group(0)
    return uid if len(uid) <= 24 else f"{uid[:10]}...{uid[-6:]}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]} ...({len(text) - limit} more characters)"


def render(
    document: Mapping[str, Any],
    exchanges: Mapping[str, str],
    deviations: Sequence[DeviationRow],
    *,
    gate_passed: bool,
) -> str:
    environment = Environment(
        loader=PackageLoader("dicomweb_conformance.reporting", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["t"] = text_node
    checks = document["checks"]
    checks_of: dict[str, list[str]] = {}
    for nodeid, check in sorted(checks.items()):
        checks_of.setdefault(check["requirement"], []).append(nodeid)
    server = document["server"]
    server_label = " ".join(str(part) for part in (server.get("name"), server.get("version")) if part) or "unknown"
    not_applicable = Counter(
        _SKIP_PREFIX.sub("", check["message"]) for check in checks.values() if check["outcome"] == "NOT-APPLICABLE"
    )
    baseline = document.get("baseline")
    baseline_failed = bool(baseline and (baseline["regressions"] or baseline["expired"]))
    anchors = {nodeid: str(index) for index, nodeid in enumerate(sorted(checks))}
    clients = document.get("clients") or {}
    profiles = clients.get("profiles", {}).values()
    return environment.get_template("conformance.html.j2").render(
        doc=document,
        server_label=server_label,
        gate_passed=gate_passed and document["verdict"].startswith("CONFORMANT"),
        baseline_failed=baseline_failed,
        clients=clients,
        clients_break=any(profile["status"] in ("breaks", "cannot tell") for profile in profiles),
        gate_line=gate_line(baseline) if baseline else "",
        loss_setups=[step for step, failure in document["setup_failures"].items() if failure["data_loss"]],
        outcome_columns=OUTCOME_COLUMNS,
        features=feature_rows(document["checks"]),
        services=sorted({check["feature"].split(".")[0] for check in checks.values()}),
        requirement_checks={rid: requirement_checks(nodeids, checks, anchors) for rid, nodeids in checks_of.items()},
        anchors=anchors,
        messages={nodeid: shown_message(check, document["base_url"]) for nodeid, check in checks.items()},
        exchanges=exchanges,
        deviations=deviations,
        statement=derive(document),
        service_names=SERVICE_NAMES,
        message_chars=MESSAGE_CHARS,
        reason_chars=DEVIATION_REASON_CHARS,
        not_applicable=sorted(not_applicable.items(), key=lambda item: (-item[1], item[0])),
    )


def gate_line(baseline: Mapping[str, Any]) -> str:
    """The gate's verdict against a baseline, as the terminal and the page say it."""
    regressions, expired = len(baseline["regressions"]), len(baseline["expired"])
    improvements = len(baseline["improvements"])
    better = f", {improvements} improvement(s)" if improvements else ""
    if regressions or expired:
        parts = [f"{regressions} regression(s)"] + ([f"{expired} expired baseline entr(y/ies)"] if expired else [])
        return f"GATE FAILED against {baseline['file']}: {', '.join(parts)}{better}"
    return f"GATE PASSED against {baseline['file']}: no regression{better}"
