"""Count the conformance checks in a JUnit file by outcome.

    python -m dicomweb_conformance.plugin.junit_counts reports/junit.xml

JUnit reports a known deviation (xfail) as skipped, like a check that did not apply; the
conformance_outcome property each testcase carries tells them apart.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

NOT_EXECUTED = frozenset({"NOT-APPLICABLE", "UNTESTABLE", "BLOCKED"})


def outcomes(junit: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for testcase in ET.parse(junit).getroot().iter("testcase"):
        found = [p.get("value", "") for p in testcase.iter("property") if p.get("name") == "conformance_outcome"]
        counts[found[0] if found else "(no outcome)"] += 1
    return counts


def main(argv: list[str]) -> int:
    for path in argv or ["reports/junit.xml"]:
        counts = outcomes(Path(path))
        executed = sum(n for outcome, n in counts.items() if outcome not in NOT_EXECUTED)
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        print(f"{path}: {executed} checks executed of {sum(counts.values())} ({detail})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
