"""The end of a run: what it stored is removed (ledger first, then its PatientID), or the ledger kept for a later
--dicomweb-sweep; the sweep itself; the self-started server stopped."""

from __future__ import annotations

import sys

import pytest
import requests
from requests.adapters import HTTPAdapter

from dicomweb_conformance.plugin.cleanup import removal_for, remove_run_leftovers
from dicomweb_conformance.plugin.options import is_worker
from dicomweb_conformance.plugin.state import RUN_STATE, RunState
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.ledger import LedgerEntry, stale_ledgers
from dicomweb_conformance.transport.pool import CONNECTIONS_PER_HOST
from dicomweb_conformance.transport.server_changes import ServerChanges


def sweep_and_exit(config: pytest.Config, state: RunState) -> None:
    removal = removal_for(_cleanup_session(state), state.target, state.concurrency)
    ledgers = [
        ledger
        for ledger in stale_ledgers(state.ledger.path.parent, state.target.base_url)
        if ledger.run_id != state.run_id
    ]
    if removal is None:
        raise pytest.UsageError(
            f"{state.target.name} offers no way to delete (no DICOMweb DELETE, no [cleanup] method)"
        )
    removed = left = 0
    for ledger in ledgers:
        failures = [
            *removal(ledger.entries),
            *_remove_run_leftovers(state, ledger.run_id),
        ]
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
    adapter = HTTPAdapter(pool_maxsize=CONNECTIONS_PER_HOST)  # a removal sends up to that many at once
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.auth = state.client.auth
    session.verify = state.target.verify_tls
    return session


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(RUN_STATE, None)
    if state is None:
        return
    if not is_worker(session.config):
        ServerChanges(state.ledger.path.parent, state.run_id).remove()  # the xdist workers' locks: all have ended
    entries = state.ledger.entries
    if entries and state.client.health.down and not _answers(state.client):
        sys.stderr.write(
            f"\ncleanup: the server is not answering; {len(entries)} instance(s) stored by this run stay on it. "
            f"Ledger kept at {state.ledger.path}: run again with --dicomweb-sweep once the server is back.\n"
        )
        return
    removal = removal_for(_cleanup_session(state), state.target, state.concurrency)
    if removal is None:
        if entries:
            stays = f"{len(entries)} instance(s) stored by this run stay on {state.target.name}"
            sys.stderr.write(f"\n{stays}: it offers no way to delete.\n")
        return
    with state.client.changes.changing():  # under xdist, not while another worker reads the whole study list
        failures: list[tuple[LedgerEntry | None, str]] = [*removal(entries)]
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
        found, left = remove_run_leftovers(_cleanup_session(state), state.target, run_id, state.concurrency)
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
