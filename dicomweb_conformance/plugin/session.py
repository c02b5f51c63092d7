"""The plugin's session set-up: the target resolved (or launched), checked reachable, its server detected, and the run's
state built and announced; xdist workers share the controller's."""

from __future__ import annotations

import gc
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from dicomweb_conformance.config.catalog import CatalogError, Requirement, load_catalog
from dicomweb_conformance.config.deviations import check_requirements_known
from dicomweb_conformance.config.server_info import ServerInfo, detect
from dicomweb_conformance.config.settings import ConfigError, Resolver, concurrency
from dicomweb_conformance.config.target import (
    TargetConfig,
    resolve_target,
    shipped_target_for,
)
from dicomweb_conformance.launchers.local_server import ServerStartError
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.plugin.finish import sweep_and_exit
from dicomweb_conformance.plugin.options import MARKERS, WARNING_FILTERS, is_conformance_run, is_worker
from dicomweb_conformance.plugin.report import ConformanceReport, reports_dir
from dicomweb_conformance.plugin.state import RUN_STATE, RunState, new_run_id
from dicomweb_conformance.transport.auth import build_auth
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.health import ServerDown
from dicomweb_conformance.transport.ledger import Ledger
from dicomweb_conformance.transport.pool import DEFAULT_CONCURRENCY
from dicomweb_conformance.transport.server_changes import ServerChanges


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
        report = ConformanceReport(state, on_worker=is_worker(config))
        config.pluginmanager.register(report, "dicomweb-conformance-report")
        if not is_worker(config):
            if config.getoption("dicomweb_sweep"):
                sweep_and_exit(config, state)
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
        "samples": config.getoption("dicomweb_samples"),
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
        check_requirements_known(target.deviations, catalog)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    try:
        auth = build_auth(target.auth)
    except ImportError as error:
        raise pytest.UsageError(f"auth method {target.auth.method} needs a package that is missing: {error}") from None
    client = DicomwebClient(target, auth)
    # xdist: the workers share the server (transport/server_changes.py); the controller removes the lock files.
    client.changes = ServerChanges(ledger_dir if "workerid" in workerinput else None, run_id)
    return RunState(
        target=target,
        concurrency=_concurrency(config),
        run_id=run_id,
        client=client,
        ledger=Ledger(ledger_dir / f"{run_id}-{worker}.jsonl", run_id=run_id, target_url=target.base_url),
        catalog=catalog,
        keep_tutorial_uids=bool(config.getoption("dicomweb_keep_uids")),
        strict_should=bool(config.getoption("dicomweb_strict")),
        strict_deviations=bool(config.getoption("dicomweb_strict_deviations")),
    )


def _concurrency(config: pytest.Config) -> int:
    resolve = Resolver({"concurrency": config.getoption("dicomweb_concurrency")}, os.environ, {}, "")
    setting = resolve.get(
        "concurrency",
        option="--dicomweb-concurrency",
        env="DICOMWEB_CONCURRENCY",
        table="",
        name="",
        default=DEFAULT_CONCURRENCY,
    )
    try:
        return concurrency(setting)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None


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


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built lives until the run ends: frozen out of the garbage collector's passes, each of which
    (during the checks, and pytest's five at exit) would otherwise walk every collected item again."""
    if RUN_STATE in session.config.stash:
        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest walks the garbage collector five times on its way out, to bring out unraisable exceptions: one walk
    here does what theirs would, and frozen, what survives it leaves theirs nothing to walk again (0.35 s of an
    xdist controller's end, which collects nothing and so froze nothing)."""
    if RUN_STATE in config.stash:
        gc.collect()
        gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: workers use the controller's server and run id."""
    state = node.config.stash.get(RUN_STATE, None)
    if state is not None:
        node.workerinput["dicomweb_url"] = state.target.base_url
        node.workerinput["dicomweb_run_id"] = state.run_id
        node.workerinput["dicomweb_target_file"] = str(state.target.target_file) if state.target.target_file else None
        node.workerinput["dicomweb_server"] = json.dumps(state.server.__dict__)
