"""A pytest plugin that attributes every request of a conformance run to the module and fixture that sent it.

    python -m pytest suites -p benchmarks.request_profile [--dicomweb-url ...]

At the end it prints the requests per test module (setup, call) and per fixture that sent any, and writes them as
JSON to $REQUEST_PROFILE_JSON when set. Counting only, never judging: a benchmark aid.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Generator
from typing import Any

import pytest
import requests

from dicomweb_conformance.transport.client import DicomwebClient

_per_module: Counter[str] = Counter()
_per_fixture: Counter[str] = Counter()
_context = threading.local()
_state: dict[str, Any] = {"module": "(session)", "phase": "other", "fixtures": []}
_lock = threading.Lock()
_original_request = DicomwebClient.request


def _counted_request(self: DicomwebClient, method: str, path: str, **kwargs: Any) -> Any:
    with _lock:
        _per_module[f"{_state['module']} [{_state['phase']}]"] += 1
        if _state["fixtures"]:
            _per_fixture[_state["fixtures"][-1]] += 1
    return _original_request(self, method, path, **kwargs)


DicomwebClient.request = _counted_request  # type: ignore[method-assign]

# Every request of the process, the run's own client or not (server identification, health probes, cleanup).
_all_sent: Counter[str] = Counter()
_original_send = requests.Session.send


def _counted_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
    with _lock:
        _all_sent[f"{_state['phase']} {request.method}"] += 1
    return _original_send(self, request, **kwargs)


requests.Session.send = _counted_send  # type: ignore[method-assign]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish() -> None:
    _state["module"], _state["phase"] = "(session end)", "cleanup"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _state["module"], _state["phase"] = item.nodeid.split("::")[0], "setup"
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    _state["module"], _state["phase"] = item.nodeid.split("::")[0], "call"
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    _state["module"], _state["phase"] = item.nodeid.split("::")[0], "teardown"
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    _state["fixtures"].append(f"{fixturedef.argname} ({fixturedef.scope})")
    try:
        yield
    finally:
        _state["fixtures"].pop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    write(f"requests per module and phase ({sum(_per_module.values())} in all):")
    for key, count in _per_module.most_common():
        write(f"  {count:>6}  {key}")
    write(f"every request the process sent so far, by phase and method ({sum(_all_sent.values())}):")
    for key, count in _all_sent.most_common():
        write(f"  {count:>6}  {key}")
    write("requests per fixture that sent any:")
    for key, count in _per_fixture.most_common():
        write(f"  {count:>6}  {key}")
    destination = os.environ.get("REQUEST_PROFILE_JSON")
    if destination:
        with open(destination, "w") as out:
            json.dump({"modules": dict(_per_module), "fixtures": dict(_per_fixture), "all": dict(_all_sent)}, out)
