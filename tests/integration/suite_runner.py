"""Run the conformance suite as a user would (a pytest subprocess) and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from dicomweb_conformance.config.catalog import Outcome, load_catalog
from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.corpora.sample_files import SampleSource, built_in_sources, parse
from dicomweb_conformance.dicom.codecs import NATIVE_SYNTAXES
from dicomweb_conformance.plugin.outcomes import applicable_deviation
from dicomweb_conformance.reporting.results import validate
from dicomweb_conformance.suites.samples.test_sample_files import TRANSCODE_TARGETS

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SuiteRun:
    returncode: int
    output: str
    reports: Path

    @property
    def conformance(self) -> dict[str, Any]:
        """conformance.json, checked against its documented schema on every read."""
        document = dict(json.loads((self.reports / "conformance.json").read_text()))
        validate(document)
        return document

    @property
    def server_version(self) -> str | None:
        version = self.conformance["server"]["version"]
        return str(version) if version is not None else None

    @property
    def outcomes(self) -> dict[str, str]:
        return {nodeid: check["outcome"] for nodeid, check in self.conformance["checks"].items()}


def suite_command(reports: Path, *args: str, strict_deviations: bool = True) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly",
        f"--html={reports / 'report.html'}", f"--junitxml={reports / 'junit.xml'}",
        f"--dicomweb-ledger-dir={reports / 'ledger'}",
        *(["--dicomweb-strict-deviations"] if strict_deviations else []),
        *args,
    ]  # fmt: skip


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DICOMWEB_")}
    environ.update(extra or {})
    return environ


def run_suite(
    reports: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    strict_deviations: bool = True,
) -> SuiteRun:
    completed = subprocess.run(
        suite_command(reports, *args, strict_deviations=strict_deviations),
        cwd=ROOT,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return SuiteRun(completed.returncode, completed.stdout + completed.stderr, reports)


def start_suite(reports: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        suite_command(reports, *args),
        cwd=ROOT,
        env=clean_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@dataclass(frozen=True)
class SampleFacts:
    """What decides a per-file check's declared outcome, besides the target file: the stored syntax (deviations
    name syntaxes), and what the file lacks (a check of what it lacks is NOT-APPLICABLE)."""

    syntax: str
    has_pixels: bool
    searchable: frozenset[str]  # the attributes test_found_by_attribute can search it by


# Per-file checks NOT-APPLICABLE to a file without pixel data, and to one whose pixel data is native.
_NEED_PIXELS = ("test_frames_", "test_rendered[")
_NEED_COMPRESSION = ("test_frames_natural_media_type[",)


def sample_facts(sources: Iterable[SampleSource]) -> dict[str, SampleFacts]:
    facts = {}
    for source in sources:
        ds = parse(source.read())
        searchable = {"AccessionNumber"}  # the run stamps it on every file
        searchable |= {k for k in ("PatientName", "StudyDate", "Modality") if ds.get(k)}
        facts[source.case_id] = SampleFacts(source.transfer_syntax, "PixelData" in ds, frozenset(searchable))
    return facts


def declared_outcomes(
    target: TargetConfig,
    requirements: dict[str, str],
    server_version: str | None,
    samples: Mapping[str, SampleFacts] | None = None,
) -> dict[str, str]:
    """What the target file says each check should give on this server version: NOT-APPLICABLE, KNOWN-DEVIATION
    or PASS. `samples`: the facts of each sample file by case id (default: the built-in corpus)."""
    catalog = load_catalog()
    facts = samples if samples is not None else built_in_facts()
    expected = {}
    for nodeid, requirement_id in requirements.items():
        requirement = catalog[requirement_id]
        sample = _sample_of(nodeid, facts) if "suites/samples/" in nodeid else None
        syntax = sample[1].syntax if sample else ""
        deviation = applicable_deviation(
            target.deviations, requirement_id, nodeid, server_version, syntax, api_version=target.api_version
        )
        if requirement.not_applicable_because(target) or (sample and _not_applicable_to(nodeid, *sample)):
            expected[nodeid] = Outcome.NOT_APPLICABLE.value
        elif sample and _declined(target, nodeid, server_version, syntax):
            expected[nodeid] = Outcome.NOT_APPLICABLE.value  # the server declines the file: nothing to check
        elif deviation:
            expected[nodeid] = Outcome.KNOWN_DEVIATION.value
        else:
            expected[nodeid] = Outcome.PASS.value
    return expected


def _declined(target: TargetConfig, nodeid: str, server_version: str | None, syntax: str) -> bool:
    """A file the target declares it declines (a 409 deviation of DW-DATA-001): its other checks have no verdict."""
    if "::test_stored[" in nodeid:
        return False
    stored = nodeid.split("::")[0] + "::test_stored[" + nodeid.split("[", 1)[1]
    deviation = applicable_deviation(target.deviations, "DW-DATA-001", stored, server_version, syntax)
    return deviation is not None and 409 in deviation.statuses


def built_in_facts() -> dict[str, SampleFacts]:
    return sample_facts(built_in_sources())


def _sample_of(nodeid: str, facts: Mapping[str, SampleFacts]) -> tuple[str, SampleFacts]:
    """The file a per-file check ran on: its id is the case id, or the case id, '-' and a parameter."""
    parameters = nodeid.split("[", 1)[1].removesuffix("]")
    for case_id, fact in facts.items():
        if parameters == case_id or parameters.startswith(case_id + "-"):
            return parameters.removeprefix(case_id).removeprefix("-"), fact
    raise KeyError(f"{nodeid}: no sample file of that id")


def _not_applicable_to(nodeid: str, parameter: str, fact: SampleFacts) -> bool:
    check = nodeid.split("::")[-1]
    if check.startswith(_NEED_PIXELS) and not fact.has_pixels:
        return True
    if check.startswith(_NEED_COMPRESSION) and fact.syntax in NATIVE_SYNTAXES:
        return True
    if check.startswith("test_frames_transcoded[") and TRANSCODE_TARGETS[parameter] == fact.syntax:
        return True
    return check.startswith("test_found_by_attribute[") and parameter not in fact.searchable


def orthanc_instances(rest_url: str, auth: tuple[str, str] | None = None) -> list[str]:
    response = requests.get(f"{rest_url}/instances", auth=auth, timeout=10)
    response.raise_for_status()
    return list(response.json())
