"""The API benchmark's parts: gunicorn over a filled database, a timing client, a load generator.

`python -m bench.api load URL TOKEN SECONDS CONNECTIONS` is the load generator used when wrk is
not installed: it runs in its own process, as wrk would, and prints one JSON line.
"""
from __future__ import annotations

import http.client
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from globals import ROOT

log = logging.getLogger(__name__)

API = "/api/v1"
# The filtered page of issue 6: type + sex + age range + condition + dataset (about 3% of the
# synthetic images match: a quarter are T1, half the subjects female, ...).
PAGE_FILTERS = {"dataset": "UK Biobank", "condition": "Healthy Control", "type": "T1",
                "sex": "female", "age_min": "55", "age_max": "70"}
# Issue 23: the same page with a clinical measure filter: the MMSE (at the image's visit, or
# the latest within a year before the scan) below 24.
MEASURE_FILTER = "MMSE<24"
MEASURE_PAGE_FILTERS = {**PAGE_FILTERS, "measure": MEASURE_FILTER}
# The CSV export: an eighth of the images (125,000 rows of the full 1,000,000).
CSV_FILTERS = {"type": "T1", "sex": "female"}
WORKERS = 2
READ_CHUNK = 64 * 1024

# The same page and count as the API's, written by hand for psycopg (the in-run comparison).
RAW_FROM = """FROM image i JOIN subject s ON s.id = i.subject_id
JOIN dataset d ON d.id = i.dataset_id LEFT JOIN visit v ON v.id = i.visit_id"""
RAW_WHERE = """WHERE i.deleted_at IS NULL AND s.deleted_at IS NULL AND d.deleted_at IS NULL
AND i.dataset_id = ANY(%(datasets)s)
AND (v.condition_id = ANY(%(conditions)s)
     OR v.condition_id IS NULL AND s.condition_id = ANY(%(conditions)s))
AND i.type = ANY(%(types)s) AND s.sex = %(sex)s
AND s.age_at_baseline + coalesce(i.days_since_baseline, v.days_since_baseline)::float / 365.25
    BETWEEN %(age_min)s AND %(age_max)s"""
RAW_PAGE = f"""SELECT i.id, d.designation, i.subject_id, s.external_id, i.visit_id, i.type, i.path,
i.file_size, i.checksum, coalesce(i.days_since_baseline, v.days_since_baseline),
s.age_at_baseline + coalesce(i.days_since_baseline, v.days_since_baseline)::float / 365.25
  AS age_at_scan, s.sex,
c.designation, i.scanner_id, sc.manufacturer, sc.field_strength, i.preprocessed
{RAW_FROM}
LEFT JOIN scanner sc ON sc.id = i.scanner_id
LEFT JOIN condition c ON c.id = coalesce(v.condition_id, s.condition_id)
{RAW_WHERE}
ORDER BY i.id LIMIT %(limit)s"""
RAW_COUNT = f"SELECT count(*) {RAW_FROM} {RAW_WHERE}"
# The measure filter by hand: every synthetic visit has an MMSE on its own day, so an image's
# value is the one at its visit.
RAW_MEASURE_COUNT = f"""{RAW_COUNT} AND EXISTS (SELECT 1 FROM assessment a
WHERE a.visit_id = i.visit_id AND a.measure_id = %(mmse)s AND a.value_number < 24)"""
# /stats' largest grouping (dataset x type x condition) over the same images, by the join.
RAW_GROUPS = f"""SELECT i.dataset_id, i.type, coalesce(v.condition_id, s.condition_id),
count(DISTINCT i.subject_id), count(*) {RAW_FROM} {RAW_WHERE}
GROUP BY 1, 2, 3"""
# The same count and grouping over the image search read model, as the API now writes them:
# one table, one index.
SEARCH_WHERE = """WHERE i.deleted_at IS NULL AND i.qc_state <> 'blacklisted'
AND i.dataset_id IN (SELECT id FROM dataset WHERE deleted_at IS NULL)
AND i.subject_id NOT IN (SELECT id FROM subject WHERE deleted_at IS NOT NULL)
AND i.dataset_id = ANY(%(datasets)s)
AND i.type = ANY(%(types)s) AND i.search_condition_id = ANY(%(conditions)s)
AND i.search_sex = %(sex)s AND i.search_age_at_scan BETWEEN %(age_min)s AND %(age_max)s"""
SEARCH_COUNT = f"SELECT count(*) FROM image i {SEARCH_WHERE}"
SEARCH_GROUPS = f"""SELECT i.dataset_id, i.type, i.search_condition_id,
count(DISTINCT i.subject_id), count(*) FROM image i {SEARCH_WHERE} GROUP BY 1, 2, 3"""


def percentile(samples: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `samples` (fraction 0.5 for the median)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `samples` (seconds) and their count."""
    return {"p50": percentile(samples, 0.50), "p95": percentile(samples, 0.95),
            "p99": percentile(samples, 0.99), "n": len(samples)}


def query_path(route: str, params: dict[str, Any]) -> str:
    """The path and query string of an API route."""
    query = urllib.parse.urlencode(params, doseq=True)
    return f"{API}{route}?{query}" if query else f"{API}{route}"


class Gunicorn:
    """`gunicorn "app:create_app()"` on 127.0.0.1 over `database_url`, production settings.

    gthread workers with one thread each behave like sync workers but keep connections alive
    (sync workers close every connection after one response), so a client can time requests
    over one persistent connection.
    """

    def __init__(self, database_url: str, scratch: Path, port: int,
                 workers: int = WORKERS) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.database_url, self.scratch = database_url, scratch
        self.workers = workers
        self.environment = {**os.environ, "DATABASE_URL": database_url,
                            "FLASK_CONFIG": "production", "STORAGE_BACKEND": "local",
                            "LOCAL_STORAGE_ROOT": str(scratch / "storage")}
        self.log_path = scratch / f"gunicorn-{port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Gunicorn:
        """Start the server and wait until every worker is up and /health answers."""
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
                 "--worker-class", "gthread", "--threads", "1", "--bind",
                 f"127.0.0.1:{self.port}", "--timeout", "300", "--keep-alive", "60",
                 "app:create_app()"],
                cwd=ROOT, env=self.environment, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if len(self.worker_pids()) == self.workers and self._healthy():
                return self
            time.sleep(0.2)
        text = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"gunicorn did not start on port {self.port}:\n{text}")

    def _healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", f"{API}/health")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The worker processes (the master's children)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        """Stop the master (it stops its workers); kill it if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in self.worker_pids():
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()


@contextmanager
def serving(database_url: str, scratch: Path, port: int) -> Iterator[Gunicorn]:
    """Serve the API with gunicorn for the block; stop it afterwards, also on failure."""
    server = Gunicorn(database_url, scratch, port).start()
    try:
        yield server
    finally:
        server.stop()


class Client:
    """Sequential GETs over one persistent HTTP connection, with a bearer token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def get(self, path: str, *, read: Callable[[bytes], None] | None = None) -> bytes:
        """GET `path` and return the body (or hand it chunk by chunk to `read`); 200 or raise."""
        for attempt in range(2):
            try:
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                if attempt:
                    raise
        if read is None:
            body = response.read()
        else:
            body = b""
            while chunk := response.read(READ_CHUNK):
                read(chunk)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:500]!r}")
        return body

    def json(self, path: str) -> dict[str, Any]:
        """GET `path` and return its JSON body."""
        return json.loads(self.get(path))

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


@dataclass
class Timings:
    """Request kinds timed in turn (round robin), so that noise hits every kind alike.

    Beside each call's wall time it keeps the CPU time this process spent in it (`cpu`): for
    work done in this process (request_phases) the steadier figure on a shared machine, where
    the wall time also holds the waits for the other processes and for a core.
    """

    kinds: dict[str, Callable[[], Any]]
    samples: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def run(self, requests: int, budget: float, minimum: int) -> dict[str, dict[str, float]]:
        """Time each kind `requests` times, or fewer for a kind (not under `minimum`) once it
        has spent `budget` seconds; return each kind's summary."""
        self.samples = {kind: [] for kind in self.kinds}
        self.cpu = {kind: [] for kind in self.kinds}
        spent = dict.fromkeys(self.kinds, 0.0)
        for _ in range(requests):
            for kind, call in self.kinds.items():
                if len(self.samples[kind]) >= minimum and spent[kind] > budget:
                    continue
                start, cpu_start = time.perf_counter(), time.process_time()
                call()
                seconds = time.perf_counter() - start
                self.cpu[kind].append(time.process_time() - cpu_start)
                self.samples[kind].append(seconds)
                spent[kind] += seconds
        return {kind: summary(samples) for kind, samples in self.samples.items()}

    def cpu_p50(self) -> dict[str, float]:
        """The median CPU time of this process per call of each kind, in seconds."""
        return {kind: percentile(samples, 0.5) for kind, samples in self.cpu.items()}


# The requests of the round robin that take milliseconds, timed again on their own (_measure).
LIGHT_KINDS = ("cursor", "first_page", "page_total")
# How long the client sleeps before each request of after_pauses.
PAUSE_SECONDS = 0.2


def after_pauses(call: Callable[[], Any], pause: float, requests: int) -> dict[str, float]:
    """Time `call` `requests` times, each after `pause` seconds of idling (not timed): the
    cost of a request that finds the processes it needs asleep. Returns its summary."""
    samples = []
    for _ in range(requests):
        time.sleep(pause)
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return summary(samples)


class RawQueries:
    """The filtered page and its count as two hand-written SQL statements, through psycopg."""

    def __init__(self, database_url: str, per_page: int) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(database_url)
        self.connection = psycopg.connect(host=url.host, port=url.port, user=url.username,
                                          dbname=url.database, autocommit=True)
        designation = "SELECT id FROM {} WHERE designation = ANY(%s)"
        ids = {table: [row[0] for row in self.connection.execute(
            designation.format(table), ([name],))]
            for table, name in (("dataset", PAGE_FILTERS["dataset"]),
                                ("condition", PAGE_FILTERS["condition"]), ("measure", "MMSE"))}
        self.parameters = {"datasets": ids["dataset"], "conditions": ids["condition"],
                           "mmse": (ids["measure"] or [None])[0],
                           "types": [PAGE_FILTERS["type"]], "sex": PAGE_FILTERS["sex"],
                           "age_min": float(PAGE_FILTERS["age_min"]),
                           "age_max": float(PAGE_FILTERS["age_max"]), "limit": per_page + 1}
        self.page_seconds: list[float] = []
        self.count_seconds: list[float] = []

    def page(self) -> list[tuple]:
        """The first page (one row more than asked, as the API fetches)."""
        return self.connection.execute(RAW_PAGE, self.parameters).fetchall()

    def count(self) -> int:
        """The number of matching rows."""
        return self.connection.execute(RAW_COUNT, self.parameters).fetchone()[0]

    def measure_count(self) -> int:
        """The number of matching rows with the measure filter too."""
        return self.connection.execute(RAW_MEASURE_COUNT, self.parameters).fetchone()[0]

    def search_count(self) -> int:
        """The number of matching rows, counted over the image search read model."""
        return self.connection.execute(SEARCH_COUNT, self.parameters).fetchone()[0]

    def groups(self, read_model: bool) -> list[tuple]:
        """The counts by dataset x type x condition, by the join or over the read model."""
        statement = SEARCH_GROUPS if read_model else RAW_GROUPS
        return sorted(self.connection.execute(statement, self.parameters).fetchall())

    def both(self) -> None:
        """The page, then the count, each timed into page_seconds and count_seconds."""
        start = time.perf_counter()
        self.page()
        middle = time.perf_counter()
        self.count()
        self.page_seconds.append(middle - start)
        self.count_seconds.append(time.perf_counter() - middle)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _status_kb(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{name} not in /proc/{pid}/status")


def _reset_peak(pid: int) -> bool:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+), so the peak read
    # afterwards is this export's own, not an earlier request's.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def export_csv(client: Client, server: Gunicorn, path: str) -> dict[str, float]:
    """Download a CSV export; return its time, rows, bytes and the workers' peak RSS growth.

    The growth is the largest, over the workers, of the peak RSS during the export minus the
    RSS before it: VmHWM after a reset where the kernel allows it, else VmRSS sampled every
    5 ms while the export runs.
    """
    pids = server.worker_pids()
    before = {pid: _status_kb(pid, "VmRSS") for pid in pids}
    reset = all(_reset_peak(pid) for pid in pids)
    sampled = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            for pid in pids:
                sampled[pid] = max(sampled[pid], _status_kb(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    counted = {"bytes": 0, "lines": 0}

    def read(chunk: bytes) -> None:
        counted["bytes"] += len(chunk)
        counted["lines"] += chunk.count(b"\n")

    start = time.perf_counter()
    try:
        client.get(path, read=read)
    finally:
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    peak = {pid: _status_kb(pid, "VmHWM") if reset else sampled[pid] for pid in pids}
    growth_kb = max(peak[pid] - before[pid] for pid in pids)
    return {"seconds": seconds, "rows": counted["lines"] - 1, "bytes": counted["bytes"],
            "rss_growth_mb": growth_kb / 1024, "peak_from_hwm": float(reset)}


WRK_TOTALS = re.compile(r"(\d+) requests in ([\d.]+)(m?s)")
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> dict[str, float]:
    """Requests, requests/s and errors (non-2xx/3xx responses + socket errors) from wrk."""
    totals, rate = WRK_TOTALS.search(output), WRK_RATE.search(output)
    if totals is None or rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = WRK_NON_2XX.search(output)
    socket_errors = WRK_SOCKET.search(output)
    return {"requests": int(totals.group(1)), "per_second": float(rate.group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0}


def load_tool() -> str:
    """The load generator this machine has: wrk (Debian's) when installed, else Python's."""
    return "wrk" if shutil.which("wrk") else "python"


def run_load(url: str, token: str, seconds: int, connections: int) -> dict[str, float]:
    """Load `url` for `seconds` from a second process with `connections` keep-alive
    connections; return requests, requests/s and error counts."""
    if load_tool() == "wrk":
        completed = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
             "-H", f"Authorization: Bearer {token}", url],
            capture_output=True, text=True, check=True, timeout=seconds + 120)
        return parse_wrk(completed.stdout)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.api", "load", url, token, str(seconds), str(connections)],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=seconds + 120)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def python_load(url: str, token: str, seconds: float, connections: int) -> dict[str, float]:
    """wrk's measurement in Python: `connections` threads, each GETting `url` in a loop over
    its own persistent connection until `seconds` have passed."""
    parts = urllib.parse.urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    counts = {"requests": 0, "non_2xx": 0, "socket_errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.monotonic() < deadline:
            try:
                connection.request("GET", target, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                key = "requests" if 200 <= response.status < 400 else "non_2xx"
            except (OSError, http.client.HTTPException):
                connection.close()
                key = "socket_errors"
            with lock:
                counts[key] += 1
        connection.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    # wrk counts every completed response as a request, errors included.
    requests = counts["requests"] + counts["non_2xx"]
    return {"requests": requests, "per_second": requests / elapsed,
            "non_2xx": counts["non_2xx"], "socket_errors": counts["socket_errors"]}


def create_token(database_url: str) -> str:
    """Add an API key to the database and return its token."""
    from app import create_app
    from app.access.auth import create_api_key
    from app.extensions import db

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        # A fresh name each time: key names are unique, and a database may be measured twice.
        _, token = create_api_key(f"bench-{time.time_ns()}")
        db.session.commit()
        db.engine.dispose()
    return token


def analyze(database_url: str) -> None:
    """VACUUM ANALYZE the database: planner statistics, and the visibility map that index-only
    scans need, as a database at rest has after autovacuum."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


@dataclass
class Plan:
    """How much the API section measures (full or quick)."""

    requests: int          # timed requests per kind, sequential, round robin over the kinds
    budget: float          # seconds a kind may spend before it stops short of `requests` ...
    minimum: int           # ... but never under this many requests
    deep_page: int         # the deep page's number
    csv_runs: int
    load_seconds: int      # wrk takes whole seconds
    load_runs: int
    load_connections: int = 8
    per_page: int = 50


def measure(database_url: str, scratch: Path, plan: Plan, port: int) -> dict[str, Any]:
    """Serve the filled database at `database_url` with gunicorn and measure every figure of
    the API section; the server is stopped afterwards, also on failure.

    Returns {"latency": {kind: summary}, "alone" and "paused" (the LIGHT_KINDS timed on their
    own: back to back, and after_pauses), "phases" (request_phases of the cursor page),
    "raw_page", "raw_count" (summaries), "csv": [runs], "load": {name: [runs]}, "load_tool",
    "matched", "stats_images", "csv_rows_expected"}.
    """
    token = create_token(database_url)
    raw = RawQueries(database_url, plan.per_page)
    try:
        with serving(database_url, scratch, port) as server:
            client = Client(server.port, token)
            try:
                result = _measure(client, server, raw, plan, token)
            finally:
                client.close()
        # The plans of the page + total, with and without the measure filter, once the
        # timings are done (EXPLAIN ANALYZE runs each statement once more).
        result["plans"] = {name: explain_api(database_url, token, path)
                           for name, path in result["paths"].items()}
        return result
    finally:
        raw.close()


def _measure(client: Client, server: Gunicorn, raw: RawQueries, plan: Plan,
             token: str) -> dict[str, Any]:
    per_page = {"per_page": plan.per_page}
    page_path = query_path("/images", {**PAGE_FILTERS, **per_page})
    first = client.json(page_path)
    if [item["id"] for item in first["items"]] != [row[0] for row in raw.page()[:plan.per_page]] \
            or first["total"] != raw.count():
        raise RuntimeError("the API's filtered page differs from the raw SQL's")
    if raw.search_count() != first["total"] or raw.groups(True) != raw.groups(False):
        raise RuntimeError("the image search read model counts differ from the join's")
    cursor_path = query_path("/images", {**PAGE_FILTERS, **per_page, "total": "false",
                                         "cursor": first["next_cursor"]})
    top_path = query_path("/images", {**per_page, "total": "false"})
    deep_path = query_path("/images", {**per_page, "total": "false", "page": plan.deep_page})
    before_deep = client.json(query_path("/images", {**per_page, "total": "false",
                                                     "page": plan.deep_page - 1}))
    deep_cursor_path = query_path("/images", {**per_page, "total": "false",
                                              "cursor": before_deep["next_cursor"]})
    if client.json(deep_path)["items"] != client.json(deep_cursor_path)["items"]:
        raise RuntimeError("the deep page by number and by cursor differ")
    stats_path = query_path("/stats", PAGE_FILTERS)
    measure_path = query_path("/images", {**MEASURE_PAGE_FILTERS, **per_page})
    measured = client.json(measure_path)
    if measured["total"] != raw.measure_count():
        raise RuntimeError(f"the API's total with measure={MEASURE_FILTER} is "
                           f"{measured['total']}, the raw SQL's {raw.measure_count()}")
    kinds = {
        "page_total": lambda: client.get(page_path),
        "measure_page_total": lambda: client.get(measure_path),
        "measure_count": raw.measure_count,
        "raw": raw.both,
        "cursor": lambda: client.get(cursor_path),
        "first_page": lambda: client.get(top_path),
        "deep_page": lambda: client.get(deep_path),
        "deep_cursor": lambda: client.get(deep_cursor_path),
        "stats": lambda: client.get(stats_path),
        "join_count": raw.count,
        "search_count": raw.search_count,
        "join_groups": lambda: raw.groups(False),
        "search_groups": lambda: raw.groups(True),
    }
    for call in kinds.values():  # warm up: caches of the database and of the worker
        call()
    raw.page_seconds.clear()
    raw.count_seconds.clear()
    latency = Timings(kinds).run(plan.requests, plan.budget, plan.minimum)
    # The light requests again, without the heavy ones between them: back to back, and each
    # after an idle pause (the round robin's requests follow 0.3 to 2 s of other work).
    light = {kind: kinds[kind] for kind in LIGHT_KINDS}
    alone = Timings(light).run(plan.requests, plan.budget, plan.minimum)
    paused = {kind: after_pauses(call, PAUSE_SECONDS, plan.minimum) for kind, call in light.items()}
    phases = request_phases(server.database_url, server.scratch, token, cursor_path,
                            plan.requests, gunicorn=kinds["cursor"])
    stats = client.json(stats_path)
    csv_path = query_path("/images", {**CSV_FILTERS, "format": "csv"})
    csv_expected = client.json(query_path("/images", {**CSV_FILTERS, "per_page": 1}))["total"]
    exports = [export_csv(client, server, csv_path) for _ in range(plan.csv_runs)]
    if any(export["rows"] != csv_expected for export in exports):
        raise RuntimeError(f"CSV exports of {[e['rows'] for e in exports]} rows, "
                           f"expected {csv_expected}")
    load = {name: [run_load(f"{server.url}{path}", token, plan.load_seconds,
                            plan.load_connections) for _ in range(plan.load_runs)]
            for name, path in (("cursor", cursor_path), ("page_total", page_path))}
    return {"latency": latency, "alone": alone, "paused": paused, "phases": phases,
            "raw_page": summary(raw.page_seconds),
            "raw_count": summary(raw.count_seconds), "csv": exports, "load": load,
            "load_tool": load_tool(), "matched": first["total"], "stats_images": stats["images"],
            "csv_rows_expected": csv_expected, "measure_matched": measured["total"],
            "paths": {"without": page_path, "with": measure_path}}


def explain_api(database_url: str, token: str, path: str) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE the SQL statements the API runs for `path` (its page and its total),
    served in-process over `database_url`.

    Returns, per statement over the image table: its first line, the plan's scan and join
    nodes (one line each, indented as in the plan), and the execution time in ms.
    """
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    statements: list[tuple[str, Any]] = []
    with app.app_context():
        def collect(_connection, _cursor, statement, parameters, _context, _many):
            if "FROM image" in statement and not statement.lstrip().startswith("EXPLAIN"):
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", collect)
        try:
            response = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
        finally:
            event.remove(db.engine, "before_cursor_execute", collect)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.get_data()[:300]!r}")
        plans = []
        with db.engine.connect() as connection:
            for statement, parameters in statements:
                lines = [row[0] for row in connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)]
                plans.append(plan_summary(statement, lines))
        db.engine.dispose()
    return plans


# The phases of a request, in the order it runs them (request_phases times each alone).
PHASES = {
    "connection": "checkout (no pre-ping: only a connection idle for IDLE_CHECK_SECONDS of "
                  "app/extensions.py is checked), BEGIN, `SELECT 1`, ROLLBACK, checkin",
    "select_one": "`SELECT 1` alone on a held connection (one round trip to the server)",
    "token": "the token check: authenticate() (the key, its grants and the designations the "
             "parameters name, in one statement; the scope)",
    "arguments": "parsing the query string (webargs + the route's marshmallow schema)",
    "statement": "building the page's statement (filters, sort, cursor, limit)",
    "execute": "running it through the ORM session (cache key, compiled-cache look-up, SQL, "
               "rows as mappings)",
    "raw_sql": "the same compiled SQL and parameters through psycopg, on the same connection",
    "render": "rendering the envelope (the route's response schema: 50 rows x 18 fields)",
    "json": "JSON encoding (the app's JSON provider)",
    "wsgi": "the whole request through the WSGI app in process (no HTTP)",
}


def request_phases(database_url: str, scratch: Path, token: str, path: str, requests: int,
                   *, gunicorn: Callable[[], Any] | None = None) -> dict[str, dict[str, float]]:
    """Time where a GET /images page's time goes, phase by phase (PHASES), with the app's own
    code in this process: each phase alone, `requests` times, the phases in turn (round
    robin, as Timings does), plus the whole request through the WSGI app and, when
    `gunicorn` is given (a call that sends the same request to the served app), over HTTP.

    Returns {phase: summary} (summary: n, p50, p95, p99 and cpu_p50, the median CPU time of
    this process, in seconds; through gunicorn the CPU is the client's alone).
    """
    from sqlalchemy import event, text
    from werkzeug.test import EnvironBuilder

    from app import create_app
    from app.access.auth import authenticate
    from app.api.images import ImageArgs, ImageListItemSchema, blp
    from app.api.query import envelope_schema
    from app.api.query.paging import one_page
    from app.extensions import db
    from app.query.images import image_filters, select_images

    app = create_app("production", {"SQLALCHEMY_DATABASE_URI": database_url,
                                    "STORAGE_BACKEND": "local",
                                    "LOCAL_STORAGE_ROOT": str(scratch / "storage")})
    headers = {"Authorization": f"Bearer {token}"}
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    schema = envelope_schema(ImageListItemSchema, "Image")()

    def whole_request() -> bytes:
        statuses: list[str] = []
        body = app.wsgi_app(dict(environ), lambda status, _headers: statuses.append(status))
        try:
            data = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"GET {path}: {statuses[0]} {data[:300]!r}")
        return data

    with app.app_context(), app.test_request_context(path, headers=headers):
        args = blp.ARGUMENTS_PARSER.parse(ImageArgs, location="query")
        statement, _ = one_page(select_images().where(*image_filters(args)), args, "images")
        sent: list[tuple[str, Any]] = []

        def keep(_connection, _cursor, sql, parameters, _context, _many) -> None:
            sent.append((sql, parameters))

        # The page's SQL and parameters as sent to the server (the last statement of the page).
        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            rows = db.session.execute(statement).mappings().all()
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        raw_sql, raw_parameters = sent[-1]
        answer = {"items": rows[:args["per_page"]], "total": None, "page": None,
                  "per_page": args["per_page"], "next_cursor": None}
        dumped = schema.dump(answer)
        db.session.remove()

        def connection_cycle() -> None:
            db.session.execute(text("SELECT 1"))
            db.session.remove()

        def raw() -> list[tuple]:
            cursor = db.session.connection().connection.driver_connection.cursor()
            cursor.execute(raw_sql, raw_parameters)
            return cursor.fetchall()

        kinds: dict[str, Callable[[], Any]] = {
            "select_one": lambda: db.session.execute(text("SELECT 1")).all(),
            "token": authenticate,
            "arguments": lambda: blp.ARGUMENTS_PARSER.parse(ImageArgs, location="query"),
            "statement": lambda: one_page(select_images().where(*image_filters(args)), args,
                                          "images"),
            "execute": lambda: db.session.execute(statement).mappings().all(),
            "raw_sql": raw,
            "render": lambda: schema.dump(answer),
            "json": lambda: app.json.dumps(dumped).encode(),
        }
        connection_cycle()  # warm up
        timings = Timings({"connection": connection_cycle})
        phases = timings.run(requests, math.inf, requests)
        cpu = timings.cpu_p50()
        # The other phases run inside one transaction, as a request's do: the connection is
        # held (checked out once, here).
        for call in kinds.values():  # warm up
            call()
        timings = Timings(kinds)
        phases.update(timings.run(requests, math.inf, requests))
        cpu.update(timings.cpu_p50())
        db.session.remove()
    ends = {"wsgi": whole_request}
    if gunicorn is not None:
        ends["gunicorn"] = gunicorn
    for call in ends.values():
        call()
    timings = Timings(ends)
    phases.update(timings.run(requests, math.inf, requests))
    cpu.update(timings.cpu_p50())
    with app.app_context():
        db.engine.dispose()
    for name, summary_of_phase in phases.items():
        summary_of_phase["cpu_p50"] = cpu[name]
    return phases


PLAN_NODE = re.compile(r"^(\s*)(?:->\s*)?((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index "
                       r"Scan|Bitmap Heap Scan|Seq Scan|Nested Loop|Hash Join|Merge Join|Hash "
                       r"Semi Join|Hash Anti Join|Nested Loop Semi Join|Nested Loop Anti Join|"
                       r"Limit|(?:Group|Hash|Mixed)?Aggregate|Sort|Gather)[^(]*)\(.*?actual "
                       r"time=[\d.]+\.\.([\d.]+) rows=(\d+)")


def plan_summary(statement: str, lines: list[str]) -> dict[str, Any]:
    """The gist of an EXPLAIN ANALYZE: the statement's first line, its scan/join nodes with
    their actual time and rows (and the SubPlan/InitPlan above a subquery's nodes), indented
    two spaces a level, and the execution time (ms). Pure."""
    nodes = []
    open_indents: list[int] = []  # the indents of the nodes above the current line
    for line in lines:
        match = PLAN_NODE.match(line)
        # A subquery run per row (SubPlan) or once (InitPlan) heads the nodes below it.
        sub = re.match(r"^(\s*)((?:SubPlan|InitPlan) \d+)", line)
        if not (match or sub):
            continue
        indent = len((match or sub).group(1))
        while open_indents and open_indents[-1] >= indent:
            open_indents.pop()
        prefix = "  " * len(open_indents)
        open_indents.append(indent)
        nodes.append(f"{prefix}{sub.group(2)}" if sub else
                     f"{prefix}{match.group(2).strip()} ({match.group(3)} ms, "
                     f"{match.group(4)} rows)")
    execution = next((float(line.split(":")[1].split()[0]) for line in lines
                      if line.startswith("Execution Time")), float("nan"))
    return {"statement": statement.strip().splitlines()[0][:80].strip(), "nodes": nodes,
            "execution_ms": execution}


def main(argv: list[str]) -> int:
    """`load URL TOKEN SECONDS CONNECTIONS`: run the Python load generator, print JSON."""
    if not argv or argv[0] != "load" or len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    url, token, seconds, connections = argv[1], argv[2], float(argv[3]), int(argv[4])
    sys.stdout.write(json.dumps(python_load(url, token, seconds, connections)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
