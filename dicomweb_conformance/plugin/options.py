"""The plugin's options, markers and warning filters, and whether a run is a conformance run at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dicomweb_conformance.config.clients import (
    ALL_CLIENTS,
    CLIENTS,
    NO_CLIENTS,
    ClientSelection,
    client_of,
    select_clients,
)
from dicomweb_conformance.config.settings import ConfigError
from dicomweb_conformance.paths import SUITES_DIR

CLIENT_SELECTION = pytest.StashKey[ClientSelection]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dicomweb", "DICOMweb conformance")
    group.addoption("--dicomweb-url", help="DICOMweb root URL, with its version segment if any [env DICOMWEB_URL]")
    group.addoption("--dicomweb-target", help="TOML target file (targets/*.toml) [env DICOMWEB_TARGET]")
    group.addoption("--dicomweb-profile", help="standard (PS3.18) or azure [env DICOMWEB_PROFILE]")
    group.addoption("--dicomweb-auth", help="none, bearer, basic or azure [env DICOMWEB_AUTH]")
    group.addoption("--dicomweb-ca-bundle", help="CA bundle for TLS verification [env DICOMWEB_CA_BUNDLE]")
    group.addoption("--dicomweb-insecure", action="store_true", default=None, help="turn TLS verification OFF (warned)")
    group.addoption(
        "--dicomweb-sweep",
        action="store_true",
        help="remove what interrupted earlier runs left on the target, then stop",
    )
    group.addoption(
        "--dicomweb-samples",
        help="a folder of your own DICOM files: each one drives the per-file scenarios (default: the built-in "
        "corpus) [env DICOMWEB_SAMPLES, target file [samples] dir]",
    )
    group.addoption(
        "--dicomweb-keep-uids",
        action="store_true",
        help="store the tutorial's and the sample files' literal UIDs instead of fresh ones",
    )
    group.addoption(
        "--dicomweb-strict", action="store_true", help="a failed SHOULD fails the run (default: NON-STRICT, reported)"
    )
    group.addoption(
        "--dicomweb-strict-deviations",
        action="store_true",
        help="a declared deviation that now passes (FIXED) fails the run, so deviation lists stay exact",
    )
    group.addoption(
        "--dicomweb-clients",
        help=f"the client profiles to run besides the conformance checks, comma-separated: {','.join(CLIENTS)} "
        f"(default: all), or {NO_CLIENTS} [env DICOMWEB_CLIENTS]",
    )
    group.addoption(
        "--dicomweb-concurrency",
        help="independent searches a fixture sends at once (default 8, for a remote server; 1: one at a time) "
        "[env DICOMWEB_CONCURRENCY]",
    )
    group.addoption(
        "--dicomweb-ledger-dir", default=None, help="where ledgers of created data live (default .dicomweb-ledger)"
    )
    group.addoption(
        "--dicomweb-reports", default=None, help="where the reports are written (default reports/ under the rootdir)"
    )


def is_conformance_run(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == SUITES_DIR or SUITES_DIR in path.parents or path in SUITES_DIR.parents:
            return True
    return False


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


MARKERS = (
    "req(requirement_id): the catalogue requirement this check verifies (suites/catalog/*.toml)",
    "destructive: the check stores and deletes its own instances",
    "profile(name): the check applies only under this profile (standard or azure)",
    "large: a gigabyte round trip, run only when asked for (-m large)",
)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Before pytest_configure reaches the target: an unknown client profile is a usage error first."""
    if is_conformance_run(config):
        client_selection(config)


def client_selection(config: pytest.Config) -> ClientSelection:
    """The client profiles chosen (an xdist worker, which gets no pytest_cmdline_main, reads the same options)."""
    if CLIENT_SELECTION not in config.stash:
        try:
            config.stash[CLIENT_SELECTION] = select_clients(config.getoption("dicomweb_clients"), os.environ)
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
    return config.stash[CLIENT_SELECTION]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `large` checks move a gigabyte each: they run only when a -m expression names them. The checks of a
    client profile not chosen (--dicomweb-clients) do not run."""
    selection = client_selection(config) if is_conformance_run(config) else ALL_CLIENTS
    large_left_out = "large" not in (config.option.markexpr or "")
    deselected = [
        item
        for item in items
        if not _chosen(item, selection) or (large_left_out and item.get_closest_marker("large") is not None)
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = set(deselected)
        items[:] = [item for item in items if item not in gone]


def _chosen(item: pytest.Item, selection: ClientSelection) -> bool:
    """The feature comes from the requirement plugin.outcomes' tryfirst hook tied to the check, before this one."""
    client = client_of(str(dict(item.user_properties).get("feature", "")))
    return client is None or selection.runs(client)


WARNING_FILTERS = (
    "error::pytest.PytestUnknownMarkWarning",
    # pydicom 3.0 measures a read text value in bytes, PS3.5 Table 6.2-1 in characters: a 16-character SH in
    # ISO_IR 192 with one accented letter is 17 bytes and valid; the warning is noise, never a verdict.
    "ignore:The value length \\(\\d+\\) exceeds the maximum length of \\d+ allowed for VR:UserWarning",
)
