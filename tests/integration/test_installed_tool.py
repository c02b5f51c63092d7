"""The tool as a team installs it: the wheel in a fresh virtual environment that already holds PyPI's `fixtures`,
`dicomweb-conformance URL` run from an empty directory against Orthanc (issue 9)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.reporting.results import validate

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600  # seconds: dependencies come from the package registry, cached after the first time
RUN_TIMEOUT = 600


def _run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _checked(command: list[str], cwd: Path, timeout: float = INSTALL_TIMEOUT) -> str:
    completed = _run(command, cwd, timeout)
    assert completed.returncode == 0, f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the sources (what git tracks or would): setuptools writes build/ and *.egg-info beside
    the sources it builds."""
    source = tmp_path_factory.mktemp("source") / "tree"
    tracked = _checked(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).split("\0")
    for name in filter(None, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name, follow_symlinks=False)
    out = tmp_path_factory.mktemp("wheel")
    _checked([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)], cwd=out)
    (built,) = out.glob("dicomweb_conformance-*.whl")
    return built


@pytest.fixture(scope="module")
def environment(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the testing-cabal `fixtures` package installed first, then the wheel."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _checked([*pip, "fixtures"], cwd=home)
    _checked([*pip, str(wheel)], cwd=home)
    return home


@pytest.fixture(scope="module")
def orthanc_for_the_tool() -> Iterator[OrthancServer]:
    with OrthancServer() as server:
        yield server


def test_the_wheel_holds_one_import_name_with_the_catalogue_and_targets(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"{wheel.name.split('-py3')[0]}.dist-info"
    assert {name.split("/")[0] for name in names} == {"dicomweb_conformance", dist_info}
    assert "dicomweb_conformance/suites/catalog/qido.toml" in names
    assert "dicomweb_conformance/targets/orthanc.toml" in names
    assert not [name for name in names if "/facade/" in name], "the Azure facade is a test double, not the tool"
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "dicomweb-conformance = dicomweb_conformance.cli:main" in entry_points
    assert "[pytest11]" in entry_points


def test_the_command_runs_the_suite_from_an_empty_directory(
    environment: Path, orthanc_for_the_tool: OrthancServer, tmp_path: Path
) -> None:
    workdir = tmp_path / "empty"
    workdir.mkdir()
    completed = _run(
        [str(environment / "bin" / "dicomweb-conformance"), orthanc_for_the_tool.dicomweb_url], workdir, RUN_TIMEOUT
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-5000:]
    assert "target file:" in output
    assert "shipped for the detected server Orthanc" in output
    reports = workdir / "reports"
    assert sorted(path.name for path in reports.iterdir()) == [
        "conformance-statement.md",
        "conformance.html",
        "conformance.json",
        "junit.xml",
        "report.html",
    ]
    document = json.loads((reports / "conformance.json").read_text())
    validate(document)  # the schema and the page's template travel in the wheel
    assert "DICOMweb conformance: Orthanc" in (reports / "conformance.html").read_text()
    assert document["server"]["name"] == "Orthanc"
    assert document["verdict"].startswith("CONFORMANT")
    assert document["totals"].get("FAIL", 0) == 0
    assert document["totals"]["PASS"] > 300
    assert all(nodeid.startswith("suites/") for nodeid in document["checks"]), "node ids as in a clone"
    left = requests.get(f"{orthanc_for_the_tool.rest_url}/instances", timeout=10).json()
    assert left == [], "the run removed everything it stored"


def test_the_fixtures_package_still_works_beside_it(environment: Path, tmp_path: Path) -> None:
    probe = "from fixtures import Fixture; import dicomweb_conformance.plugin.session; print(Fixture.__module__)"
    printed = _checked([str(environment / "bin" / "python"), "-c", probe], cwd=tmp_path)
    assert printed.strip() == "fixtures.fixture"


def test_the_plugin_stays_out_of_other_pytest_runs(environment: Path, tmp_path: Path) -> None:
    """Loaded by the entry point into every pytest run of the environment, it must not act on someone else's."""
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n")
    completed = _run(
        [str(environment / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path, 120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout
    assert not (tmp_path / "reports").exists()
    assert "DICOMweb target" not in completed.stdout + completed.stderr


# --- the README's CI recipes, command line by command line ------------------------------------------------------

RECIPES = ("GitHub Actions", "Azure Pipelines", "GitLab CI")
SECRET_REFERENCE = re.compile(r"^\$\{\{ secrets\.(\w+) \}\}$|^\$\((\w+)\)$")


@dataclass(frozen=True)
class Recipe:
    name: str
    commands: list[tuple[str, dict[str, str]]]  # each command line with the environment its step declares
    published: list[str]  # what the recipe publishes: report directories and the JUnit file


def _readme_block(heading: str, language: str) -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"\n{heading}\n", 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"README: no {language} block under {heading}"
    return match.group(1)


def _recipe(name: str) -> Recipe:
    document = yaml.safe_load(_readme_block(f"### {name}", "yaml"))
    if name == "GitHub Actions":
        steps = [step for job in document["jobs"].values() for step in job["steps"]]
        commands = [(step["run"], step.get("env", {})) for step in steps if "run" in step]
        published = [step["with"].get("path") or step["with"].get("report_paths") for step in steps if "with" in step]
        return Recipe(name, commands, [path for path in published if path and path != "3.11"])
    if name == "Azure Pipelines":
        steps = document["steps"]
        commands = [(step["script"], step.get("env", {})) for step in steps if "script" in step]
        published = [step["publish"] for step in steps if "publish" in step]
        published += [
            step["inputs"]["testResultsFiles"] for step in steps if "testResultsFiles" in step.get("inputs", {})
        ]
        return Recipe(name, commands, published)
    (job,) = document.values()
    return Recipe(
        name, [(line, {}) for line in job["script"]], [*job["artifacts"]["paths"], job["artifacts"]["reports"]["junit"]]
    )


def _run_recipe_line(
    line: str, declared: dict[str, str], secrets: dict[str, str], environment: Path, wheel: Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """One command line as the CI system runs it: bash, the step's environment with the secrets filled in, and the
    package index replaced by the directory holding the wheel (the tool is not published yet)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DICOMWEB_", "PIP_"))}
    env["PATH"] = f"{environment / 'bin'}:{env['PATH']}"
    env |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheel.parent), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env |= secrets  # GitLab and Azure expose secret variables to every step
    for name, value in declared.items():
        reference = SECRET_REFERENCE.match(str(value))
        env[name] = secrets.get(next(filter(None, reference.groups())), "") if reference else str(value)
    return subprocess.run(
        ["bash", "-e", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def test_every_ci_recipe_runs_as_written(
    environment: Path, wheel: Path, orthanc_for_the_tool: OrthancServer, tmp_path: Path
) -> None:
    secrets = {"DICOMWEB_URL": orthanc_for_the_tool.dicomweb_url}
    repository = tmp_path / "repository"
    repository.mkdir()
    update, gate = _readme_block("## Gating a deployment: regressions only", "sh").strip().splitlines()
    assert "--dicomweb-baseline-update" in update
    written = _run_recipe_line(update, {}, secrets, environment, wheel, repository)
    assert written.returncode == 0, written.stdout[-3000:] + written.stderr[-3000:]
    baseline = repository / "conformance-baseline.json"
    assert baseline.exists()
    gated = _run_recipe_line(gate, {}, secrets, environment, wheel, repository)
    assert gated.returncode == 0, gated.stdout[-3000:] + gated.stderr[-3000:]
    for name in RECIPES:
        recipe = _recipe(name)
        assert any("conformance-baseline.json" in line for line, _ in recipe.commands), name
        checkout = tmp_path / name.replace(" ", "-")
        checkout.mkdir()
        shutil.copy(baseline, checkout / baseline.name)  # kept in the repository, as the README says
        for line, declared in recipe.commands:
            completed = _run_recipe_line(line, declared, secrets, environment, wheel, checkout)
            assert completed.returncode == 0, f"{name}: {line}\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        assert "GATE PASSED" in completed.stdout, completed.stdout[-3000:]
        for path in recipe.published:
            assert (checkout / path).exists(), f"{name} publishes {path}, which the run did not write"
        assert (checkout / "reports" / "conformance.html").exists()
    left = requests.get(f"{orthanc_for_the_tool.rest_url}/instances", timeout=10).json()
    assert left == [], "the recipes' runs removed everything they stored"
