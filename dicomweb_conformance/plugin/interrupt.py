"""Ctrl-C is clean at every moment: one line, the run's data removed, exit code 2.

Python raises KeyboardInterrupt wherever the main thread happens to be. While pytest renders a report it can
break pytest's own code (seen: a TypeError in _pytest/_code/code.py, exit 1); inside a check it can land in
library code that swallows it half way (seen: a property check judged a page cut short and FAILed). So the
interrupt always waits for the next safe point: the start of the next check, or the end of the session, after
the cleanup; the check that was running finishes and its verdict is real. A second Ctrl-C stops at once; the
ledger then stays for --dicomweb-sweep.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

import pytest

from dicomweb_conformance.plugin.options import is_conformance_run

STASH = pytest.StashKey["InterruptGuard"]()


class InterruptGuard:
    def __init__(self) -> None:
        self.pending = False
        self.received = 0
        self.session: pytest.Session | None = None
        self.finished = False  # after pytest_unconfigure: only the process's exit is left

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.finished:  # only the process's exit is left: nothing to stop
            if not self.received:
                os.write(2, b"\nCtrl-C: the run had already finished and cleaned up\n")
            return
        self.received += 1
        if self.received > 1:
            self.say("second Ctrl-C: stopping now; the ledger stays for --dicomweb-sweep")
            raise KeyboardInterrupt
        self.pending = True
        self.say("Ctrl-C: stopping after this step, then removing what this run stored")

    def say(self, line: str) -> None:
        """On the real terminal: pytest captures sys.stderr (and fd 2) around and between the checks."""
        terminal = self.session.config.pluginmanager.get_plugin("terminalreporter") if self.session else None
        if terminal is not None:
            terminal.write_line(line, bold=True)
        else:
            sys.stderr.write(f"\n{line}\n")

    def raise_if_pending(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


def _guard(config: pytest.Config) -> InterruptGuard | None:
    return config.stash.get(STASH, None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not is_conformance_run(config):
        return  # xdist workers are stopped by their controller; the project's own tests keep pytest's Ctrl-C
    guard = InterruptGuard()
    guard.install()
    config.stash[STASH] = guard


def pytest_sessionstart(session: pytest.Session) -> None:
    guard = _guard(session.config)
    if guard is not None:
        guard.session = session


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last of all, after the cleanup and the reports: a run that was interrupted ends as one (exit code 2)."""
    guard = _guard(config)
    if guard is None:
        return
    # The handler stays to the end: a Ctrl-C in the last moments must not land in pytest's own exit path.
    guard.finished = True
    if guard.received and guard.session is not None:
        guard.session.exitstatus = pytest.ExitCode.INTERRUPTED
        if guard.pending:
            guard.say("interrupted: the run stopped early; what it stored was removed")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> None:
    guard = _guard(item.config)
    if guard is not None:
        guard.raise_if_pending()
