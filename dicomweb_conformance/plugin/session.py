"""The pytest plugin: options, target set-up, requirement guards, outcomes, cleanup."""

from __future__ import annotations

import json
import sys
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from dicomweb_conformance.checks.common import (
    CURRENT_REQUIREMENT,
    BlockedBy,
    ConformanceFailure,
    DataLossFailure,
    failure_signature,
)
from dicomweb_conformance.config.catalog import CatalogError, Outcome, Requirement, load_catalog
from dicomweb_conformance.config.server_info import ServerInfo, detect
from dicomweb_conformance.config.target import (
    ConfigError,
    Deviation,
    TargetConfig,
    resolve_target,
    shipped_target_for,
)
from dicomweb_conformance.launchers.local_server import ServerStartError
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.paths import SUITES_DIR
from dicomweb_conformance.plugin.cleanup import (
    Ledger,
    LedgerEntry,
    remove_all,
    remove_run_leftovers,
    remover_for,
    stale_ledgers,
)
from dicomweb_conformance.plugin.report import ConformanceReport, reports_dir
from dicomweb_conformance.plugin.state import RUN_STATE, RunState, new_run_id
from dicomweb_conformance.transport.auth import build_auth
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.health import ServerDown
from dicomweb_conformance.transport.redaction import REDACTOR

REQUIREMENT_KEY = pytest.StashKey[Requirement]()
DEVIATION_KEY = pytest.StashKey[Deviation]()
NOT_APPLICABLE_KEY = pytest.StashKey[str]()

EXCHANGES_SHOWN = 25


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dicomweb", "DICOMweb conformance")
    group.addoption("--dicomweb-url", help="DICOMweb root URL, with its version segment if any [env DICOMWEB_URL]")
    group.addoption("--dicomweb-target", help="TOML target file (targets/*.toml) [env DICOMWEB_TARGET]")
    group.addoption("--dicomweb-profile", help="standard (PS3.18) or azure [env DICOMWEB_PROFILE]")
    group.addoption("--dicomweb-auth", help="none, bearer, basic or azure [env DICOMWEB_AUTH]")
    group.addoption("--dicomweb-ca-bundle", help="CA bundle for TLS verification [env DICOMWEB_CA_BUNDLE]")
    group.addoption("--dicomweb-insecure", action="store_true", default=None, help="turn TLS verification OFF (warned)")
    group.addoption(
        "--dicomweb-sweep",
        action="store_true",
        help="remove what interrupted earlier runs left on the target, then stop",
    )
    group.addoption(
        "--dicomweb-keep-uids", action="store_true", help="store the tutorial's literal UIDs instead of fresh ones"
    )
    group.addoption(
        "--dicomweb-strict", action="store_true", help="a failed SHOULD fails the run (default: NON-STRICT, reported)"
    )
    group.addoption(
        "--dicomweb-strict-deviations",
        action="store_true",
        help="a declared deviation that now passes (FIXED) fails the run, so deviation lists stay exact",
    )
    group.addoption(
        "--dicomweb-ledger-dir", default=None, help="where ledgers of created data live (default .dicomweb-ledger)"
    )
    group.addoption(
        "--dicomweb-reports", default=None, help="where the reports are written (default reports/ under the rootdir)"
    )


def is_conformance_run(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == SUITES_DIR or SUITES_DIR in path.parents or path in SUITES_DIR.parents:
            return True
    return False


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


MARKERS = (
    "req(requirement_id): the catalogue requirement this check verifies (suites/catalog/*.toml)",
    "destructive: the check stores and deletes its own instances",
    "profile(name): the check applies only under this profile (standard or azure)",
)
WARNING_FILTERS = (
    "error::pytest.PytestUnknownMarkWarning",
    # pydicom 3.0 measures a read text value in bytes, PS3.5 Table 6.2-1 in characters: a 16-character SH in
    # ISO_IR 192 with one accented letter is 17 bytes and valid; the warning is noise, never a verdict.
    "ignore:The value length \\(\\d+\\) exceeds the maximum length of \\d+ allowed for VR:UserWarning",
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # Here, not in an ini file: an installed run (dicomweb-conformance) reads none.
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    for warning_filter in WARNING_FILTERS:
        config.addinivalue_line("filterwarnings", warning_filter)
    if not is_conformance_run(config):
        return
    try:
        catalog = load_catalog()
        target = _configured_target(config)
    except (ConfigError, CatalogError) as error:
        raise pytest.UsageError(str(error)) from None
    server = None
    if not is_worker(config) and target.launch:
        server, target = _launch(target)
    try:
        state = _build_state(config, target, catalog)
        if is_worker(config):
            state.server = ServerInfo(**json.loads(config.workerinput["dicomweb_server"]))  # type: ignore[attr-defined]
        else:
            first_answer = _preflight(state)
            server_info = detect(state.client.session, state.target, first_answer, state.client.auth)
            state = _with_shipped_target(config, state, catalog, server_info)
            state.server = server_info
        state.started_server = server
        config.stash[RUN_STATE] = state
        config.pluginmanager.register(ConformanceReport(state), "dicomweb-conformance-report")
        if not is_worker(config):
            if config.getoption("dicomweb_sweep"):
                _sweep_and_exit(config, state)
            _default_reports(config)
            _announce(state)
    except BaseException:
        if server is not None:
            server.stop()
        raise


def _configured_target(config: pytest.Config, target_file: str | None = None) -> TargetConfig:
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    cli = {
        "url": workerinput.get("dicomweb_url") or config.getoption("dicomweb_url"),
        "target": target_file or workerinput.get("dicomweb_target_file") or config.getoption("dicomweb_target"),
        "profile": config.getoption("dicomweb_profile"),
        "auth": config.getoption("dicomweb_auth"),
        "ca_bundle": config.getoption("dicomweb_ca_bundle"),
        "insecure": config.getoption("dicomweb_insecure"),
    }
    target = resolve_target(cli)
    if workerinput.get("dicomweb_url"):
        # The controller started the server; keep the target file it chose.
        target = target.with_base_url(workerinput["dicomweb_url"], "the xdist controller")
    return target


def _with_shipped_target(
    config: pytest.Config, state: RunState, catalog: dict[str, Requirement], server: ServerInfo
) -> RunState:
    """Given only a URL, a server this project ships a target file for is judged with that file's capabilities
    and deviations (announced; --dicomweb-target chooses another file)."""
    shipped = None if state.target.target_file else shipped_target_for(server.name)
    if shipped is None:
        return state
    chosen = f"shipped for the detected server {server.name}; --dicomweb-target chooses another"
    target = _configured_target(config, target_file=str(shipped))
    target = replace(target, sources={**target.sources, "target_file": chosen})
    state.client.session.close()
    return _build_state(config, target, catalog, run_id=state.run_id)


def _launch(target: TargetConfig) -> tuple[OrthancServer, TargetConfig]:
    if target.launch != "orthanc":
        raise pytest.UsageError(f"target {target.name} asks to launch {target.launch!r}; only 'orthanc' can be started")
    try:
        server = OrthancServer().start()
    except ServerStartError as error:
        raise pytest.UsageError(f"could not start the local Orthanc: {error}") from None
    return server, target.with_base_url(server.dicomweb_url, "self-started Orthanc")


def _build_state(
    config: pytest.Config, target: TargetConfig, catalog: dict[str, Requirement], run_id: str | None = None
) -> RunState:
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    run_id = run_id or workerinput.get("dicomweb_run_id") or new_run_id()
    worker = workerinput.get("workerid", "main")
    ledger_dir = Path(config.getoption("dicomweb_ledger_dir") or Path(config.rootpath) / ".dicomweb-ledger")
    try:
        auth = build_auth(target.auth)
    except ImportError as error:
        raise pytest.UsageError(f"auth method {target.auth.method} needs a package that is missing: {error}") from None
    return RunState(
        target=target,
        run_id=run_id,
        client=DicomwebClient(target, auth),
        ledger=Ledger(ledger_dir / f"{run_id}-{worker}.jsonl", run_id=run_id, target_url=target.base_url),
        catalog=catalog,
        keep_tutorial_uids=bool(config.getoption("dicomweb_keep_uids")),
        strict_should=bool(config.getoption("dicomweb_strict")),
        strict_deviations=bool(config.getoption("dicomweb_strict_deviations")),
    )


def _preflight(state: RunState) -> requests.Response:
    """One clear error for an unreachable target instead of a page of tracebacks."""
    target = state.target
    source = target.sources.get("base_url", "configuration")
    try:
        return state.client.get(
            "studies", accept="application/dicom+json", params={"limit": "1"}, timeout=min(30.0, target.request_timeout)
        )
    except requests.exceptions.SSLError as error:
        raise pytest.UsageError(
            f"TLS verification failed for {target.base_url} (from {source}): {error}\n"
            "Give the CA with --dicomweb-ca-bundle, or turn verification off explicitly with --dicomweb-insecure."
        ) from None
    except (requests.RequestException, ServerDown) as error:
        cause = error.__context__ if isinstance(error, ServerDown) and error.__context__ else error
        raise pytest.UsageError(
            f"cannot reach the DICOMweb target {target.base_url} (from {source}): {type(cause).__name__}: {cause}"
        ) from None
    except Exception as error:  # azure-identity raises its own errors when no credential works
        raise pytest.UsageError(
            f"could not authenticate to {target.base_url} with method {target.auth.method}: {error}"
        ) from None
    finally:
        state.client.take_exchanges()


def _default_reports(config: pytest.Config) -> None:
    reports = reports_dir(config)
    if config.pluginmanager.hasplugin("html"):
        if getattr(config.option, "htmlpath", None) is None:
            config.option.htmlpath = str(reports / "report.html")
        # A conformance report travels (CI artefacts, mail): one file, no assets folder.
        config.option.self_contained_html = True
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(reports / "junit.xml")
    reports.mkdir(parents=True, exist_ok=True)


def _announce(state: RunState) -> None:
    target = state.target
    verify = "OFF (--dicomweb-insecure)" if target.verify_tls is False else "on"
    lines = [
        f"DICOMweb target: {target.name} at {target.base_url} (from {target.sources.get('base_url')})",
        f"server: {state.server.describe()}",
        *(
            [f"target file: {target.target_file} ({target.sources['target_file']})"]
            if "target_file" in target.sources
            else []
        ),
        f"profile {target.profile}, auth {target.auth.method}, TLS verification {verify}, run id {state.run_id}",
    ]
    unmatched = [d for d in target.deviations if not d.applies_to(state.server.version)]
    if unmatched:
        lines.append(
            f"{len(unmatched)} of {len(target.deviations)} declared deviation(s) name other server versions "
            "and do not apply to this one"
        )
    if target.verify_tls is False:
        lines.append("WARNING: TLS verification is turned off; the server's identity is not checked.")
    sys.stderr.write("\n".join(lines) + "\n")


def _sweep_and_exit(config: pytest.Config, state: RunState) -> None:
    remover = remover_for(_cleanup_session(state), state.target)
    ledgers = [
        ledger
        for ledger in stale_ledgers(state.ledger.path.parent, state.target.base_url)
        if ledger.run_id != state.run_id
    ]
    if remover is None:
        raise pytest.UsageError(
            f"{state.target.name} offers no way to delete (no DICOMweb DELETE, no [cleanup] method)"
        )
    removed = left = 0
    for ledger in ledgers:
        failures = [*remove_all(ledger.entries, remover), *_remove_run_leftovers(state, ledger.run_id)]
        removed += len(ledger.entries) - len(failures)
        left += len(failures)
        if not failures:
            ledger.path.unlink()
    state.ledger.path.unlink(missing_ok=True)
    pytest.exit(
        f"sweep: {len(ledgers)} interrupted run(s), {removed} instance(s) removed, {left} left",
        returncode=1 if left else 0,
    )


def _cleanup_session(state: RunState) -> requests.Session:
    session = requests.Session()
    session.auth = state.client.auth
    session.verify = state.target.verify_tls
    return session


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: workers use the controller's server and run id."""
    state = node.config.stash.get(RUN_STATE, None)
    if state is not None:
        node.workerinput["dicomweb_url"] = state.target.base_url
        node.workerinput["dicomweb_run_id"] = state.run_id
        node.workerinput["dicomweb_target_file"] = str(state.target.target_file) if state.target.target_file else None
        node.workerinput["dicomweb_server"] = json.dumps(state.server.__dict__)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(RUN_STATE, None)
    if state is None:
        return
    problems = []
    for item in items:
        if SUITES_DIR not in Path(str(item.path)).parents:
            continue
        markers = list(item.iter_markers("req"))
        if len(markers) != 1 or len(markers[0].args) != 1:
            problems.append(f"{item.nodeid}: needs exactly one @pytest.mark.req('ID')")
            continue
        requirement = state.catalog.get(markers[0].args[0])
        if requirement is None:
            problems.append(f"{item.nodeid}: requirement {markers[0].args[0]!r} is not in the catalogue")
            continue
        _apply_requirement(item, requirement, state)
    if problems:
        raise pytest.UsageError("conformance checks without a valid requirement:\n  " + "\n  ".join(problems))


def _apply_requirement(item: pytest.Item, requirement: Requirement, state: RunState) -> None:
    item.stash[REQUIREMENT_KEY] = requirement
    item.user_properties += [
        ("requirement", requirement.id),
        ("feature", requirement.feature),
        ("level", requirement.level_for(state.target.profile)),
    ]
    reason = requirement.not_applicable_because(state.target)
    if reason:
        item.stash[NOT_APPLICABLE_KEY] = reason
        item.add_marker(pytest.mark.skip(reason=f"{Outcome.NOT_APPLICABLE.value}: {reason}"))
        return
    deviation = applicable_deviation(state.target.deviations, requirement.id, item.nodeid, state.server.version)
    if deviation is not None:
        item.stash[DEVIATION_KEY] = deviation


def applicable_deviation(
    deviations: tuple[Deviation, ...], requirement: str, nodeid: str, version: str | None
) -> Deviation | None:
    """The first deviation naming this check (by test, else requirement) for this server version."""
    for deviation in deviations:
        if deviation.matches(requirement, nodeid) and deviation.applies_to(version):
            return deviation
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """After the server went down, the remaining checks are blocked without sending anything."""
    state = item.config.stash.get(RUN_STATE, None)
    if state is not None and REQUIREMENT_KEY in item.stash and NOT_APPLICABLE_KEY not in item.stash:
        state.client.health.raise_if_down()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    requirement = item.stash.get(REQUIREMENT_KEY, None)
    token = CURRENT_REQUIREMENT.set(requirement.id if requirement else None)
    try:
        return (yield)
    finally:
        CURRENT_REQUIREMENT.reset(token)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _redact_report(report)
    requirement = item.stash.get(REQUIREMENT_KEY, None)
    state = item.config.stash.get(RUN_STATE, None)
    if requirement is None or state is None:
        return report
    exchanges: list[Exchange] = []
    if report.when == "call" or report.outcome != "passed":
        exchanges = state.client.take_exchanges()
        if exchanges:
            shown = exchanges[-EXCHANGES_SHOWN:]
            header = f"{len(exchanges)} exchanges, last {len(shown)} shown\n\n" if len(exchanges) > len(shown) else ""
            report.sections.append(("DICOMweb exchanges", header + "\n\n".join(e.render() for e in shown)))
    level = requirement.level_for(state.target.profile)
    outcome = classify(report, call, level, strict_should=state.strict_should)
    if outcome is None:
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    lost_data = isinstance(error, DataLossFailure)
    if lost_data and outcome is Outcome.NON_STRICT:
        outcome = Outcome.FAIL  # losing data is never a mere SHOULD
    properties = [("conformance_outcome", outcome.value)]
    if isinstance(error, ConformanceFailure):
        signature = failure_signature(error, exchanges[-1] if exchanges else None)
        properties.append(("failure", str(signature)))
        if signature.status is not None:
            properties.append(("failure_status", str(signature.status)))
    deviation = item.stash.get(DEVIATION_KEY, None)
    if deviation is not None and report.when == "call":
        outcome, changed = _judge_deviation(report, deviation, outcome, error, exchanges, state.strict_deviations)
        properties = [("conformance_outcome", outcome.value), *properties[1:]]
        if changed:
            properties.append(("deviation_changed", changed))
    if lost_data:
        # Declared or not, data loss is shown in the banner; only undeclared loss fails the run.
        properties.append(("data_loss", "true"))
    if isinstance(error, BlockedBy):
        properties += [("blocked_step", error.step), ("blocked_by", error.failure.requirement or "")]
        properties.append(("blocked_failure", error.failure.render()[:4000]))
        if isinstance(error.failure, DataLossFailure):
            properties.append(("blocked_data_loss", "true"))
    if isinstance(error, ServerDown):
        properties.append(("server_down", str(error)))
    if outcome is Outcome.BLOCKED and error is not None:
        # The cause is said once, in the summary; each blocked check carries one line, not a traceback.
        report.longrepr = f"{Outcome.BLOCKED.value}: {str(error).splitlines()[0]}"
    if error is not None and not isinstance(error, pytest.skip.Exception):
        properties.append(("conformance_detail", str(error)[:4000]))
    if outcome is Outcome.NON_STRICT:
        detail = str(error).splitlines()[0] if error is not None else ""
        report.outcome = "skipped"
        report.wasxfail = f"{Outcome.NON_STRICT.value} ({level} not met): {detail}"
    report.user_properties.extend(properties)
    item.user_properties.extend(properties)
    return report


def _judge_deviation(
    report: pytest.TestReport,
    deviation: Deviation,
    outcome: Outcome,
    error: BaseException | None,
    exchanges: list[Exchange],
    strict_deviations: bool,
) -> tuple[Outcome, str | None]:
    """A declared deviation covers only the failure it declares; a pass under it is FIXED. Returns the outcome and,
    when the check failed otherwise than declared, what changed."""
    if outcome is Outcome.PASS:
        if strict_deviations:
            report.outcome = "failed"
            report.longrepr = (
                f"{Outcome.FIXED.value}: declared as a deviation ({deviation.reason.splitlines()[0][:200]}) "
                "but the server now meets the requirement; remove the entry (--dicomweb-strict-deviations)"
            )
        return Outcome.FIXED, None
    if outcome not in (Outcome.FAIL, Outcome.NON_STRICT):
        return outcome, None
    last = exchanges[-1] if exchanges else None
    if isinstance(error, ConformanceFailure):
        found = failure_signature(error, last)
        if deviation.covers(found):
            since = f" (since {deviation.since})" if deviation.since else ""
            report.outcome = "skipped"
            report.wasxfail = f"{Outcome.KNOWN_DEVIATION.value}: {deviation.reason}{since}"
            return Outcome.KNOWN_DEVIATION, None
        actual = str(found)
    else:
        actual = f"{type(error).__name__} (not a conformance failure)"
    changed = f"deviation changed: declared {deviation.declared_failure}, got {actual}"
    report.outcome = "failed"
    report.longrepr = f"{changed}\n{report.longrepr}"
    return Outcome.FAIL, changed


def _redact_report(report: pytest.TestReport) -> None:
    """Second line of defence: no secret the run knows of survives in a failure text or a captured section."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        redacted = REDACTOR.text(text)
        if redacted != text:
            report.longrepr = redacted
    report.sections = [(title, REDACTOR.text(content)) for title, content in report.sections]


def classify(
    report: pytest.TestReport, call: pytest.CallInfo[None], level: str, *, strict_should: bool
) -> Outcome | None:
    """The conformance outcome of one phase report, or None when the phase says nothing new."""
    if report.skipped:
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
        if Outcome.NOT_APPLICABLE.value in reason:
            return Outcome.NOT_APPLICABLE
        return Outcome.UNTESTABLE
    if report.failed:
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, ServerDown):
            # The request the server did not survive fails its check; what comes after is blocked.
            return Outcome.FAIL if error.on_this_request and report.when == "call" else Outcome.BLOCKED
        if isinstance(error, BlockedBy):
            return Outcome.BLOCKED
        if report.when == "call" and isinstance(error, AssertionError):
            # ConformanceFailure is an AssertionError; a bare assert in a check is a verdict too.
            return Outcome.NON_STRICT if level != "SHALL" and not strict_should else Outcome.FAIL
        return Outcome.SUITE_ERROR
    if report.when == "call":
        return Outcome.PASS
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(RUN_STATE, None)
    if state is None:
        return
    entries = state.ledger.entries
    if entries and state.client.health.down and not _answers(state.client):
        sys.stderr.write(
            f"\ncleanup: the server is not answering; {len(entries)} instance(s) stored by this run stay on it. "
            f"Ledger kept at {state.ledger.path}: run again with --dicomweb-sweep once the server is back.\n"
        )
        return
    remover = remover_for(_cleanup_session(state), state.target)
    if remover is None:
        if entries:
            stays = f"{len(entries)} instance(s) stored by this run stay on {state.target.name}"
            sys.stderr.write(f"\n{stays}: it offers no way to delete.\n")
        return
    failures: list[tuple[LedgerEntry | None, str]] = [*remove_all(entries, remover)]
    if not is_worker(session.config):  # xdist workers share the run id: only the controller, after all of them
        failures += _remove_run_leftovers(state, state.run_id)
    if failures:
        sys.stderr.write(
            f"\ncleanup: {len(failures)} of {len(entries)} instance(s) could not be removed "
            f"(first: {failures[0][1]}); ledger kept at {state.ledger.path}; run again with --dicomweb-sweep\n"
        )
    else:
        state.ledger.path.unlink(missing_ok=True)


def _remove_run_leftovers(state: RunState, run_id: str) -> list[tuple[LedgerEntry | None, str]]:
    """What the ledger could not name (invalid UIDs, answers that hid an instance), found by the run's PatientID."""
    try:
        found, left = remove_run_leftovers(_cleanup_session(state), state.target, run_id)
    except (requests.RequestException, ValueError) as error:
        return [(None, f"finding this run's leftovers failed: {type(error).__name__}: {error}")]
    if found:
        sys.stderr.write(f"\ncleanup: {found - len(left)} instance(s) of this run found by its PatientID and removed\n")
    return [
        (None, f"Orthanc instance {orthanc_id} (PatientID of this run) could not be deleted") for orthanc_id in left
    ]


def _answers(client: DicomwebClient) -> bool:
    status = client.probe()
    return status is not None and status < 500


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(RUN_STATE, None)
    if state is not None and state.started_server is not None:
        state.started_server.stop()
