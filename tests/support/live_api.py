"""The API served over HTTP on 127.0.0.1 by werkzeug in a thread, for probes from outside."""
from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import make_server


class LiveApi:
    """Serve `app` on a free port of 127.0.0.1 until `stop` (threaded: one request may wait on
    the database while another is answered)."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.token: str | None = None  # an API key, set by whoever made one

    def start(self) -> LiveApi:
        """Start answering requests; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and wait for the serving thread to end."""
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
