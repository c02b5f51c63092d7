"""The hypothesis profiles of the property checks and the choice of one (CLI > environment > default)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import settings

from dicomweb_conformance.config.settings import Setting

HYPOTHESIS_OPTION = "--dicomweb-hypothesis"
HYPOTHESIS_ENV = "DICOMWEB_HYPOTHESIS_PROFILE"
HYPOTHESIS_PROFILES = ("ci", "thorough")
DEFAULT_HYPOTHESIS_PROFILE = "ci"

# Every example talks to a live server: no deadline, one reported bug per check (a verdict is one exception),
# and the blob that reproduces the shrunk example. `ci` replays the same examples on every run.
settings.register_profile(
    "ci",
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,
)


class HypothesisProfileError(ValueError):
    pass


def chosen_hypothesis_profile(cli: str | None, environ: Mapping[str, str]) -> Setting:
    """CLI > environment > default; an invalid value names where it came from."""
    if cli:
        setting = Setting(cli, HYPOTHESIS_OPTION)
    elif environ.get(HYPOTHESIS_ENV):
        setting = Setting(environ[HYPOTHESIS_ENV], HYPOTHESIS_ENV)
    else:
        setting = Setting(DEFAULT_HYPOTHESIS_PROFILE, "default")
    name = str(setting.value).strip().lower()
    if name not in HYPOTHESIS_PROFILES:
        raise HypothesisProfileError(
            f"invalid hypothesis profile {setting.value!r} (from {setting.source}): "
            f"expected one of {', '.join(HYPOTHESIS_PROFILES)}"
        )
    return Setting(name, setting.source)


PROFILE_SOURCE = pytest.StashKey[Setting]()
