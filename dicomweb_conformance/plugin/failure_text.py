"""The report text of a verdict on the server: the failure as the check rendered it (rule, expected, actual, the
exchange to reproduce it) and where in the suite it was raised, without pytest's traceback with source.

That traceback is for bugs in Python code. A ConformanceFailure is evidence about the server, and pytest builds the
traceback by parsing every module on the stack again for each report: about a quarter of the client's CPU in a
run with two hundred declared deviations. A check's own error (not a ConformanceFailure) keeps the full traceback,
and so does every report when the user asks for a traceback style (`--tb`, `--fulltrace`).
"""

from __future__ import annotations

import functools
import linecache
import traceback
from pathlib import Path

import pytest

from dicomweb_conformance.checks.common import BlockedBy, ConformanceFailure
from dicomweb_conformance.paths import PACKAGE_DIR, PROJECT_ROOT, SUITES_DIR

VERDICT_ERRORS = (ConformanceFailure, BlockedBy)
SUITE_DIRS = (PACKAGE_DIR, SUITES_DIR)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    excinfo = call.excinfo
    if excinfo is None or not isinstance(excinfo.value, VERDICT_ERRORS):
        return None
    config = item.config
    if config.getoption("tbstyle", "auto") != "auto" or config.getoption("fulltrace", False):
        return None
    return pytest.TestReport(
        item.nodeid,
        item.location,
        {keyword: 1 for keyword in item.keywords},
        "failed",
        failure_text(excinfo.value),
        call.when,  # type: ignore[arg-type]  # never "collect": this hook runs for setup, call and teardown
        [(f"Captured {key} {when}", content) for when, key, content in item._report_sections],
        call.duration,
        call.start,
        call.stop,
        user_properties=item.user_properties,
    )


def failure_text(error: BaseException) -> str:
    """The error as rendered, each cause it was raised from (one line each), and the suite's frames it passed."""
    lines = [str(error)]
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    while cause is not None and len(lines) < 6:
        lines.append(f"raised from {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}")
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    frames = [
        (shown, line, frame.f_code.co_name, linecache.getline(frame.f_code.co_filename, line).strip())
        for frame, line in traceback.walk_tb(error.__traceback__)
        if (shown := _suite_file(frame.f_code.co_filename))
    ]
    if frames:
        lines.append("raised at (innermost last):")
        lines += [f"  {shown}:{line} in {function}: {source}" for shown, line, function, source in frames]
    return "\n".join(lines)


@functools.cache
def _suite_file(filename: str) -> str:
    """The file as shown (relative to the project) when it is one of the suite's, else ""."""
    path = Path(filename).resolve()
    if not any(directory in path.parents for directory in SUITE_DIRS):
        return ""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
