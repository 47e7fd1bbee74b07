"""Serve the review app with waitress (a production WSGI server) in a background thread.

`wildwatch review` uses it in the foreground; tests and the screenshot script
use the same class, so what they drive is what analysts run.
"""
from __future__ import annotations

import threading
import time

from waitress import wasyncore
from waitress.server import create_server

#: How long the serving loop waits in select() before it checks whether it should stop.
_POLL_SECONDS = 0.2


class ReviewServer:
    """Context manager: serves `app` on host:port (0 = a free port) until the block ends."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
        self._server = create_server(app, host=host, port=port, threads=threads, ident="wildwatch-review",
                                     clear_untrusted_proxy_headers=True)
        self.host = host
        self.port = self._server.effective_port
        self._stopping = threading.Event()
        # Held while the loop closes its sockets and while __exit__ wakes it: once the trigger's descriptor is
        # closed it must not be written to (EBADF, or worse, a file that has reused the number since).
        self._closing = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="review-server", daemon=True)

    def _serve(self) -> None:
        """waitress's loop, one poll at a time, until asked to stop; then the sockets are closed here, in the
        thread that selects on them (closing them from another thread broke its select with EBADF)."""
        server = self._server
        try:
            while not self._stopping.is_set() and server._map:
                server.asyncore.loop(timeout=_POLL_SECONDS, map=server._map,
                                     use_poll=server.adj.asyncore_use_poll, count=1)
        finally:
            with self._closing:
                server.task_dispatcher.shutdown()
                wasyncore.close_all(server._map)
                self._closed = True

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> "ReviewServer":
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C)."""
        try:
            while self._thread.is_alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass

    def __exit__(self, *_exc) -> None:
        self._stopping.set()
        with self._closing:
            if not self._closed:  # the loop may have seen the flag at its own poll and closed everything already
                self._server.pull_trigger()  # wakes the loop's select at once
        self._thread.join(timeout=5)
