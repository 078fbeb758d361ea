"""A TCP server on loopback that accepts connections and never answers: a hung DC.

with hung_server() as port: ...  # ldaps://127.0.0.1:{port} takes the connection, says nothing
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def hung_server() -> Iterator[int]:
    """The port of a listener that accepts every connection and keeps it silent."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            held.append(conn)  # kept open, never read from or written to

    thread = threading.Thread(target=accept, name="hung-dc", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
        listener.close()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
