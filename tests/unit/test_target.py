"""Target resolution: CLI > environment > target file > defaults, and errors that name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomweb_conformance.config.capabilities import UnknownCapability
from dicomweb_conformance.config.catalog import load_catalog
from dicomweb_conformance.config.deviations import (
    Deviation,
    FailureSignature,
    check_requirements_known,
    unmatched_tests,
)
from dicomweb_conformance.config.settings import ConfigError
from dicomweb_conformance.config.target import (
    DEFAULT_LOCAL_TARGET,
    derive_rest_root,
    resolve_target,
    shipped_target_for,
)
from dicomweb_conformance.paths import SHIPPED_TARGETS


def write_target(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text)
    return path


FILE_WITH_URL = """
[target]
name = "file target"
base_url = "http://127.0.0.1:9/from-file"
profile = "azure"
"""


def test_cli_beats_environment_beats_file(tmp_path: Path) -> None:
    path = str(write_target(tmp_path, FILE_WITH_URL))
    environ = {"DICOMWEB_URL": "http://127.0.0.1:9/from-env", "DICOMWEB_PROFILE": "standard"}
    from_cli = resolve_target({"target": path, "url": "http://127.0.0.1:9/from-cli"}, environ)
    assert from_cli.base_url == "http://127.0.0.1:9/from-cli"
    assert from_cli.sources["base_url"] == "--dicomweb-url"
    from_env = resolve_target({"target": path}, environ)
    assert (from_env.base_url, from_env.profile) == ("http://127.0.0.1:9/from-env", "standard")
    from_file = resolve_target({"target": path}, {})
    assert (from_file.base_url, from_file.profile) == ("http://127.0.0.1:9/from-file", "azure")
    assert "target.toml [target] base_url" in from_file.sources["base_url"]


def test_no_url_and_no_file_means_the_local_orthanc() -> None:
    target = resolve_target({}, {})
    assert target.target_file == DEFAULT_LOCAL_TARGET
    assert target.launch == "orthanc"


def test_a_url_without_a_file_launches_nothing() -> None:
    target = resolve_target({"url": "https://example.invalid/v2"}, {})
    assert target.launch is None
    assert target.api_version == "v2"
    assert target.profile == "standard"


@pytest.mark.parametrize(
    ("cli", "environ", "fragment"),
    [
        ({"url": "http://x/", "profile": "fhir"}, {}, "invalid profile 'fhir' (from --dicomweb-profile)"),
        ({"url": "http://x/"}, {"DICOMWEB_AUTH": "kerberos"}, "invalid auth method 'kerberos' (from DICOMWEB_AUTH)"),
        ({"url": "ftp://x/"}, {}, "invalid DICOMweb URL 'ftp://x/' (from --dicomweb-url)"),
        ({"url": "http://x/", "auth": "bearer"}, {}, "needs a token in DICOMWEB_TOKEN"),
        ({"target": "/nonexistent/t.toml"}, {}, "(from --dicomweb-target) does not exist"),
    ],
)
def test_invalid_values_name_their_source(cli: dict[str, str], environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        resolve_target(cli, environ)
    assert fragment in str(error.value)


def test_secrets_come_only_from_the_environment(tmp_path: Path) -> None:
    inline = write_target(tmp_path, FILE_WITH_URL + '[auth]\nmethod = "bearer"\ntoken = "abc123"\n')
    with pytest.raises(ConfigError, match="secrets never live in target files"):
        resolve_target({"target": str(inline)}, {})
    referenced = write_target(tmp_path, FILE_WITH_URL + '[auth]\nmethod = "bearer"\ntoken = "${MY_TOKEN}"\n')
    assert resolve_target({"target": str(referenced)}, {"MY_TOKEN": "t0ken"}).auth.token == "t0ken"
    with pytest.raises(ConfigError, match=r"\$\{MY_TOKEN\}.*not set"):
        resolve_target({"target": str(referenced)}, {})


def test_deviation_entries_are_validated(tmp_path: Path) -> None:
    no_reason = write_target(tmp_path, FILE_WITH_URL + '[[deviation]]\nrequirement = "DW-STOW-001"\n')
    with pytest.raises(ConfigError, match="has no reason"):
        resolve_target({"target": str(no_reason)}, {})
    both = write_target(tmp_path, FILE_WITH_URL + '[[deviation]]\nrequirement = "A"\ntest = "t"\nreason = "r"\n')
    with pytest.raises(ConfigError, match="exactly one"):
        resolve_target({"target": str(both)}, {})
    no_status = write_target(tmp_path, FILE_WITH_URL + '[[deviation]]\nrequirement = "A"\nreason = "r"\n')
    with pytest.raises(ConfigError, match="declares no status"):
        resolve_target({"target": str(no_status)}, {})
    for bad in ('"400"', "42", "[]", "true"):
        wrong = write_target(
            tmp_path, FILE_WITH_URL + f'[[deviation]]\nrequirement = "A"\nreason = "r"\nstatus = {bad}\n'
        )
        with pytest.raises(ConfigError, match="status"):
            resolve_target({"target": str(wrong)}, {})
    typo = write_target(
        tmp_path, FILE_WITH_URL + '[[deviation]]\nrequirement = "A"\nreason = "r"\nstatus = 400\nversion = ["1"]\n'
    )
    with pytest.raises(ConfigError, match="unknown key"):
        resolve_target({"target": str(typo)}, {})


def test_a_deviation_covers_only_the_failure_it_declares(tmp_path: Path) -> None:
    entry = '[[deviation]]\nrequirement = "A"\nreason = "r"\nstatus = [400, "none"]\n'
    (deviation,) = resolve_target({"target": str(write_target(tmp_path, FILE_WITH_URL + entry))}, {}).deviations
    assert deviation.covers(FailureSignature(400))
    assert deviation.covers(FailureSignature(None))
    assert not deviation.covers(FailureSignature(500))
    assert not deviation.covers(FailureSignature(400, data_loss=True)), "data loss is covered only when declared"
    lossy = Deviation(reason="r", statuses=(200,), requirement="A", data_loss=True)
    assert lossy.covers(FailureSignature(200, data_loss=True))
    assert not lossy.covers(FailureSignature(200))


def test_a_deviation_applies_to_the_versions_it_names() -> None:
    deviation = Deviation(reason="r", statuses=(400,), requirement="A", versions=("1.10", "1.12.7"))
    assert deviation.applies_to("1.10.1")
    assert deviation.applies_to("1.12.7")
    assert not deviation.applies_to("1.100.0")
    assert not deviation.applies_to("1.12.8")
    assert not deviation.applies_to(None), "a version list says nothing about an unknown server"
    assert Deviation(reason="r", statuses=(400,), requirement="A").applies_to(None)


def test_a_deviation_applies_to_the_api_versions_it_names() -> None:
    deviation = Deviation(reason="r", statuses=(200,), requirement="A", api_versions=("v1",))
    assert deviation.applies_to_api("v1")
    assert not deviation.applies_to_api("v2")
    assert not deviation.applies_to_api(None), "a target URL without a version segment is not a v1 one"
    assert Deviation(reason="r", statuses=(200,), requirement="A").applies_to_api(None)


def test_capabilities_default_from_profile_and_file_overrides(tmp_path: Path) -> None:
    path = write_target(tmp_path, FILE_WITH_URL + "[capabilities]\ndelete = false\n")
    target = resolve_target({"target": str(path)}, {})
    assert target.has("changefeed")
    assert not target.has("delete")
    assert not target.has("auth.required")


def test_tls_verification_is_on_unless_turned_off(tmp_path: Path) -> None:
    assert resolve_target({"url": "https://x/"}, {}).verify_tls is True
    assert resolve_target({"url": "https://x/", "insecure": True}, {}).verify_tls is False
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-")
    assert resolve_target({"url": "https://x/"}, {"DICOMWEB_CA_BUNDLE": str(bundle)}).verify_tls == str(bundle)


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://127.0.0.1:8042/dicom-web", "http://127.0.0.1:8042"),
        ("http://127.0.0.1:8042/dicom-web/", "http://127.0.0.1:8042"),
        ("https://pacs.example/orthanc/dicom-web", "https://pacs.example"),
    ],
)
def test_orthanc_rest_root_is_derived_from_the_dicomweb_url(url: str, root: str) -> None:
    assert derive_rest_root(url) == root


def test_secrets_never_appear_in_a_repr() -> None:
    target = resolve_target({"url": "http://x/", "auth": "bearer"}, {"DICOMWEB_TOKEN": "tok-s3cr3t-value"})
    assert "tok-s3cr3t-value" not in repr(target)
    basic = resolve_target(
        {"url": "http://x/", "auth": "basic"}, {"DICOMWEB_USERNAME": "u", "DICOMWEB_PASSWORD": "pw-s3cr3t"}
    )
    assert "pw-s3cr3t" not in repr(basic)


def test_only_the_chosen_methods_secrets_are_resolved(tmp_path: Path) -> None:
    path = write_target(tmp_path, FILE_WITH_URL + '[auth]\nmethod = "bearer"\ntoken = "${UNSET_TOKEN}"\n')
    assert resolve_target({"target": str(path), "auth": "none"}, {}).auth.token is None


def test_a_shipped_target_is_named_without_its_path() -> None:
    target = resolve_target({"target": "orthanc", "url": "http://127.0.0.1:1/dicom-web"}, environ={})
    assert target.target_file == SHIPPED_TARGETS / "orthanc.toml"


def test_a_name_that_is_not_shipped_stays_a_path() -> None:
    with pytest.raises(ConfigError, match="no-such-target"):
        resolve_target({"target": "no-such-target", "url": "http://127.0.0.1:1/dicom-web"}, environ={})


def test_the_detected_product_selects_the_shipped_target_that_declares_it() -> None:
    assert shipped_target_for("Orthanc") == SHIPPED_TARGETS / "orthanc.toml"
    assert shipped_target_for("SomeVendorPACS") is None
    assert shipped_target_for(None) is None


def test_a_capability_outside_the_vocabulary_names_the_file_and_the_known_names(tmp_path: Path) -> None:
    path = write_target(tmp_path, FILE_WITH_URL + '[capabilities]\n"wado.frame" = true\n')
    with pytest.raises(ConfigError, match=r"target.toml \[capabilities\] wado.frame .* known ones: .*wado.frames"):
        resolve_target({"target": str(path)}, {})


def test_the_suite_asks_only_for_capabilities_of_the_vocabulary(tmp_path: Path) -> None:
    target = resolve_target({"target": str(write_target(tmp_path, FILE_WITH_URL))}, {})
    with pytest.raises(UnknownCapability, match="'change-feed'"):
        target.has("change-feed")


def test_a_deviation_must_name_a_requirement_of_the_catalogue(tmp_path: Path) -> None:
    entry = '[[deviation]]\nrequirement = "DW-STOW-999"\nreason = "r"\nstatus = 400\n'
    target = resolve_target({"target": str(write_target(tmp_path, FILE_WITH_URL + entry))}, {})
    with pytest.raises(ConfigError, match=r"target.toml \[\[deviation\]\] #1: requirement 'DW-STOW-999'"):
        check_requirements_known(target.deviations, load_catalog())
    check_requirements_known((Deviation(reason="r", statuses=(400,), requirement="DW-STOW-001"),), load_catalog())


def test_a_deviation_must_name_a_collected_test() -> None:
    nodeids = ["suites/stow/test_a.py::test_one[x]", "suites/stow/test_a.py::test_two"]

    def test(name: str) -> Deviation:
        return Deviation(reason="r", statuses=(400,), test=name, where=f"t.toml {name}")

    found = test("test_one[x]")
    typo = test("test_one[y]")  # its function was collected: judged in any run
    elsewhere = test("test_three")  # not in this part of the suite: judged only when the whole suite is collected
    deviations = (found, typo, elsewhere, Deviation(reason="r", statuses=(400,), requirement="DW-STOW-001"))
    assert unmatched_tests(deviations, nodeids, whole_suite=False) == [typo]
    assert unmatched_tests(deviations, nodeids, whole_suite=True) == [typo, elsewhere]


def test_the_fuzzy_index_lags_like_any_search_unless_the_file_says_otherwise(tmp_path: Path) -> None:
    timing = "\n[timing]\nvisibility_timeout = 7\n"
    assert resolve_target({"target": str(write_target(tmp_path, FILE_WITH_URL + timing))}, {}).fuzzy_index_timeout == 7
    once = FILE_WITH_URL + timing + "fuzzy_index_timeout = 0\n"
    assert resolve_target({"target": str(write_target(tmp_path, once))}, {}).fuzzy_index_timeout == 0
    negative = FILE_WITH_URL + timing + "fuzzy_index_timeout = -1\n"
    with pytest.raises(ConfigError, match=r"fuzzy_index_timeout -1 .*must be zero or more"):
        resolve_target({"target": str(write_target(tmp_path, negative))}, {})
    with pytest.raises(ConfigError, match=r"visibility_timeout 0 .*must be positive"):
        resolve_target(
            {"target": str(write_target(tmp_path, FILE_WITH_URL + "\n[timing]\nvisibility_timeout = 0\n"))}, {}
        )
