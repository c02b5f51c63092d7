from __future__ import annotations

import pytest

from dicomweb_conformance.plugin.forked_workers import asks_for_workers, can_fork


@pytest.mark.parametrize(
    "argv",
    [["-n", "2"], ["-n2"], ["-nauto"], ["-n", "logical"], ["--numprocesses=4"], ["--numprocesses", "auto"]],
    ids=" ".join,
)
def test_every_spelling_of_workers_asks_for_them(argv: list[str]) -> None:
    assert asks_for_workers(["--dicomweb-url", "http://h", *argv, "-q"], {})


@pytest.mark.parametrize("argv", [[], ["-n", "0"], ["-n0"], ["--numprocesses=0"], ["-p", "no:xdist"], ["-n"]], ids=str)
def test_no_workers_or_none_asked(argv: list[str]) -> None:
    assert not asks_for_workers(argv, {})


def test_pytest_addopts_counts_and_the_command_line_comes_after_it() -> None:
    assert asks_for_workers([], {"PYTEST_ADDOPTS": "-q -n 3"})
    assert not asks_for_workers(["-n", "0"], {"PYTEST_ADDOPTS": "-q"})


def test_the_environment_can_keep_xdists_own_start() -> None:
    assert not can_fork({"DICOMWEB_WORKER_START": "spawn"})
