"""A small HTTP helper over the standard library: JSON calls, uploads, downloads."""
from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


class ApiError(Exception):
    """The API answered with an error status; `status` and `body` (the JSON error) say why."""

    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.body = body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # handled by ApiClient.download, which drops the token on the way


class ApiClient:
    """Calls to one MBID-db server (`base_url` ends in /api/v1) with one API token."""

    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _url(self, path: str, params: dict[str, Any] | None = None) -> str:
        query = urllib.parse.urlencode(params or {}, doseq=True)
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def _open(self, method: str, url: str, data: bytes | None = None,
              headers: dict[str, str] | None = None):
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", **(headers or {})})
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (301, 302, 303, 307, 308):
                return exc
            raw = exc.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise ApiError(exc.code, body) from None

    def call(self, method: str, path: str, *, json_body: Any = None,
             params: dict[str, Any] | None = None, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:
        """Send a request; return the decoded JSON answer. Raises ApiError on 4xx/5xx."""
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers.setdefault("Content-Type", "application/octet-stream")
        with self._open(method, self._url(path, params), data, headers) as response:
            return json.loads(response.read() or b"null")

    def download(self, path: str, destination: Path) -> Path:
        """GET `path` into the file `destination`, following a redirect to presigned storage
        (without sending the API token there)."""
        response = self._open("GET", self._url(path))
        if response.status in (301, 302, 303, 307, 308):
            location = response.headers["Location"]
            response.close()
            response = urllib.request.urlopen(location, timeout=self.timeout)
        with response, open(destination, "wb") as out:
            shutil.copyfileobj(response, out)
        return destination
