"""Throwaway servers the test suite starts and stops itself (PostgreSQL and free_port come from
bench/devservers.py, which the benchmarks use too)."""
from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.devservers import POSTGRES_USER, PostgresServer, free_port

__all__ = ["POSTGRES_USER", "FlakyServer", "IamTokenServer", "LiveServer", "MotoServer",
           "PostgresServer", "S3ErrorServer", "free_port"]


ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
# A request line of werkzeug's log: "GET /bucket/key?query HTTP/1.1" 206 -
REQUEST_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>[^ ?"]+)[^ "]* HTTP/[\d.]+" (?P<status>\d{3})')


class MotoServer:
    """moto's standalone S3 server in a subprocess, on 127.0.0.1 only: the suite's S3 peer.

    Tests reach it over HTTP through the production client code (ibm_boto3, HMAC keys, endpoint
    URL). moto accepts any key pair; these are placeholders, not secrets.
    """

    ACCESS_KEY_ID = "mbid-test-access-key"
    SECRET_ACCESS_KEY = "mbid-test-secret-key"

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="mbid-s3-"))
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60) -> MotoServer:
        """Start the server and wait until it answers; return self."""
        self._log = (self.base / "server.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        log_text = (self.base / "server.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"moto server did not start on port {self.port}:\n{log_text}")

    def log_size(self) -> int:
        """Where the server's request log ends now (see requests_since)."""
        self._log.flush()
        return (self.base / "server.log").stat().st_size

    def requests_since(self, offset: int) -> list[tuple[str, str, int]]:
        """(method, path without its query, status) of each request the server logged after
        `offset` (a log_size), in order."""
        text = (self.base / "server.log").read_bytes()[offset:].decode(errors="replace")
        text = ANSI_COLOUR.sub("", text)  # werkzeug colours its log lines by status
        return [(found["method"], found["path"], int(found["status"]))
                for found in REQUEST_LINE.finditer(text)]

    def credentials(self) -> dict:
        """COS_CREDENTIALS in the IBM COS HMAC shape, for this server."""
        return {"cos_hmac_keys": {"access_key_id": self.ACCESS_KEY_ID,
                                  "secret_access_key": self.SECRET_ACCESS_KEY}}

    def settings(self, bucket: str) -> dict:
        """The app settings that select this server's `bucket` as the `cos` storage."""
        return {"STORAGE_BACKEND": "cos", "BUCKET": bucket, "COS_CREDENTIALS": self.credentials(),
                "SERVICE_ENDPOINT": self.endpoint_url, "AUTH_ENDPOINT": ""}

    def stop(self) -> None:
        """Stop the server (killing it if it does not exit) and delete its files."""
        try:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            if self._log is not None:
                self._log.close()
            shutil.rmtree(self.base, ignore_errors=True)


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that answers with `reply` and keeps the test output quiet."""

    def reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class _StubServer:
    """An HTTP server on 127.0.0.1 serving in a background thread (also a context manager)."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self):
        """Serve in a background thread; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class IamTokenServer(_StubServer):
    """A stand-in for IBM Cloud IAM's token endpoint, for the IAM client path.

    It answers every POST with a bearer token, as IAM answers an API key, and records the form
    fields it received. moto does not check tokens, so IAM requests reach it as they would COS.
    """

    TOKEN = "mbid-test-iam-token"

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        server = self

        class Handler(_QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                server.requests.append(urllib.parse.parse_qs(body))
                self.reply(200, "application/json", json.dumps({
                    "access_token": server.TOKEN, "refresh_token": "refresh",
                    "token_type": "Bearer", "expires_in": 3600}).encode())

        super().__init__(Handler)
        self.url = f"{self.base_url}/identity/token"


class S3ErrorServer(_StubServer):
    """An S3 endpoint that answers every request with one error.

    For the paths that real storage takes when it fails: a refusal (403 AccessDenied) or an
    outage (503 SlowDown), with the XML error body S3 sends.
    """

    def __init__(self, status: int, code: str) -> None:
        body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                f"<Message>{code}</Message></Error>").encode()

        class Handler(_QuietHandler):
            def answer(self) -> None:
                self.reply(status, "application/xml", body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer  # noqa: N815

        super().__init__(Handler)
        self.endpoint_url = self.base_url


class FlakyServer(_StubServer):
    """An API that answers its first requests with a transient error, then with `body`.

    `failures` lists the statuses of the first answers (each with Retry-After: 0); `requests`
    records (method, path) of every request received, for tests of the client's retries.
    """

    def __init__(self, failures: list[int], body: dict) -> None:
        self.requests: list[tuple[str, str]] = []
        pending = list(failures)
        server = self

        class Handler(_QuietHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests.append((self.command, self.path))
                if pending:
                    status = pending.pop(0)
                    message = json.dumps({"status": status, "message": "busy"}).encode()
                    self.send_response(status)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(message)))
                    self.end_headers()
                    self.wfile.write(message)
                    return
                self.reply(200, "application/json", json.dumps(body).encode())

            do_GET = do_POST = do_DELETE = answer  # noqa: N815

        super().__init__(Handler)
        self.url = self.base_url


class LiveServer:
    """A Flask app served over real HTTP on 127.0.0.1 from a thread (werkzeug's server), for
    clients that must talk to a running server (the Python client, the browser)."""

    def __init__(self, app) -> None:
        from werkzeug.serving import make_server

        self.port = free_port()
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class RequestLog:
    """A WSGI middleware that records each request's path, Range header, status and the bytes
    of its body sent: the server's own log of what a client asked for and got."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.entries: list[dict] = []

    def __call__(self, environ, start_response):
        entry = {"path": environ.get("PATH_INFO"), "range": environ.get("HTTP_RANGE"),
                 "status": None, "sent": 0}
        self.entries.append(entry)

        def record_status(status, headers, *args):
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        for chunk in self.wsgi_app(environ, record_status):
            entry["sent"] += len(chunk)
            yield chunk
