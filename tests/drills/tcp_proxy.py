"""A loopback TCP proxy of the drills' own, which a drill can take down and bring back.

The drills put it between the liaison processes and the shared PostgreSQL server, so that
"the database is away" can be played without touching the server other test runs use:
`down()` cuts every open connection (both sides closed at once, as a server crash or a
network cut does) and stops listening, so that new connections are refused; `up()`
listens again on the same port. Threads and the standard library only; it listens on
127.0.0.1 and connects only to the target it is given, which is on loopback too.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from types import TracebackType

CHUNK = 65_536


class TcpProxy:
    """Forward 127.0.0.1:`port` to `target`, until `down()`; `up()` forwards again."""

    def __init__(self, target: tuple[str, int], *, port: int = 0) -> None:
        if target[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the drills' proxy only forwards to loopback")
        self.target = target
        self.port = port
        self.accepted = 0  #: connections forwarded so far
        self.cut = 0  #: connections cut by `down()`
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self) -> TcpProxy:
        self.up()
        return self

    def up(self) -> None:
        """Listen (again) on the proxy's port."""
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                # The port is ours; a socket just closed may hold it for a moment.
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.05)
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener,), name="drill-proxy-accept", daemon=True
        )
        self._acceptor.start()

    def down(self) -> int:
        """Stop listening and cut every open connection; how many were cut."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        if self._acceptor is not None:
            self._acceptor.join(5)
            self._acceptor = None
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for client, server in pairs:
            _close(client, reset=True)
            _close(server, reset=True)
        self.cut += len(pairs)
        return len(pairs)

    def stop(self) -> None:
        self.down()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: down()
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client, reset=True)
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, server)
            with self._lock:
                if self._listener is not listener:  # went down meanwhile
                    _close(client, reset=True)
                    _close(server, reset=True)
                    return
                self._pairs.add(pair)
                self.accepted += 1
            for source, sink in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink, pair), name="drill-proxy", daemon=True
                ).start()

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        pair: tuple[socket.socket, socket.socket],
    ) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            mine = pair in self._pairs
            self._pairs.discard(pair)
        if mine:  # a connection closed by one of its ends: close the other one too
            _close(pair[0])
            _close(pair[1])


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    try:
        if reset:
            # RST rather than FIN, as a crashed server's host answers: the peer learns at
            # once that the connection is gone. SHUT_RD wakes our own pump thread.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sock.close()
