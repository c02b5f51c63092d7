"""Under xdist (`-n`), how the checks are handed to the workers: a module at a time, and in the sample-file module
one file's checks at a time, the units with the most checks first (xdist's loadscope with its own grouping).

A worker then sets a module's (or a file's) data up once and runs its checks in the module's order, as a serial run
does. Handed out check by check (xdist's default, `load`), each worker stored every sample file and module corpus
it met again: 1583 requests instead of 1458 at -n 4 against Orthanc 1.10. A distribution named with --dist other
than `load` is left to xdist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling  # xdist is one of the package's dependencies

from dicomweb_conformance.fixtures.sample_fixtures import sample_sources
from dicomweb_conformance.plugin.state import RUN_STATE

SAMPLE_MODULE = "samples/test_sample_files.py"


def work_unit(nodeid: str, case_ids: Sequence[str]) -> str:
    """The unit a check is handed out in: its module, or for a sample-file check its module and file."""
    module, _, name = nodeid.partition("::")
    if not module.endswith(SAMPLE_MODULE) or "[" not in name:
        return module
    params = name[name.index("[") + 1 : name.rindex("]")]
    # pytest joins the ids of a check's parameters with "-": the file's id is one run of those pieces.
    for case_id in sorted(case_ids, key=len, reverse=True):
        if f"-{params}-".find(f"-{case_id}-") >= 0:
            return f"{module}::{case_id}"
    return module


class SuiteScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no type information
    def __init__(self, config: pytest.Config, log: Any, case_ids: Sequence[str]):
        super().__init__(config, log)
        self.case_ids = list(case_ids)

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid, self.case_ids)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> SuiteScheduling | None:
    if config.getoption("dist", None) != "load" or RUN_STATE not in config.stash:
        return None
    return SuiteScheduling(config, log, [source.case_id for source in sample_sources(config)])
