"""The requirement catalogue is well formed, and every conformance check names a requirement in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dicomweb_conformance.config.catalog import CatalogError, load_catalog
from dicomweb_conformance.config.target import resolve_target

SUITES = Path(__file__).resolve().parents[2] / "suites"
# PS3.18 and Azure requirements are numbered; a client's (issue 12) is named for the client and what it does.
ID_PATTERN = re.compile(r"^((DW|AZ)-[A-Z]+-\d{3}|CL-(DWC|OHIF|CS3D|SLICER)(-[A-Z0-9]+)+)$")


def test_ids_follow_the_naming_scheme() -> None:
    assert all(ID_PATTERN.match(requirement_id) for requirement_id in load_catalog())


def test_every_requirement_referenced_by_the_suites_exists() -> None:
    catalog = load_catalog()
    referenced = set()
    for module in SUITES.rglob("test_*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "req":
                referenced |= {arg.value for arg in node.args if isinstance(arg, ast.Constant)}
    assert referenced, "no @pytest.mark.req found"
    assert referenced - set(catalog) == set()


def test_a_version_bound_requirement_is_not_applicable_under_another_version() -> None:
    requirement = next(r for r in load_catalog().values() if r.api_versions == ("v1",))
    v1 = resolve_target({"url": "http://127.0.0.1:1/v1", "profile": "azure"}, {})
    v2 = resolve_target({"url": "http://127.0.0.1:1/v2", "profile": "azure"}, {})
    assert requirement.not_applicable_because(v1) is None
    assert "applies to API version(s) v1" in str(requirement.not_applicable_because(v2))


def test_capability_names_are_spelled_alike_in_catalogue_targets_and_checks() -> None:
    """The vocabulary (config/capabilities.py) is exactly what the catalogue requires: no name nothing reads; and
    every target file claims only names of it (a misspelt claim would silently make its checks NOT-APPLICABLE)."""
    import tomllib

    from dicomweb_conformance.config.capabilities import CAPABILITIES, PROFILE_CAPABILITIES
    from dicomweb_conformance.fixtures.qido_fixtures import PN_WILDCARDS

    required = {r.capability for r in load_catalog().values() if r.capability}
    assert set(CAPABILITIES) == required
    assert all(set(defaults) <= set(CAPABILITIES) for defaults in PROFILE_CAPABILITIES.values())
    claimed: dict[str, set[str]] = {}
    for path in (SUITES.parent / "targets").glob("*.toml"):
        with path.open("rb") as handle:
            claimed[path.name] = set(tomllib.load(handle).get("capabilities", {}))
    assert {name: names - set(CAPABILITIES) for name, names in claimed.items() if names - set(CAPABILITIES)} == {}
    assert PN_WILDCARDS in required
    assert all(PN_WILDCARDS in names for name, names in claimed.items() if name == "orthanc.toml")


def test_a_catalogue_capability_outside_the_vocabulary_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.toml").write_text(
        '[DW-X-001]\nsource = "PS3.18"\nlevel = "SHALL"\nfeature = "x"\ntext = "x"\ncapability = "wado.frame"\n'
    )
    with pytest.raises(CatalogError, match=r"capability 'wado.frame' is not in the vocabulary; the known ones: .*wado"):
        load_catalog(tmp_path)


CLIENT_ENTRY = '[CL-DWC-X]\nsource = "c 1.0 f.py g (1)"\nlevel = "SHALL"\nfeature = "clients.{client}"\ntext = "x"\n'


def test_every_client_requirement_names_a_known_user_action_and_no_other_does() -> None:
    from dicomweb_conformance.config.clients import ACTIONS

    catalog = load_catalog()
    clients = [r for r in catalog.values() if r.feature.startswith("clients.")]
    assert clients, "the dicomweb-client profile is in the catalogue"
    assert all(r.action in ACTIONS for r in clients)
    assert all(r.action is None for r in catalog.values() if not r.feature.startswith("clients."))
    assert {r.client for r in clients} >= {"dicomweb-client"}


@pytest.mark.parametrize(
    ("extra", "client", "error"),
    [
        ("", "dicomweb-client", r"\[CL-DWC-X\] lacks an action; the known ones: study-list, page-list, open-study"),
        ('action = "scroll"\n', "dicomweb-client", r"action 'scroll' is not one of the user actions"),
        ('action = "save"\n', "horos", r"names unknown client 'horos'; the known ones: dicomweb-client, ohif"),
    ],
    ids=["missing", "unknown-action", "unknown-client"],
)
def test_a_client_requirement_needs_a_known_client_and_action(
    tmp_path: Path, extra: str, client: str, error: str
) -> None:
    (tmp_path / "clients_x.toml").write_text(CLIENT_ENTRY.format(client=client) + extra)
    with pytest.raises(CatalogError, match=error):
        load_catalog(tmp_path)


def test_a_conformance_requirement_with_an_action_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.toml").write_text(
        '[DW-X-001]\nsource = "PS3.18"\nlevel = "SHALL"\nfeature = "qido"\ntext = "x"\naction = "study-list"\n'
    )
    with pytest.raises(CatalogError, match=r"\[DW-X-001\] has an action but is no client requirement"):
        load_catalog(tmp_path)


def test_a_client_requirement_loads_with_its_action_and_client(tmp_path: Path) -> None:
    (tmp_path / "clients_x.toml").write_text(CLIENT_ENTRY.format(client="ohif") + 'action = "browser-access"\n')
    requirement = load_catalog(tmp_path)["CL-DWC-X"]
    assert (requirement.client, requirement.action) == ("ohif", "browser-access")
