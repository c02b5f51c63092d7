"""A verdict's report text: the failure as the check rendered it, its causes, and the suite's frames it passed."""

from __future__ import annotations

import json

import pytest

from dicomweb_conformance.checks.common import ConformanceFailure, json_body
from dicomweb_conformance.plugin.failure_text import failure_text


class _NotJson:
    status_code = 200
    text = "not json"
    content = b"not json"

    def json(self) -> object:
        return json.loads(self.text)


def test_the_text_is_the_rendered_failure_its_cause_and_the_suite_frames() -> None:
    with pytest.raises(ConformanceFailure) as raised:
        json_body(_NotJson(), "the search answer")  # type: ignore[arg-type]
    text = failure_text(raised.value)
    assert text.startswith(str(raised.value))
    assert "raised from" not in text  # json_body raises `from None`: the message already says why
    frames = text.split("raised at (innermost last):\n")[1].splitlines()
    assert frames
    assert all(line.startswith("  dicomweb_conformance/checks/common.py:") for line in frames), frames
    assert "in json_body: " in frames[-1]
    assert "tests/unit" not in text  # only the suite's own frames: the caller here is not a check


def test_each_cause_is_one_line() -> None:
    try:
        try:
            int("x1")
        except ValueError as error:
            raise ConformanceFailure("a count", expected="a number", actual="x1") from error
    except ConformanceFailure as failure:
        text = failure_text(failure)
    assert text.splitlines()[3] == "raised from ValueError: invalid literal for int() with base 10: 'x1'"
    assert "raised at" not in text  # no frame of the suite's own files
