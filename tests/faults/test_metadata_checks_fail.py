"""Every metadata check can fail, and can pass: suites/metadata runs through a fault proxy in front of a real Orthanc
(standard profile) and of the Azure facade over Orthanc (azure profile).

- control: no rule. Exactly the checks the server is known to break FAIL (the [[deviation]] entries proposed for
  its target file, each confirmed by hand), and every other applicable check PASSes.
- repaired: rules that put those deviations right; every applicable check must then PASS.
- fault: a rule that breaks one promise, outermost over the repairs (it changes the repaired answer); every check
  of the requirement, or the ones named, must FAIL.
- tolerated: a change PS3.18 Annex F allows (padding, numbers as strings, InlineBinary, a BulkDataURI for UT), over
  the repairs; every check must still PASS, so the comparison is no stricter than the standard.

The pool, the servers and their runners are area_harness.py's; the runner, the proxy and the outcome helpers
are those of test_every_check_can_fail.py; the rules are in rules_metadata.py. Target files are copies of the
project's own without [[deviation]] entries, so every check reports its plain verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import pytest

from tests.faults.area_harness import cases_of, server_plan_fixture, suite_pool_fixture, without_deviations
from tests.faults.rules import ProxyRule
from tests.faults.rules_metadata import METADATA_FAULTS, REPAIRS, TOLERATED
from tests.faults.test_every_check_can_fail import NOT_APPLICABLE, SuiteRun, SuiteRunner, describe, outcomes_of

METADATA_CHECKS = ["suites/metadata"]
_URI_BACKED = ("PixelData", "private-OB", "private-OW", "private-UN", "IconImageSequence-PixelData")
_ORTHANC_BULK = ("private-OF", "private-OD", "private-OL", "private-OV")

# The checks each server fails with no rule: the [[deviation]] entries this module's control run pins down.
_ORTHANC_FINDINGS = frozenset(
    {
        "test_empty_sequence_item_is_an_empty_object",
        "test_empty_component_groups_are_left_out",
        "test_attribute_values_equal_the_stored_ones[DS-beyond-32-bits]",
        "test_attribute_values_equal_the_stored_ones[SV]",
        "test_attribute_values_equal_the_stored_ones[UV]",
        "test_instance_metadata_holds_every_stored_attribute[vr-coverage]",
        "test_specific_character_set[ISO_2022_IR_87]",
    }
)
_ORTHANC_SERVES_WITHOUT_ACCEPT = frozenset(
    {f"test_metadata_without_accept_is_not_acceptable[{level}]" for level in ("study", "instance")}
)
KNOWN_FAILURES: dict[str, frozenset[str]] = {
    "orthanc": _ORTHANC_FINDINGS
    | _ORTHANC_SERVES_WITHOUT_ACCEPT
    | {f"test_bulk_attribute_is_a_reference_or_inline[{name}]" for name in _ORTHANC_BULK}
    | {f"test_bulk_value_is_the_stored_bytes[{name}]" for name in _ORTHANC_BULK},
    "facade": _ORTHANC_FINDINGS
    | {f"test_bulk_attribute_is_omitted[{name}]" for name in (*_URI_BACKED, "private-OF", "private-OD", "private-OL")}
    | {"test_implicit_private_elements_are_omitted"},
}
# FaultProxy applies rules in order, the first one outermost: the facade's omission wraps Orthanc's repair.
SERVER_REPAIRS: dict[str, tuple[str, ...]] = {
    "orthanc": ("repair-metadata-no-accept", "repair-orthanc-metadata"),
    "facade": ("repair-facade-omit-bulk", "repair-orthanc-metadata"),
}

# requirement -> (fault, the parameter ids that must FAIL; empty: every check of the requirement)
FaultSpec = tuple[str, tuple[str, ...]]
ORTHANC_FAULTS: dict[str, tuple[FaultSpec, ...]] = {
    "DW-META-001": (("metadata-nested-lowercase-key", ()),),
    "DW-META-002": (("metadata-nested-keys-reversed", ()),),
    "DW-META-003": (("metadata-nested-vr-dropped", ()),),
    "DW-META-004": (("metadata-value-and-inline-binary", ()),),
    "DW-META-005": (("metadata-nested-group-length", ()), ("metadata-drops-group-0018", ())),
    "DW-META-006": (("metadata-pn-extra-member", ()),),
    "DW-META-007": (("metadata-pn-groups-merged", ()),),
    "DW-META-008": (("metadata-sequence-items-swapped", ()),),
    "DW-META-009": (("metadata-empty-as-empty-string", ()),),
    "DW-META-010": (("metadata-null-as-empty-string", ()),),
    "DW-META-011": (("metadata-empty-item-as-null", ()),),
    "DW-META-012": (("metadata-ds-with-units", ()),),
    "DW-META-013": (("metadata-at-as-number", ()),),
    "DW-META-014": (("metadata-us-as-string", ()),),
    "DW-META-015": (("metadata-da-as-number", ()),),
    "DW-META-016": (("metadata-pn-empty-groups", ()),),
    "DW-META-020": (
        ("metadata-values-altered", ()),
        ("metadata-ds-precision-lost", ("DS", "DS-beyond-32-bits")),
        ("metadata-leading-spaces-stripped", ("LT", "ST")),
    ),
    "DW-META-021": (("metadata-private-creator-renamed", ()),),
    "DW-META-022": (("metadata-vr-changed", ()),),
    "DW-META-023": (("metadata-study-main-tags-only", ()),),
    "DW-META-024": (("metadata-series-drops-an-attribute", ()),),
    "DW-META-025": (("metadata-charset-rewritten", ()),),
    "DW-META-030": (("metadata-adds-accept", ()),),
    "DW-META-050": (("metadata-bulk-as-value", ()),),
    "DW-META-051": (
        ("metadata-bulk-as-value", ()),
        ("metadata-inline-binary-wrong", ()),
        ("bulkdata-flips-a-byte", _URI_BACKED),
    ),
    "DW-META-052": (("metadata-un-as-ob", ()), ("metadata-inline-binary-wrong", ())),
}
# The azure profile adds the AZ-* requirements; the DW-* ones are judged on Orthanc.
FACADE_FAULTS: dict[str, tuple[FaultSpec, ...]] = {
    "AZ-META-001": (("metadata-bulk-kept", ()),),
    "AZ-META-002": (("metadata-bulk-kept", ()),),
}
TABLES: dict[str, Mapping[str, tuple[FaultSpec, ...]]] = {"orthanc": ORTHANC_FAULTS, "facade": FACADE_FAULTS}


@dataclass(frozen=True)
class Case:
    server: str
    kind: str  # "fault" or "tolerated"
    rule: str
    requirement: str | None = None
    only: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[ProxyRule, ...]:
        changed = METADATA_FAULTS[self.rule] if self.kind == "fault" else TOLERATED[self.rule]
        return (changed, *repairs_of(self.server))


def repairs_of(server: str) -> tuple[ProxyRule, ...]:
    return tuple(REPAIRS[name] for name in SERVER_REPAIRS[server])


def check_name(node: str) -> str:
    return node.split("::")[-1]


def param_of(node: str) -> str:
    name = check_name(node)
    return name[name.index("[") + 1 : -1] if "[" in name else ""


class MetadataPlan:
    """The control run maps requirements to check node ids; every case's run starts ahead, two at a time."""

    def __init__(self, server: str, runner: SuiteRunner, cases: Sequence[Case]) -> None:
        self.server = server
        self.runner = runner
        self.control = runner.run((), METADATA_CHECKS)
        self.repaired = runner.submit(repairs_of(server), METADATA_CHECKS)
        for case in cases:
            self.submit(case)

    def nodes_for(self, case: Case) -> list[str]:
        if case.kind == "tolerated":
            return METADATA_CHECKS
        served = {r for r, specs in TABLES[self.server].items() if any(fault == case.rule for fault, _ in specs)}
        return sorted(node for node, check in self.control.checks.items() if check.requirement in served)

    def submit(self, case: Case) -> Future[SuiteRun]:
        return self.runner.submit(case.rules, self.nodes_for(case))

    def result(self, case: Case) -> SuiteRun:
        return self.submit(case).result()


def open_plan(server: str, runner: SuiteRunner, session: pytest.Session) -> MetadataPlan:
    return MetadataPlan(server, runner, cases_of(session, Case, server))


suite_pool = suite_pool_fixture("metadata")
orthanc_plan = server_plan_fixture("metadata", "orthanc", without_deviations, open_plan)
facade_plan = server_plan_fixture("metadata", "facade", without_deviations, open_plan)


def plan_for(request: pytest.FixtureRequest, server: str) -> MetadataPlan:
    return request.getfixturevalue(f"{server}_plan")  # type: ignore[no-any-return]


def applicable(run: SuiteRun) -> dict[str, str]:
    """check name -> outcome, for every check the run judged."""
    return {check_name(node): c.outcome for node, c in run.checks.items() if c.outcome != NOT_APPLICABLE}


FAULT_CASES = [
    pytest.param(Case(server, "fault", fault, requirement, only), id=f"{server}:{requirement}:{fault}")
    for server, table in TABLES.items()
    for requirement, specs in sorted(table.items())
    for fault, only in specs
]
TOLERATED_CASES = [pytest.param(Case("orthanc", "tolerated", name), id=f"orthanc:{name}") for name in TOLERATED]


@pytest.mark.parametrize("server", list(TABLES))
def test_every_metadata_requirement_is_covered(request: pytest.FixtureRequest, server: str) -> None:
    control = plan_for(request, server).control
    judged = {check.requirement for check in control.checks.values() if check.outcome != NOT_APPLICABLE}
    judged_on_orthanc = set(ORTHANC_FAULTS) if server == "facade" else set()
    assert judged - judged_on_orthanc == set(TABLES[server]), "the fault table must name exactly these requirements"
    assert {fault for specs in TABLES[server].values() for fault, _ in specs} <= set(METADATA_FAULTS)


@pytest.mark.parametrize("server", list(TABLES))
def test_control_fails_exactly_the_known_deviations(request: pytest.FixtureRequest, server: str) -> None:
    """No rule: the confirmed deviations FAIL, everything else that applies PASSes."""
    control = plan_for(request, server).control
    outcomes = applicable(control)
    assert not control.proxy_errors, control.proxy_errors
    failing = {name for name, outcome in outcomes.items() if outcome == "FAIL"}
    assert failing == KNOWN_FAILURES[server], describe(control.checks)
    assert {outcome for name, outcome in outcomes.items() if name not in failing} == {"PASS"}, describe(control.checks)


@pytest.mark.parametrize("server", list(TABLES))
def test_repaired_run_passes(request: pytest.FixtureRequest, server: str) -> None:
    """With the deviations put right, every metadata check that applies PASSes: none always fails."""
    run = plan_for(request, server).repaired.result()
    assert not run.proxy_errors, run.proxy_errors
    assert set(applicable(run).values()) == {"PASS"}, describe(run.checks)


@pytest.mark.parametrize("case", FAULT_CASES)
def test_fault_makes_the_checks_fail(request: pytest.FixtureRequest, case: Case) -> None:
    run = plan_for(request, case.server).result(case)
    assert case.requirement is not None
    assert run.hits.get(case.rule, 0) > 0, f"fault {case.rule} never matched a request:\n{run.output}"
    outcomes_of(run, case.requirement)  # some check of the requirement ran, and no rule raised
    checks = {
        node: check
        for node, check in run.for_requirement(case.requirement).items()
        if not case.only or param_of(node) in case.only
    }
    assert len(checks) >= max(1, len(case.only)), describe(run.checks)
    assert {check.outcome for check in checks.values()} == {"FAIL"}, describe(checks)


@pytest.mark.parametrize("case", TOLERATED_CASES)
def test_tolerated_variation_passes(request: pytest.FixtureRequest, case: Case) -> None:
    """A difference Annex F allows fails no check."""
    run = plan_for(request, case.server).result(case)
    assert run.hits.get(case.rule, 0) > 0, f"{case.rule} never matched a request:\n{run.output}"
    assert not run.proxy_errors, run.proxy_errors
    assert set(applicable(run).values()) == {"PASS"}, describe(run.checks)
