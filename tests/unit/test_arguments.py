from __future__ import annotations

from dicomweb_conformance.plugin.arguments import joined_values, spaced_values

VALUE_OPTIONS = {"--dicomweb-reports", "--dicomweb-url", "--dicomweb-target"}


def takes_value(option: str) -> bool:
    return option in VALUE_OPTIONS


def test_a_value_written_after_its_option_is_found_and_joined() -> None:
    args = ["-q", "--dicomweb-reports", "/tmp/out", "-n", "2", "--dicomweb-url", "http://h/dicom-web"]
    assert spaced_values(args, takes_value) == [
        (1, "--dicomweb-reports", "/tmp/out"),
        (5, "--dicomweb-url", "http://h/dicom-web"),
    ]
    assert joined_values(args, takes_value) == [
        "-q", "--dicomweb-reports=/tmp/out", "-n", "2", "--dicomweb-url=http://h/dicom-web",
    ]  # fmt: skip


def test_flags_joined_values_and_other_plugins_options_are_left_alone() -> None:
    args = ["--dicomweb-strict", "suites/qido", "--dicomweb-target=t.toml", "--html", "r.html", "suites"]
    assert spaced_values(args, takes_value) == []
    assert joined_values(args, takes_value) == args


def test_an_option_that_ends_the_command_line_has_no_value_to_join() -> None:
    assert joined_values(["suites", "--dicomweb-reports"], takes_value) == ["suites", "--dicomweb-reports"]
