"""A process that has imported what every xdist worker imports, and forks a ready one for each worker xdist starts.

Run as a script (`python worker_zygote.py FD`, FD a listening unix socket) by plugin/forked_workers.py, never
imported: nothing of dicomweb_conformance is imported here, so pytest still rewrites the suite's asserts in every
worker.
xdist starts each worker as `worker_zygote_client.py SOCKET -u -c CODE`; the client hands this process its
stdin, stdout and stderr, its command line, directory and environment, and gets back the exit status of the child
forked to run CODE as `python -u -c CODE` would. A fresh interpreter spends about a second importing pytest,
numpy, pydicom, requests and hypothesis before it collects; a forked child starts with them.

Standard library only, and no threads: a fork copies only the thread that calls it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.metadata
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import traceback
import types

# What a worker of the suite imports anyway, heaviest first. A module missing here is simply not preloaded.
PRELOAD = (
    "numpy",
    "pydicom",
    "pydicom.pixels",
    "pydicom.pixels.decoders.base",
    "pydicom.pixels.encoders.base",
    "hypothesis",
    "hypothesis.strategies",
    "requests",
    "urllib3",
    "requests_toolbelt",
    "jinja2",
    "pygments",
    "execnet",
    "pytest",
    "_pytest.python",
    "_pytest.fixtures",
    "_pytest.junitxml",
    "pytest_html.plugin",
    "pytest_metadata.plugin",
    "xdist.plugin",
)
# pytest rewrites the asserts of every module of a distribution that declares a pytest plugin, and warns about
# one it finds already imported, unless its docstring says PYTEST_DONT_REWRITE (pytest's documented opt-out).
# Such modules are third-party (hypothesis, pytest_html, xdist): their asserts were never the suite's verdicts.
DONT_REWRITE = "PYTEST_DONT_REWRITE"

STATUS = struct.Struct("!i")
HEADER_LENGTH = struct.Struct("!I")


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # a module that cannot load here loads (or fails) in the worker, as without us
            continue
    for name in _plugin_distribution_modules():
        module = sys.modules.get(name)
        if module is not None:
            module.__doc__ = f"{module.__doc__ or ''}\n\n{DONT_REWRITE}"


def _plugin_distribution_modules() -> set[str]:
    """The top-level names pytest marks for assert rewriting (_pytest/config's _mark_plugins_for_rewrite)."""
    names = set()
    for distribution in importlib.metadata.distributions():
        if any(entry.group == "pytest11" for entry in distribution.entry_points):
            for file in distribution.files or ():
                top = str(file).split("/")[0]
                names.add(top.removesuffix(".py"))
    return names


def serve(listener: socket.socket) -> None:
    """Fork a child per client until stdin (a pipe from the pytest controller) closes."""
    wakeup_read, wakeup_write = socket.socketpair()
    wakeup_write.setblocking(False)
    signal.set_wakeup_fd(wakeup_write.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the workers themselves; the controller stops us
    clients: dict[int, socket.socket] = {}
    while True:
        readable, _, _ = select.select([listener, wakeup_read, sys.stdin, *clients.values()], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 512):
            return
        if wakeup_read in readable:
            wakeup_read.recv(512)
        _report_ended(clients)
        for pid, client in list(clients.items()):
            if client in readable and _gone(client):
                _kill(pid)  # the client is gone (killed by execnet): so goes its worker
        if listener in readable:
            connection, _ = listener.accept()
            child = _fork_child(connection, (listener, wakeup_read, wakeup_write, *clients.values()))
            if child is not None:
                clients[child] = connection


def _report_ended(clients: dict[int, socket.socket]) -> None:
    while clients:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        client = clients.pop(pid, None)
        if client is not None:
            with contextlib.suppress(OSError):
                client.sendall(STATUS.pack(os.waitstatus_to_exitcode(status)))
            client.close()


def _gone(client: socket.socket) -> bool:
    try:
        return not client.recv(1)
    except OSError:
        return True


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _fork_child(connection: socket.socket, inherited: tuple[socket.socket, ...]) -> int | None:
    try:
        message, fds, _, _ = socket.recv_fds(connection, HEADER_LENGTH.size, 3)
        (length,) = HEADER_LENGTH.unpack(message)
        header = json.loads(_receive(connection, length))
    except (OSError, ValueError, struct.error):
        connection.close()
        return None
    if len(fds) != 3:
        connection.close()
        return None
    pid = os.fork()
    if pid == 0:
        for sock in (*inherited, connection):
            sock.close()
        os._exit(_run_child(fds, header))
    for fd in fds:
        os.close(fd)
    with contextlib.suppress(OSError):  # a client already gone: the next select sees it and kills the child
        connection.sendall(STATUS.pack(pid))
    return pid


def _receive(connection: socket.socket, length: int) -> bytes:
    data = b""
    while len(data) < length:
        chunk = connection.recv(length - len(data))
        if not chunk:
            raise ValueError("client closed before its header ended")
        data += chunk
    return data


def _run_child(fds: list[int], header: dict[str, object]) -> int:
    """Become `python -u -c CODE` with the client's stdio, directory and environment; the exit code."""
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(str(header["cwd"]))
    environment = header["env"]
    assert isinstance(environment, dict)
    os.environ.clear()
    os.environ.update({str(key): str(value) for key, value in environment.items()})
    # execnet's command line: interpreter flags, then -c CODE, then the script's own arguments.
    argv = [str(arg) for arg in header["argv"]] if isinstance(header["argv"], list) else []
    dash_c = argv.index("-c") if "-c" in argv else len(argv)
    flags, code, arguments = argv[:dash_c], "".join(argv[dash_c + 1 : dash_c + 2]), argv[dash_c + 2 :]
    sys.dont_write_bytecode = "-B" in flags
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True, errors="backslashreplace")
    sys.argv = ["-c", *arguments]
    sys.path.insert(0, "")  # what `python -c` puts first
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    status = 0
    try:
        exec(compile(code, "<string>", "exec"), main.__dict__)  # xdist's own bootstrap line
    except SystemExit as stop:
        status = _exit_status(stop.code)
    except BaseException:  # as the interpreter does: print it, exit 1
        traceback.print_exc()
        status = 1
    # The end of an interpreter, not of the zygote whose frames this child inherited.
    threading._shutdown()  # type: ignore[attr-defined]  # joins non-daemon threads, as at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return status


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def main() -> None:
    del sys.path[0]  # this file's folder: its modules must not shadow anyone's
    listener = socket.socket(fileno=int(sys.argv[1]))  # bound and listening: clients wait while we import
    preload()
    serve(listener)


if __name__ == "__main__":
    main()
