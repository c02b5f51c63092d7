"""The scheduler behind plugin/distribution.py: an xdist controller's alone, so imported only there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import settings
from xdist.report import report_collection_diff
from xdist.scheduler import LoadScopeScheduling  # xdist is one of the package's dependencies

SAMPLE_MODULE = "samples/test_sample_files.py"
PROPERTY_FOLDER = "suites/properties/"
# Checks that each move far more than one ordinary check: the large-body stores (a 30 MB instance, two of 2 MB) take
# as long as 30 others; counted as 3 they went out last and set the end of the run.
CHECK_WEIGHTS = {"suites/stow/test_stow_large.py": 10}


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


def unit_weight(nodeids: Sequence[str], examples: int) -> int:
    """How much work a unit is, for handing out the biggest first: its checks, a property check counted once per
    example it draws (each stores or searches anew), a large-body check as CHECK_WEIGHTS says."""
    return sum(_check_weight(nodeid, examples) for nodeid in nodeids)


def _check_weight(nodeid: str, examples: int) -> int:
    if nodeid.startswith(PROPERTY_FOLDER):
        return examples
    return CHECK_WEIGHTS.get(nodeid.partition("::")[0], 1)


class SuiteScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no type information
    collection: list[str] | None

    def __init__(self, config: pytest.Config, log: Any, case_ids: Sequence[str]):
        super().__init__(config, log)
        self.case_ids = list(case_ids)

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid, self.case_ids)

    # Work goes out as soon as one worker has collected, not when the last has: on 2 cores, eight workers finish
    # importing and collecting seconds apart, and against a distant server the first ones would idle that long.

    @property
    def collection_is_completed(self) -> bool:
        return bool(self.registered_collections)

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        if self.collection is not None and list(collection) != self.collection:
            first = next(iter(self.registered_collections))
            difference = report_collection_diff(self.collection, collection, first.gateway.id, node.gateway.id)
            self.log(difference)
            report = pytest.CollectReport(nodeid=node.gateway.id, outcome="failed", longrepr=difference, result=[])
            self.config.hook.pytest_collectreport(report=report)
            node.shutdown()
            return
        self.registered_collections[node] = list(collection)

    def schedule(self) -> None:
        if self.collection is None:
            collection: list[str] = list(next(iter(self.registered_collections.values())))
            self.collection = collection
            units: dict[str, dict[str, bool]] = {}
            for nodeid in collection:
                units.setdefault(self._split_scope(nodeid), {})[nodeid] = False
            examples = settings().max_examples  # the run's profile, loaded at configure
            ordered = sorted(units.items(), key=lambda unit: -unit_weight(list(unit[1]), examples))
            self.workqueue.update(ordered if self.config.option.loadscopereorder else units.items())
        for node in self.nodes:
            if not self._pending_of(self.assigned_work[node]):  # the others ask for more as they finish checks
                self._reschedule(node)

    def _reschedule(self, node: Any) -> None:
        if node in self.registered_collections:  # a worker still collecting gets work when its collection arrives
            super()._reschedule(node)
