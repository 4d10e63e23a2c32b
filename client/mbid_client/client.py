"""Client: the API's collections as typed pandas DataFrames, cohorts, and downloads."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mbid_client.download import DownloadReport, download_files, download_row, target_of
from mbid_client.errors import ApiError, ChecksumMismatch, NotFound, error_for

API_PATH = "/api/v1"
PER_PAGE = 1000
# Answers worth asking again: throttled, or the server or its storage briefly unavailable.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# A request that may change something (POST, DELETE) is repeated only when the server said it
# did nothing with it.
NOTHING_DONE_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 30.0
# OpenAPI type -> pandas dtype (nullable dtypes: a missing value stays missing, ints stay ints).
DTYPES = {"integer": "Int64", "number": "Float64", "string": "string", "boolean": "boolean"}


# OpenAPI type -> the Python values a column of that type holds (None aside).
VALUE_TYPES = {"integer": int, "string": str}
# A measure's kind (the master list's `kind`) -> the dtype of its value column. Plain float64
# (NaN when missing) for scores, as numpy and statistics code expect them; text for categories.
MEASURE_DTYPES = {"number": "float64", "ordinal": "float64", "category": "string"}
# The column beside a measure's value: the day since baseline the value was assessed on.
DAY_SUFFIX = "_day"
# A `measure` filter ("MMSE<24", "CDR_GLOBAL=0.5,1"): the designation before the operator.
MEASURE_FILTER = re.compile(r"^\s*([^<>=\s]+)\s*(?:<=|>=|<|>|=)")


def _first_fitting(column: pd.Series, alternatives: list[dict[str, Any]]) -> pd.Series:
    """Type a column whose field is one of several types (a count that a counts-only key gets
    as "<5"): as the first alternative every value fits, else left as Python objects."""
    for alternative in alternatives:
        kind = alternative.get("type")
        if kind in VALUE_TYPES and all(
                value is None or (isinstance(value, VALUE_TYPES[kind])
                                  and not isinstance(value, bool)) for value in column):
            return column.astype(DTYPES[kind])
    return column


def measure_names(filters: Mapping[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Return the measures a listing gets as columns, in order: those asked for with
    `measures`, then those its `measure` filters name, then any other its rows carry."""
    asked = filters.get("measures") or []
    tests = filters.get("measure") or []
    named = [found[1] for test in ([tests] if isinstance(tests, str) else tests)
             if (found := MEASURE_FILTER.match(str(test)))]
    carried = sorted({name for row in rows for name in row.get("measures") or {}})
    given = asked.split(",") if isinstance(asked, str) else [str(name) for name in asked]
    return list(dict.fromkeys(name.strip() for name in [*given, *named, *carried]
                              if name.strip()))


class RetryPolicy(Retry):
    """urllib3's Retry with the statuses each method is repeated after, and Retry-After capped.

    A GET is repeated after a connection error, a timeout or a transient status; any other
    method only after a status that says nothing was done. The wait is Retry-After (at most
    MAX_RETRY_AFTER seconds) when the server sends it, else an exponential backoff.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Whether an answer with `status_code` to `method` is asked again."""
        statuses = TRANSIENT_STATUSES if method == "GET" else NOTHING_DONE_STATUSES
        return bool(self.total) and status_code in statuses

    def get_retry_after(self, response: Any) -> float | None:
        """The server's Retry-After in seconds, capped at MAX_RETRY_AFTER."""
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def retrying_adapter(retries: int, backoff: float) -> HTTPAdapter:
    """Return a requests adapter that repeats transient failures up to `retries` times."""
    # raise_on_status=False: once retries are spent the last answer comes back and is turned
    # into the API's typed error like any other.
    return HTTPAdapter(max_retries=RetryPolicy(
        total=retries, backoff_factor=backoff, allowed_methods=frozenset({"GET"}),
        status_forcelist=TRANSIENT_STATUSES, raise_on_status=False, redirect=False))


@dataclass(frozen=True)
class Cohort:
    """A saved cohort, as the API describes it."""

    id: int
    name: str
    owner: str
    query: dict[str, list[str]]
    created_at: str
    image_count: int
    manifest_sha256: str


@dataclass(frozen=True)
class CohortDiff:
    """A cohort's query run now against its frozen manifest."""

    frozen_sha256: str
    current_sha256: str
    added: pd.DataFrame
    removed: pd.DataFrame
    changed: list[dict[str, Any]]
    unchanged: int

    @property
    def same(self) -> bool:
        """Whether the query still gives exactly the frozen images."""
        return self.frozen_sha256 == self.current_sha256


def query_params(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return filters as query-string pairs: a list repeats its parameter, booleans are
    true/false, None leaves the filter out; `meta={"RepetitionTime_max": 2.5}` becomes
    meta.RepetitionTime_max=2.5 and `measures=["MMSE", "CDR_SB"]` one measures=MMSE,CDR_SB."""
    pairs: list[tuple[str, str]] = []
    for name, value in filters.items():
        if name == "meta" and isinstance(value, Mapping):
            pairs += query_params({f"meta.{field}": item for field, item in value.items()})
            continue
        if name == "measures" and not isinstance(value, str | None):
            pairs.append((name, ",".join(str(item) for item in value)))
            continue
        for item in value if isinstance(value, list | tuple | set) else [value]:
            if item is None:
                continue
            pairs.append((name, str(item).lower() if isinstance(item, bool) else str(item)))
    return pairs


class Client:
    """A connection to one MBID-db server with one API token.

    Parameters
    ----------
    url
        The server, e.g. "http://127.0.0.1:5000" (or its API root, ".../api/v1").
    token
        An API key's token (`flask apikey create`).
    retries
        How many times a request is repeated after a transient failure (connection error,
        429, 502, 503, 504), waiting as Retry-After says or backing off exponentially
        (see RetryPolicy; the adapter is mounted on `session` too when one is given).
    """

    def __init__(self, url: str, token: str, *, timeout: float = 60.0, retries: int = 4,
                 backoff: float = 0.5, session: requests.Session | None = None) -> None:
        root = url.rstrip("/")
        self.api_url = root if root.endswith(API_PATH) else root + API_PATH
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.http = session or requests.Session()
        adapter = retrying_adapter(retries, backoff)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self._auth = {"Authorization": f"Bearer {token}"}
        self._spec: dict[str, Any] | None = None
        self._measure_kinds: dict[str, str] | None = None

    # HTTP ------------------------------------------------------------------------------------

    def owns(self, url: str) -> bool:
        """Whether `url` is one of this API's (and so may be sent the token)."""
        return url.startswith(self.api_url + "/")

    def request(self, method: str, url: str, *, stream: bool = False, **kwargs: Any
                ) -> requests.Response:
        """Send a request with retries; return the answer, or raise the API's error.

        `url` is a path under the API root or an absolute URL (a presigned one gets no token).
        """
        if not url.startswith(("http://", "https://")):
            url = self.api_url + url
        headers = {**kwargs.pop("headers", {}), **(self._auth if self.owns(url) else {})}
        response = self.http.request(method, url, headers=headers, stream=stream,
                                     timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise error_for(response.status_code, _json_or_none(response))
        return response

    def get_json(self, path: str, params: Any = None) -> Any:
        """GET an API path and return its JSON."""
        return self.request("GET", path, params=params).json()

    # Typing ----------------------------------------------------------------------------------

    @property
    def spec(self) -> dict[str, Any]:
        """The server's OpenAPI document (read once)."""
        if self._spec is None:
            self._spec = self.get_json("/openapi.json")
        return self._spec

    def _schema(self, reference: str) -> dict[str, Any]:
        return self.spec["components"]["schemas"][reference.rsplit("/", 1)[-1]]

    def _item_schema(self, path: str, list_property: str = "items",
                     within: str | None = None) -> dict[str, Any]:
        """The schema of the rows a route lists (in its `list_property`, of its object
        `within` if given)."""
        answer = self.spec["paths"][API_PATH + path]["get"]["responses"]["200"]
        document = self._schema(answer["content"]["application/json"]["schema"]["$ref"])
        if within is not None:
            nested = document["properties"][within]
            # A nested object is a $ref, or an allOf of one when the field has a description.
            document = self._schema(nested.get("$ref") or nested["allOf"][0]["$ref"])
        return self._schema(document["properties"][list_property]["items"]["$ref"])

    def frame(self, rows: list[dict[str, Any]], schema: dict[str, Any]) -> pd.DataFrame:
        """Return `rows` as a DataFrame with one typed column per schema property, in order."""
        properties = schema["properties"]
        frame = pd.DataFrame(rows, columns=list(properties))
        for name, field in properties.items():
            if field.get("format") == "date-time":
                frame[name] = pd.to_datetime(frame[name], utc=True)
            elif field.get("type") in DTYPES:
                frame[name] = frame[name].astype(DTYPES[field["type"]])
            elif "oneOf" in field:
                frame[name] = _first_fitting(frame[name], field["oneOf"])
        return frame

    def measure_kinds(self) -> dict[str, str]:
        """The kind of every measure of the master list, by designation (read once)."""
        if self._measure_kinds is None:
            master = self.measures()
            self._measure_kinds = dict(zip(master["designation"], master["kind"], strict=True))
        return self._measure_kinds

    def with_measures(self, frame: pd.DataFrame, rows: list[dict[str, Any]],
                      filters: Mapping[str, Any]) -> pd.DataFrame:
        """Return `frame` (built from `rows`) with each row's measures as columns.

        Each measure of measure_names gets its value column (float64 for numbers and ordinal
        scores, string for categories) and a `<designation>_day` column (Int64: the day since
        baseline of the assessment the value comes from), typed so even when every value is
        missing; the rows' nested `measures` object is left out.
        """
        frame = frame.drop(columns="measures", errors="ignore")
        names = measure_names(filters, rows)
        if not names:
            return frame
        kinds = self.measure_kinds()
        # The server names a measure as the master list spells it, in whatever case it was
        # asked for.
        spelled = {designation.upper(): designation for designation in kinds}
        columns: dict[str, pd.Series] = {}
        for name in dict.fromkeys(spelled.get(name.upper(), name) for name in names):
            found = [(row.get("measures") or {}).get(name) or {} for row in rows]
            values = [assessed.get("value") for assessed in found]
            # A designation the master list lacks (the server refuses them in filters) is
            # typed by what it holds.
            kind = kinds.get(name) or ("category" if any(isinstance(value, str)
                                                         for value in values) else "number")
            columns[name] = pd.Series(values, index=frame.index, dtype=MEASURE_DTYPES[kind])
            columns[name + DAY_SUFFIX] = pd.Series(
                [assessed.get("day") for assessed in found], index=frame.index, dtype="Int64")
        return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)

    # Collections -----------------------------------------------------------------------------

    def pages(self, path: str, filters: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Yield the rows of a collection a page at a time, by cursor."""
        params = [*query_params(filters), ("per_page", str(PER_PAGE)), ("total", "false")]
        cursor = None
        while True:
            page = self.get_json(path, params + ([("cursor", cursor)] if cursor else []))
            yield page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def collection(self, path: str, filters: Mapping[str, Any]) -> pd.DataFrame:
        """Return every row of a collection matching `filters` as a typed DataFrame, with
        the measures the rows carry as columns (see with_measures)."""
        rows = [row for page in self.pages(path, filters) for row in page]
        return self.with_measures(self.frame(rows, self._item_schema(path)), rows, filters)

    def images(self, **filters: Any) -> pd.DataFrame:
        """Images matching the /images filters, one row per image.

        Filters are the API's parameters: type="T1", sex="female", age_min=60,
        meta={"RepetitionTime_max": 2.5}, measure=["MMSE>=10", "MMSE<24"] (every one must
        hold; the value at the image's visit, else the latest within measure_window days
        before the scan), measures=["CDR_GLOBAL", "HANDEDNESS"] (extra columns). Each measure
        asked for or filtered on becomes two columns, e.g. `MMSE` (float64; string for a
        category such as HANDEDNESS) and `MMSE_day` (Int64, the day the value was assessed).
        """
        return self.collection("/images", filters)

    def subjects(self, **filters: Any) -> pd.DataFrame:
        """Subjects matching the /subjects filters (as images: measure=, measures=, ...)."""
        return self.collection("/subjects", filters)

    def visits(self, **filters: Any) -> pd.DataFrame:
        """Visits matching the /visits filters (as images: measure=, measures=, ...); a
        visit's measures are those of its day."""
        return self.collection("/visits", filters)

    def measures(self) -> pd.DataFrame:
        """The master list of measures (MMSE, CDR_GLOBAL, HANDEDNESS...): designation,
        description, unit, kind (number, ordinal or category), range or levels and
        vocabulary term, one row per measure. Its designations name measures in the
        `measure` filters and `measures` columns."""
        return self.collection("/measures", {})

    def datasets(self) -> pd.DataFrame:
        """The datasets the token may see, one row each: designation, description and the
        counts of subjects, visits and images (per type in `image_counts`)."""
        return self.collection("/datasets", {})

    def dataset(self, dataset: str | int) -> dict[str, Any]:
        """One dataset, by id or by designation (in any case); NotFound when the token sees
        no such dataset."""
        if isinstance(dataset, str):
            wanted = dataset.lower()
            found = [row for page in self.pages("/datasets", {}) for row in page
                     if row["designation"].lower() == wanted]
            if not found:
                raise NotFound(404, f"no dataset {dataset!r}")
            dataset = found[0]["id"]
        return self.get_json(f"/datasets/{int(dataset)}")

    def image(self, image_id: int, *, qc: str | None = None) -> dict[str, Any]:
        """One image with its metadata (qc="all" also finds a blacklisted image)."""
        return self.get_json(f"/images/{int(image_id)}", {"qc": qc} if qc else None)

    def subject(self, subject_id: int) -> dict[str, Any]:
        """One subject with its visits and images."""
        return self.get_json(f"/subjects/{int(subject_id)}")

    def visit(self, visit_id: int) -> dict[str, Any]:
        """One visit with its images."""
        return self.get_json(f"/visits/{int(visit_id)}")

    def conditions(self) -> pd.DataFrame:
        """The master list of conditions (designation, description, vocabulary term)."""
        return self.collection("/conditions", {})

    def file_types(self) -> pd.DataFrame:
        """The master list of derived file types."""
        return self.collection("/file_types", {})

    def scanners(self, **filters: Any) -> pd.DataFrame:
        """The scanners of the datasets the token sees (filters as /scanners takes them,
        e.g. dataset="OASIS")."""
        return self.collection("/scanners", filters)

    def load_runs(self, **filters: Any) -> pd.DataFrame:
        """Loader runs, newest first (filters as /load_runs: dataset=, status=...)."""
        return self.collection("/load_runs", filters)

    def image_qc(self, image_id: int) -> dict[str, Any]:
        """An image's QC state and the history of its reviews."""
        return self.get_json(f"/images/{int(image_id)}/qc")

    def visit_qc(self, visit_id: int) -> dict[str, Any]:
        """A visit's completeness: its missing, repeated and unexpected series tags."""
        return self.get_json(f"/visits/{int(visit_id)}/qc")

    def derived(self, image_id: int) -> list[dict[str, Any]]:
        """The files derived from an image, each with its file type and provenance."""
        return self.get_json(f"/images/{int(image_id)}/derived")["items"]

    def stats(self, **filters: Any) -> dict[str, Any]:
        """Counts over the images matching the filters: {"subjects": n, "images": n, "groups":
        DataFrame by dataset x type x condition, "sex": DataFrame, "age": DataFrame}; with
        distribution="MMSE" also "distribution": a DataFrame of that measure per dataset
        (dataset, count, min, q1, median, q3, max)."""
        body = self.get_json("/stats", query_params(filters))
        answer = {"subjects": body["subjects"], "images": body["images"],
                  **{part: self.frame(body[part], self._item_schema("/stats", part))
                     for part in ("groups", "sex", "age")}}
        if body.get("distribution") is not None:
            answer["distribution"] = self.frame(
                body["distribution"]["datasets"],
                self._item_schema("/stats", "datasets", within="distribution"))
        return answer

    # Cohorts ---------------------------------------------------------------------------------

    def create_cohort(self, name: str, **filters: Any) -> Cohort:
        """Freeze the images matching the /images filters into a saved cohort."""
        query: dict[str, list[str]] = {}
        for key, value in query_params(filters):
            query.setdefault(key, []).append(value)
        body = self.request("POST", "/cohorts", json={"name": name, "query": query}).json()
        return Cohort(**body)

    def cohort(self, cohort_id: int) -> Cohort:
        """Return one saved cohort of this key."""
        return Cohort(**self.get_json(f"/cohorts/{int(cohort_id)}"))

    def cohorts(self) -> list[Cohort]:
        """Return every saved cohort of this key."""
        return [Cohort(**row) for page in self.pages("/cohorts", {}) for row in page]

    def manifest(self, cohort: Cohort | int, *, with_urls: bool = False) -> pd.DataFrame:
        """Return a cohort's frozen manifest (with a `url` column if asked)."""
        rows = self._manifest_rows(cohort, with_urls=with_urls)
        frame = self.frame(rows, self._item_schema("/cohorts/{cohort_id}/manifest"))
        return frame if with_urls else frame.drop(columns=["url"])

    def _manifest_rows(self, cohort: Cohort | int, *, with_urls: bool) -> list[dict[str, Any]]:
        params = {"with_urls": "true"} if with_urls else None
        return self.get_json(f"/cohorts/{_cohort_id(cohort)}/manifest", params)["items"]

    def diff(self, cohort: Cohort | int) -> CohortDiff:
        """Run a cohort's query now and compare it with the frozen manifest."""
        body = self.get_json(f"/cohorts/{_cohort_id(cohort)}/diff")
        schema = self._item_schema("/cohorts/{cohort_id}/diff", "added")
        return CohortDiff(
            frozen_sha256=body["frozen_sha256"], current_sha256=body["current_sha256"],
            added=self.frame(body["added"], schema), removed=self.frame(body["removed"], schema),
            changed=body["changed"], unchanged=body["unchanged"])

    def delete_cohort(self, cohort: Cohort | int) -> None:
        """Delete a saved cohort (its images stay)."""
        self.request("DELETE", f"/cohorts/{_cohort_id(cohort)}")

    # Downloads -------------------------------------------------------------------------------

    def download(self, cohort_or_query: Cohort | int | Mapping[str, Any], dest: str | Path, *,
                 progress: bool = True, unpack: bool = False,
                 on_file: Callable[[str, str], None] | None = None) -> DownloadReport:
        """Download the files of a cohort (a Cohort or its id) or of an /images query (a dict
        of filters) into `dest`, each at its storage key.

        A DICOM series (or one part of one: an echo, a phase image) is saved as
        `<path>.zip` holding exactly its files, or with `unpack=True` as the folder `<path>`;
        a converted DICOM image comes as its NIfTI, at the NIfTI's storage key. Files already
        there with the right SHA-256 are skipped and partial ones are resumed, so an
        interrupted download is finished by running it again. Every file is checked against
        the SHA-256 the server gives (a series against its file-set checksum); a mismatch
        deletes it and raises ChecksumMismatch. `progress` draws a bar on stderr;
        `on_file(path, outcome)` is called after each file. The report's `saved` says where
        each image went.
        """
        if isinstance(cohort_or_query, Mapping):
            rows = [row for page in self.pages("/images", {**cohort_or_query,
                                                           "with_urls": True})
                    for row in page]
        else:
            rows = self._manifest_rows(cohort_or_query, with_urls=True)
        return download_files(self, rows, Path(dest), progress=progress, unpack=unpack,
                              on_file=on_file)

    def download_image(self, image_id: int, dest: str | Path, *, unpack: bool = False,
                       qc: str | None = None) -> Path:
        """Download one image into `dest` (at its storage key, as `download` saves it: one
        part of a DICOM folder comes alone, as `<path>.zip` or unpacked) and return its local
        path. qc="all" also finds a blacklisted image."""
        row = self.image(image_id, qc=qc)
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        saved = download_row(self, {**row, "url": f"/images/{int(image_id)}/download"},
                             lambda key: target_of(dest, key), unpack=unpack)
        if saved.outcome == "mismatched":
            raise ChecksumMismatch([row["path"]])
        return saved.path


def _cohort_id(cohort: Cohort | int) -> int:
    return cohort.id if isinstance(cohort, Cohort) else int(cohort)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


__all__ = ["ApiError", "Client", "Cohort", "CohortDiff"]
