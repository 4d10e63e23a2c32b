"""The worker kit: a processing module is a name, a version and `run`; the kit does the rest.

    class BrainMask(Module):
        name, version = "brain_mask", "1.0.0"

        def run(self, inputs, parameters):
            ...  # read inputs (local paths), write files into self.workdir
            return [Output(path, file_type="brain_mask", qc_value=0.31)]

    Worker(Client(url, token), BrainMask(), parameters={...}).run()

For each claim the kit downloads the images (GET /images/{id}/download: a converted DICOM
image's NIfTI, a series' files as a folder, each verified against the SHA-256 the route
gives), runs the module in a fresh folder while a thread renews the lease, uploads every
output through the API (PUT /claims/{id}/files/{name}: the worker needs an API key with the
worker and download scopes, never storage credentials), writes the provenance record (module,
container, user@host, start time, duration, inputs and outputs with SHA-256, parameters,
command) and completes the claim.
If the module raises, the claim is failed with the error, and the server retries it later.
"""
from __future__ import annotations

import getpass
import hashlib
import logging
import os
import posixpath
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mbid_client.client import Client
from mbid_client.download import Saved, download_row
from mbid_client.errors import ApiError, ChecksumMismatch

log = logging.getLogger(__name__)

# Environment variables a container image may set (e.g. from its labels) to name itself.
CONTAINER_ENVIRONMENT = {"image": "MBID_CONTAINER_IMAGE", "tag": "MBID_CONTAINER_TAG",
                         "digest": "MBID_CONTAINER_DIGEST", "url": "MBID_CONTAINER_URL",
                         "commit": "MBID_CONTAINER_COMMIT", "builder": "MBID_CONTAINER_BUILDER",
                         "timestamp": "MBID_CONTAINER_TIMESTAMP"}


@dataclass(frozen=True)
class Output:
    """A file a module produced: where it is, its kind (a file type) and a QC value.

    `image_id` says which input image it derives from; it is needed for subject claims only
    (an input's image id is the name of its folder: `inputs/<image id>/<file>`).
    """

    path: Path
    file_type: str
    qc_value: float | None = None
    image_id: int | None = None


class Module:
    """Base of a processing module: set `name` and `version`, write `run`."""

    name: str = ""
    version: str = ""
    #: The folder `run` writes its outputs into (a fresh one per claim, set by the kit).
    workdir: Path

    def run(self, inputs: list[Path], parameters: Mapping[str, Any]) -> list[Output]:
        """Process the claim's input files; return the outputs written into `self.workdir`."""
        raise NotImplementedError


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def container_labels(environ: Mapping[str, str] = os.environ) -> dict[str, str] | None:
    """The container the worker runs in, from its environment; None outside a container."""
    found = {field: environ[name] for field, name in CONTAINER_ENVIRONMENT.items()
             if environ.get(name)}
    return found or None


class _Heartbeat:
    """Renews a lease every third of its length in a thread, until stopped."""

    def __init__(self, api: Client, claim_id: int, token: str, lease_seconds: float) -> None:
        self.lost: ApiError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, args=(
            api, claim_id, token, lease_seconds))

    def _beat(self, api: Client, claim_id: int, token: str, lease_seconds: float) -> None:
        while not self._stop.wait(lease_seconds / 3):
            try:
                api.request("POST", f"/claims/{claim_id}/renew",
                            json={"lease_token": token, "lease_seconds": lease_seconds})
            except ApiError as exc:
                if exc.status == 409:
                    self.lost = exc
                    return
                log.warning("heartbeat of claim %s failed: %s", claim_id, exc)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._thread.join()


class Worker:
    """Claims images for a module's task and processes them until none is left.

    Parameters
    ----------
    api
        The client of the server (its key needs the worker and download scopes).
    module
        The processing module; its name is the task's name unless `task` is given.
    filters
        /images filters narrowing which images are claimed (e.g. {"type": "T1"}).
    per_subject
        Claim whole subjects: `run` gets every image of one subject at once, and each Output
        names the image it derives from.
    """

    def __init__(self, api: Client, module: Module, *, parameters: Mapping[str, Any] | None
                 = None, task: str | None = None, filters: Mapping[str, Any] | None = None,
                 lease_seconds: float = 60, batch: int = 1, per_subject: bool = False,
                 name: str | None = None) -> None:
        self.api = api
        self.module = module
        self.parameters = dict(parameters or {})
        self.task = task or module.name
        self.filters = dict(filters or {})
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.per_subject = per_subject
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"

    def claim(self) -> list[dict[str, Any]]:
        """Claim up to `batch` images; return the claims (empty when none is left)."""
        answer = self.api.request("POST", "/claims", params=self.filters, json={
            "task": self.task, "worker": self.name, "limit": self.batch,
            "lease_seconds": self.lease_seconds, "per_subject": self.per_subject})
        return answer.json()["items"]

    def run(self, max_claims: int | None = None) -> dict[str, int]:
        """Process claims until none is left (or `max_claims` were taken); return counts of
        completed, failed and lost claims."""
        counts = {"completed": 0, "failed": 0, "lost": 0}
        taken = 0
        while max_claims is None or taken < max_claims:
            claims = self.claim()
            if not claims:
                break
            for claim in claims:
                taken += 1
                counts[self.process(claim)] += 1
        return counts

    def process(self, claim: dict[str, Any]) -> str:
        """Download, run, upload, record and complete one claim; return what became of it."""
        claim_id, token = claim["claim_id"], claim["lease_token"]
        with tempfile.TemporaryDirectory(prefix=f"mbid-{self.task}-") as folder, _Heartbeat(
                self.api, claim_id, token, self.lease_seconds) as heartbeat:
            try:
                body = self._run(claim, Path(folder))
            except ApiError as exc:
                if exc.status == 409:
                    return "lost"
                return self._fail(claim_id, token, exc)
            except Exception as exc:  # the module's failure is reported, not fatal
                return self._fail(claim_id, token, exc)
            if heartbeat.lost is not None:
                return "lost"
        try:
            self.api.request("POST", f"/claims/{claim_id}/complete", json=body)
        except ApiError as exc:
            if exc.status == 409:
                return "lost"
            return self._fail(claim_id, token, exc)
        return "completed"

    def _fail(self, claim_id: int, token: str, exc: Exception) -> str:
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        log.warning("claim %s failed: %s", claim_id, error)
        try:
            self.api.request("POST", f"/claims/{claim_id}/fail",
                             json={"lease_token": token, "error": error[:10_000]})
        except ApiError as report_error:
            log.warning("could not report the failure of claim %s: %s", claim_id,
                        report_error)
        return "failed"

    def _download(self, image: Mapping[str, Any], folder: Path) -> Saved:
        """Fetch a claimed image into `folder`, verified: its file (a converted DICOM image's
        NIfTI), or the folder of a DICOM series' files (streamed by the API, or from storage
        by presigned URLs, to which the client sends no token)."""
        row = {"path": image["path"], "checksum": image.get("checksum"),
               "url": f"/images/{int(image['id'])}/download"}
        saved = download_row(self.api, row, lambda key: folder / posixpath.basename(key),
                             unpack=True)
        if saved.outcome == "mismatched":
            raise ChecksumMismatch([image["path"]])
        return saved

    def _run(self, claim: dict[str, Any], folder: Path) -> dict[str, Any]:
        claim_id, token = claim["claim_id"], claim["lease_token"]
        inputs_dir, outputs_dir = folder / "inputs", folder / "outputs"
        inputs_dir.mkdir()
        outputs_dir.mkdir()
        inputs, input_records = [], []
        for image in claim["images"]:
            folder = inputs_dir / str(image["id"])
            folder.mkdir()
            saved = self._download(image, folder)
            inputs.append(saved.path)
            # The object read: a converted image's NIfTI, whose key and SHA-256 the route
            # gives (a series is recorded by its path and file-set checksum).
            input_records.append({"key": saved.key,
                                  "sha256": saved.checksum or sha256_file(saved.path)})
        self.module.workdir = outputs_dir
        started = datetime.now(UTC)
        clock = time.monotonic()
        outputs = self.module.run(inputs, self.parameters)
        duration = round(time.monotonic() - clock, 6)
        uploaded, output_records = [], []
        for output in outputs:
            answer = self.api.request(
                "PUT", f"/claims/{claim_id}/files/{Path(output.path).name}",
                data=Path(output.path).read_bytes(),
                headers={"X-Lease-Token": token,
                         "Content-Type": "application/octet-stream"}).json()
            uploaded.append({"key": answer["key"], "file_type": output.file_type,
                             "qc_value": output.qc_value, "image_id": output.image_id})
            output_records.append({"key": answer["key"], "sha256": answer["sha256"]})
        record = {
            "module": {"name": self.module.name, "version": self.module.version},
            "container": container_labels(),
            "user": f"{getpass.getuser()}@{socket.gethostname()}",
            "start_time": started.isoformat(),
            "duration": duration,
            "inputs": input_records,
            "outputs": output_records,
            "parameters": self.parameters,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
        }
        return {"lease_token": token, "outputs": uploaded, "provenance": record}
