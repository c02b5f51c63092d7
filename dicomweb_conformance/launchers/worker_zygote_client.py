"""What xdist starts instead of a Python interpreter: `python -S -I worker_zygote_client.py SOCKET -u -c CODE`.

It hands its stdin, stdout and stderr (xdist's pipes) to the zygote behind SOCKET (worker_zygote.py), which forks
a child that runs CODE with them, and exits as that child does. Where there is no zygote to reach, it becomes the
interpreter itself (exec), so a worker always starts. Standard library only: it starts in milliseconds (-S -I).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

STATUS = struct.Struct("!i")
HEADER_LENGTH = struct.Struct("!I")


def _read_status(connection: socket.socket) -> int | None:
    data = b""
    while len(data) < STATUS.size:
        chunk = connection.recv(STATUS.size - len(data))
        if not chunk:
            return None
        data += chunk
    return int(STATUS.unpack(data)[0])


def _become_python(argv: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, *argv])


def main() -> None:
    path, argv = sys.argv[1], sys.argv[2:]
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
        header = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(connection, [HEADER_LENGTH.pack(len(header))], [0, 1, 2])
        connection.sendall(header)
        pid = _read_status(connection)
    except OSError:
        pid = None
    if pid is None:  # no zygote (gone, or never there): nothing was started with our stdio
        connection.close()
        _become_python(argv)
    assert pid is not None
    # Ctrl-C reaches the worker itself (same process group); leaving now would have the zygote kill it mid-cleanup.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda received, _frame: os.kill(pid, received))
    status = _read_status(connection)
    if status is None:  # the zygote died: the worker lives on, bound to xdist by its pipes
        os._exit(1)
    if status < 0:  # killed by a signal: so are we, for whoever waits on us
        if -status != signal.SIGKILL:  # SIGKILL's handler cannot be set, nor needs to be
            signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


if __name__ == "__main__":
    main()
