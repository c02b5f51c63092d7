"""Independent read-only requests at once, through a bounded pool: at a distance, each one costs a round trip.

Only for requests whose answers do not depend on each other (a fixture's visibility searches of a stored corpus);
the checks themselves stay one request after another. 1 means serial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# A remote server answers several requests at once; eight in flight hide most of a 40 ms round trip.
DEFAULT_CONCURRENCY = 8
# requests' default keeps 10 connections per host; the pool never needs more than this many at once.
CONNECTIONS_PER_HOST = 16


def run_all(calls: Sequence[Callable[[], T]], concurrency: int) -> list[T]:
    """Every call's result, in order; the first exception (in order) is raised once all calls have finished."""
    if concurrency <= 1 or len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(calls), CONNECTIONS_PER_HOST)) as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]
