"""`--dicomweb-reports DIR` written with a space, and the rootdir pytest chose before it knew that option.

pytest decides its rootdir and ini file in a first pass over the command line, before any plugin has added its
options. There `--dicomweb-reports /tmp/out` reads as an unknown flag and a test path, and an existing /tmp/out
becomes the rootdir: no pyproject.toml, so no `testpaths` and no `norecursedirs`, and the whole current directory
is collected (in a clone: the project's own tests too). An xdist worker parses the controller's command line
again, after the controller has created the reports folder, so there the folder always exists.

The controller (or a serial run) refuses a rootdir that a value decided, and hands its workers the command line
with every value joined to its option (`--dicomweb-reports=/tmp/out`), which no first pass can misread.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from dicomweb_conformance.plugin.options import is_worker

OPTION_PREFIX = "--dicomweb-"


def spaced_values(args: Sequence[str], takes_value: Callable[[str], bool]) -> list[tuple[int, str, str]]:
    """(index, option, value) of each `--dicomweb-x VALUE` written as two arguments."""
    found = []
    index = 0
    while index < len(args) - 1:
        option = args[index]
        if option.startswith(OPTION_PREFIX) and "=" not in option and takes_value(option):
            found.append((index, option, args[index + 1]))
            index += 2
        else:
            index += 1
    return found


def joined_values(args: Sequence[str], takes_value: Callable[[str], bool]) -> list[str]:
    """The same command line with each such value joined to its option: `--dicomweb-x=VALUE`."""
    joined = list(args)
    for index, option, value in reversed(spaced_values(args, takes_value)):
        joined[index : index + 2] = [f"{option}={value}"]
    return joined


def _takes_value(config: pytest.Config) -> Callable[[str], bool]:
    # A value option given on the command line holds a string; a flag holds a bool.
    return lambda option: isinstance(getattr(config.option, option[2:].replace("-", "_"), None), str)


def _rootdir_from_positional_args(config: pytest.Config) -> Path | None:
    """The rootdir pytest's first pass would have chosen from the real test paths alone; None if this pytest's
    internal determine_setup cannot be called as pytest 8 and 9 define it."""
    try:
        from _pytest.config.findpaths import determine_setup
    except ImportError:
        return None
    given = config.args_source == pytest.Config.ArgsSource.ARGS
    known = {
        "inifile": config.option.inifilename,
        "override_ini": config.option.override_ini,
        "args": [str(arg) for arg in config.args] if given else [],
        "rootdir_cmd_arg": config.option.rootdir or None,
        "invocation_dir": config.invocation_params.dir,
    }
    accepted = inspect.signature(determine_setup).parameters
    try:
        return Path(determine_setup(**{name: value for name, value in known.items() if name in accepted})[0])
    except TypeError:
        return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if is_worker(config):
        return
    args = [str(arg) for arg in config.invocation_params.args]
    takes_value = _takes_value(config)
    spaced = spaced_values(args, takes_value)
    if not spaced:
        return
    misread = [(option, value) for _, option, value in spaced if (config.invocation_params.dir / value).exists()]
    if misread:
        expected = _rootdir_from_positional_args(config)
        if expected is not None and expected != config.rootpath:
            option, value = misread[0]
            raise pytest.UsageError(
                f"pytest chose its rootdir ({config.rootpath}) before the suite's options existed, taking "
                f"{value!r}, the value of {option}, for a test path; from the test paths alone it is {expected}. "
                f"Write {option}={value} (with '='), or give --rootdir."
            )
    config.invocation_params = replace(config.invocation_params, args=tuple(joined_values(args, takes_value)))
