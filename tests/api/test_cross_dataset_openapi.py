"""Generated from the OpenAPI document: a key restricted to dataset ALPHA, with every scope (admin
and worker included), calls every operation the document lists and reads nothing of dataset
BSECRET.

First every read operation is called before BSECRET exists and again after: the answers must
be the same, so no count, total, statistic or list changes with BSECRET's rows. Then every
operation is called with BSECRET's ids and names: BSECRET's rows carry the text "bsecret"
(designation, external ids, paths, names, comments, key name, worker) and ids from 7,300,000 up
(its dataset, subject, visit, scanner and image; a derived file's key holds its image's id), so
any of them in any response body (zip entries and Parquet rows read too) or header is found.
Path ids of BSECRET must answer exactly as a missing id does, and so must query parameters naming
BSECRET's rows as names that do not exist. An
operation the table below cannot call (an unknown path parameter, a write without a body, a
query parameter not classified) fails the test: a new route is covered, or the test says so.
On both databases and both storage backends (local files streamed; S3 presigned URLs).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from app.models import Claim, ClaimState, FileType, Measure, MeasureKind, Scope
from app.models.base import utcnow
from app.processing.provenance import with_id, write_prov_objects
from app.storage import get_storage, sha256_of
from tests.support.factories import (
    bearer,
    make_api_key,
    make_assessment,
    make_dataset,
    make_derived_file,
    make_file_type,
    make_image,
    make_load_run,
    make_measure,
    make_scanner,
    make_subject,
    make_visit,
)

API = "/api/v1"
B_BASE = 7_300_000
MISSING_ID = 2_000_000_000
# Anything of BSECRET: its text, or one of its ids standing alone (not inside a hex digest).
LEAK = re.compile(r"bsecret|(?<![0-9A-Za-z])73\d{5}(?![0-9A-Za-z])", re.IGNORECASE)

# The query string of a presigned S3 URL (signature, date, expiry), up to a quote or space.
PRESIGNED = re.compile(r"\?X-Amz-[^\"'\s<]*")
# Query parameters that name rows: called with BSECRET's name, then with a name nothing has;
# the two answers must be the same (the name replaced).
NAMING = {"dataset": ("BSECRET", "NOSUCHSET"), "key": ("bsecret-key", "nosuch-key"),
          "name": ("bsecret-cohort", "nosuch-cohort"), "site": ("bsecret-site", "nosuch-site"),
          "manufacturer": ("BsecretMaker", "NosuchMaker")}
# Parameters that only shape the answer: called with each value listed (the enum of `format`).
SHAPING = {"format": None, "with_urls": ["true"], "total": ["true"], "measures": ["SCORE"],
           "distribution": ["SCORE"], "sidecars": ["true"]}
# Filters on values, not on names of rows: their filtering is tested elsewhere; leaving them
# out reads everything the key may see, which is what must hold nothing of BSECRET.
FILTERS = {"action", "age_max", "age_min", "complete", "condition", "cursor", "days_max",
           "days_min", "drift", "field_strength", "has_marks", "has_type", "laterality",
           "measure", "measure_window", "meta.{Field}", "page", "per_page", "qc", "sex", "since",
           "sort", "status", "type", "until", "view", "visit_has_type"}


pytestmark = pytest.mark.storage("each")


@dataclass
class Side:
    """The ids (by path parameter name) and lease token of one dataset's rows."""

    ids: dict[str, Any] = field(default_factory=dict)
    lease_token: str = ""


@dataclass
class Scene:
    alpha: Side
    beta: Side
    missing: Side
    alpha_key: dict[str, str]
    alpha_input: dict[str, str]


def ok(response, *statuses: int):
    assert response.status_code in statuses, (response.status_code, response.get_data()[:300])
    return response


def dataset_rows(session, designation: str, tag: str, base: int | None) -> dict[str, Any]:
    """A dataset with a scanner, subject, visit, image (and its file), a derived file with
    its provenance (and objects) and a failed load run; ids from `base` up when given."""
    storage = get_storage()

    def ids(offset: int) -> dict[str, int]:
        return {} if base is None else {"id": base + offset}

    dataset = make_dataset(session, designation=designation, storage_prefix=designation,
                           description=f"{tag} data", **ids(0))
    scanner = make_scanner(session, dataset=dataset, manufacturer=f"{tag.title()}Maker",
                           model=f"{tag}-model", serial=f"{tag}-serial", **ids(1))
    subject = make_subject(session, dataset=dataset, external_id=f"{tag}-sub", **ids(2))
    visit = make_visit(session, subject=subject, external_id=f"{tag}-visit", **ids(3))
    content = f"{tag}-image-bytes".encode()
    image = make_image(session, subject=subject, visit=visit, scanner=scanner,
                       path=f"{designation}/{tag}-sub/{tag}_T1w.nii.gz",
                       checksum=sha256_of(content), file_size=len(content), **ids(4))
    storage.put(image.path, content)
    output = f"derived/mask/image-{image.id}/{tag}-mask.nii.gz"
    storage.put(output, content)
    record = with_id({
        "module": {"name": "mask", "version": "1"}, "container": None, "user": f"{tag}@h",
        "start_time": "2026-12-01T12:00:00+00:00", "duration": 1,
        "inputs": [{"key": image.path, "sha256": sha256_of(content)}],
        "outputs": [{"key": output, "sha256": sha256_of(content)}], "parameters": {},
        "command": f"{tag} mask"})
    write_prov_objects(storage, record)
    # File types are one vocabulary shared by every dataset.
    file_type = session.scalar(select(FileType).where(FileType.designation == "brain_mask")) \
        or make_file_type(session, designation="brain_mask")
    derived = make_derived_file(session, image=image, path=output, checksum=sha256_of(content),
                                file_type=file_type, provenance=record,
                                provenance_id=record["id"])
    make_load_run(session, dataset_id=dataset.id, loader=f"load {designation}",
                  status="failed", error=f"{tag} error")
    # Measures are one vocabulary shared by every dataset; BSECRET's value looks like its ids
    # (7,300,005), so that a value shown to ALPHA's key (a column, a distribution) is found.
    score = session.scalar(select(Measure).where(Measure.designation == "SCORE")) \
        or make_measure(session, designation="SCORE", kind=MeasureKind.NUMBER)
    make_assessment(session, visit=visit, measure=score,
                    value=float(base + 5) if base is not None else 5.0)
    session.commit()
    return {"dataset": dataset, "subject": subject, "visit": visit, "image": image,
            "derived": derived, "content": content}


def side_of(rows: dict[str, Any], cohort_id: int, claim_id: int, lease_token: str) -> Side:
    return Side({"designation": rows["dataset"].designation,
                 "dataset_id": rows["dataset"].id, "subject_id": rows["subject"].id,
                 "visit_id": rows["visit"].id, "image_id": rows["image"].id,
                 "derived_id": rows["derived"].id, "cohort_id": cohort_id,
                 "claim_id": claim_id, "name": "out.nii.gz"}, lease_token)


def build_alpha(session, client) -> Scene:
    """ALPHA's rows, and a QC review, cohort and claim of its key (with every scope)."""
    rows = dataset_rows(session, "ALPHA", "a", None)
    _, a_token = make_api_key(session, name="alpha-every-scope", scopes=list(Scope),
                              datasets=[rows["dataset"]])
    session.commit()
    alpha_key = bearer(a_token)
    image_id = rows["image"].id
    ok(client.put(f"{API}/images/{image_id}/qc", headers=alpha_key,
                  json={"action": "flag", "comment": "a-comment"}), 200)
    cohort = ok(client.post(f"{API}/cohorts", headers=alpha_key, json={
        "name": "a-cohort", "query": {}}), 201).get_json()["id"]
    claim = ok(client.post(f"{API}/claims", headers=alpha_key, json={
        "task": "seg", "worker": "a-worker"}), 200).get_json()["items"][0]
    alpha = side_of(rows, cohort, claim["claim_id"], claim["lease_token"])
    missing = Side({name: MISSING_ID for name in alpha.ids}
                   | {"name": "out.nii.gz", "designation": "NOSUCHSET"}, "b" * 32)
    return Scene(alpha, Side(), missing, alpha_key,
                 {"key": rows["image"].path, "sha256": sha256_of(rows["content"])})


def add_bsecret(session, client, scene: Scene) -> None:
    """BSECRET's rows, and what other keys did with them: downloads, an export naming it, a QC
    review, a cohort and its zip, a preview, a claim held by another worker."""
    rows = dataset_rows(session, "BSECRET", "bsecret", B_BASE)
    _, root_token = make_api_key(session, name="root-of-all", scopes=list(Scope))
    _, b_token = make_api_key(session, name="bsecret-key", scopes=list(Scope),
                              datasets=[rows["dataset"]])
    session.add(Claim(task="mask", subject_id=rows["subject"].id, image_id=rows["image"].id,
                      state=ClaimState.LEASED, worker="bsecret-worker", lease_token="b" * 32,
                      leased_at=utcnow(), lease_expires_at=utcnow() + timedelta(hours=1),
                      attempts=1))
    session.commit()
    claim_id = session.scalar(select(Claim.id).where(Claim.worker == "bsecret-worker"))
    root, image_id = bearer(root_token), rows["image"].id
    ok(client.get(f"{API}/images/{image_id}/download", headers=bearer(b_token)), 200, 302)
    ok(client.get(f"{API}/subjects", headers=root, query_string={
        "format": "csv", "dataset": ["ALPHA", "BSECRET"]}), 200).get_data()
    ok(client.put(f"{API}/images/{image_id}/qc", headers=root,
                  json={"action": "flag", "comment": "bsecret-comment"}), 200)
    cohort = ok(client.post(f"{API}/cohorts", headers=root, json={
        "name": "bsecret-cohort", "query": {"dataset": "BSECRET"}}), 201).get_json()["id"]
    ok(client.get(f"{API}/cohorts/{cohort}/download", headers=root), 200).get_data()  # zip, URLs
    ok(client.get(f"{API}/images/{image_id}/preview.png", headers=root), 422)
    scene.beta = side_of(rows, cohort, claim_id, "b" * 32)


def body_of(method: str, path: str, scene: Scene, side: Side) -> dict[str, Any] | None:
    """The request body of a write operation (None: the operation takes none)."""
    token = side.lease_token
    record = {"module": {"name": "seg", "version": "1"}, "container": None, "user": "a@h",
              "start_time": "2026-12-01T12:00:00+00:00", "duration": 1,
              "inputs": [scene.alpha_input], "outputs": [], "parameters": {}, "command": "seg"}
    bodies = {
        ("post", "/cohorts"): {"json": {"name": "probe", "query": {}}},
        ("delete", "/cohorts/{cohort_id}"): {},
        ("put", "/images/{image_id}/qc"): {"json": {"action": "sign_off"}},
        ("post", "/claims"): {"json": {"task": "probe", "worker": "probe", "limit": 1000}},
        ("post", "/claims/{claim_id}/renew"): {"json": {"lease_token": token}},
        ("put", "/claims/{claim_id}/files/{name}"): {
            "data": b"probe", "headers": {"X-Lease-Token": token,
                                          "Content-Type": "application/octet-stream"}},
        ("post", "/claims/{claim_id}/complete"): {"json": {
            "lease_token": token, "outputs": [], "provenance": record}},
        ("post", "/claims/{claim_id}/fail"): {"json": {"lease_token": token, "error": "x"}},
    }
    if method == "get":
        return {}
    return bodies.get((method, path.removeprefix(API)))


def readable_text(response) -> str:
    """Everything a response tells: headers, and its body as text (zip entries and Parquet
    rows decoded; PNG bytes are a picture, not text)."""
    headers = [f"{name}: {value}" for name, value in response.headers.items()]
    return "\n".join([*headers, content_of(response)])


def content_of(response) -> str:
    """A response's body as text: zip entries and Parquet rows decoded; a PNG as its digest;
    presigned URLs without their signature and time (new at every request)."""
    parts = [PRESIGNED.sub("?<signed>", response.headers.get("Location", ""))]
    data = response.get_data()
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                parts += [info.filename, archive.read(info).decode("utf-8", "replace")]
    elif "parquet" in response.mimetype:
        parts.append(str(pq.read_table(io.BytesIO(data)).to_pylist()))
    elif response.mimetype == "image/png":
        parts.append(sha256_of(data))
    else:
        parts.append(PRESIGNED.sub("?<signed>", data.decode("utf-8", "replace")))
    return "\n".join(parts)


def operations(client) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every operation of the OpenAPI document; the
    deletions last, so that the others find the rows they delete."""
    document = ok(client.get(f"{API}/openapi.json"), 200).get_json()
    found = [(method, path, operation) for path, item in document["paths"].items()
             for method, operation in item.items()
             if method in ("get", "put", "post", "delete", "patch")]
    return sorted(found, key=lambda found_op: found_op[0] == "delete")


def shaping_queries(operation: dict[str, Any]) -> list[dict[str, str]]:
    """One query per value of each parameter that shapes the answer (format=csv, ...)."""
    queries = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] in SHAPING:
            values = SHAPING[parameter["name"]] or parameter.get("schema", {}).get("enum", [])
            queries += [{parameter["name"]: value} for value in values]
    return queries


def read(client, scene: Scene, template: str, query: dict[str, str]) -> tuple[int, str]:
    """GET an operation with ALPHA's ids as ALPHA's key: (status, body as text)."""
    path = template
    for name, value in scene.alpha.ids.items():
        path = path.replace(f"{{{name}}}", str(value))
    response = client.get(path, query_string=query, headers=scene.alpha_key)
    return response.status_code, content_of(response)


def test_a_key_of_alpha_reads_nothing_of_bsecret_in_any_operation(client, session):
    scene = build_alpha(session, client)
    ops = operations(client)
    # Every read, as ALPHA's key, before BSECRET exists and after: the same answers. So no
    # count, total, statistic or list of ALPHA's key changes with BSECRET's rows. The audit
    # log is left out here (these reads add exports to it); it is read below.
    reads = [(template, query) for method, template, operation in ops
             if method == "get" and template != f"{API}/audit"
             for query in [{}, *shaping_queries(operation)]]
    before = [read(client, scene, template, query) for template, query in reads]
    add_bsecret(session, client, scene)
    after = [read(client, scene, template, query) for template, query in reads]
    changed = [f"GET {template} {query}: {one[0]} {one[1][:300]!r} became {two[0]} "
               f"{two[1][:300]!r}"
               for (template, query), one, two in zip(reads, before, after, strict=True)
               if one != two]
    assert changed == [], "\n".join(changed)

    problems: list[str] = []
    calls = 0

    def call(method, template, side, query=None, echoed=()):
        """Call an operation as ALPHA's key; note a 5xx, and any BSECRET value the response
        shows besides those the request itself sent (`echoed`: an unknown name or id is
        named in the error; `same` checks that the answer is the one of a missing value)."""
        nonlocal calls
        calls += 1
        body = body_of(method, template, scene, side)
        path = template
        for name, value in side.ids.items():
            path = path.replace(f"{{{name}}}", str(value))
        extra = dict(body or {})
        headers = {**scene.alpha_key, **extra.pop("headers", {})}
        response = getattr(client, method)(path, query_string=query or {}, headers=headers,
                                           **extra)
        text = readable_text(response)
        for value in echoed:
            text = text.replace(value, "<sent>")
        where = f"{method.upper()} {path} {query or ''}"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
        leak = LEAK.search(text)
        if leak:
            problems.append(f"{where}: shows {leak.group()!r}: "
                            f"{text[max(0, leak.start() - 80):leak.end() + 80]!r}")
        return response, text

    def same(first, second, what: str, replacements: list[tuple[str, str]]) -> None:
        (one, _), (two, _) = first, second
        body_one = one.get_data(as_text=True)
        for old, new in replacements:
            body_one = body_one.replace(old, new)
        if (one.status_code, body_one) != (two.status_code, two.get_data(as_text=True)):
            problems.append(f"{what}: {one.status_code} {body_one[:200]!r} differs from "
                            f"{two.status_code} {two.get_data(as_text=True)[:200]!r}")

    def call_with_body(path: str, dataset: str):
        response = client.post(path, headers=scene.alpha_key,
                               json={"name": "probe", "query": {"dataset": dataset}})
        if response.status_code >= 500:
            problems.append(f"POST {path} naming {dataset}: {response.status_code}")
        return response, ""

    assert len(ops) >= 36
    for method, template, operation in ops:
        where = f"{method.upper()} {template}"
        path_names = re.findall(r"{(\w+)}", template)
        unknown = [name for name in path_names if name not in scene.alpha.ids]
        if unknown:
            problems.append(f"{where}: no value for path parameter(s) {unknown}")
            continue
        if body_of(method, template, scene, scene.alpha) is None:
            problems.append(f"{where}: no request body known for this write operation")
            continue
        if path_names:
            # BSECRET's ids answer exactly as missing ids; ALPHA's are served.
            sent = [str(scene.beta.ids[name]) for name in path_names]
            same(call(method, template, scene.beta, echoed=sent),
                 call(method, template, scene.missing), f"{where} with ids of BSECRET",
                 [(str(scene.beta.ids[name]), str(scene.missing.ids[name]))
                  for name in path_names])
            call(method, template, scene.alpha)
        else:
            call(method, template, scene.alpha)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            if name in NAMING:
                named, nothing = NAMING[name]
                same(call(method, template, scene.alpha, {name: named}, echoed=[named]),
                     call(method, template, scene.alpha, {name: nothing}),
                     f"{where} with {name}={named}", [(named, nothing)])
            elif name in SHAPING:
                for query in shaping_queries({"parameters": [parameter]}):
                    call(method, template, scene.alpha, query)
            elif name not in FILTERS:
                problems.append(f"{where}: query parameter {name!r} is not classified "
                                "(naming rows, shaping the answer, or filtering values)")
    # A cohort's query names datasets in the body.
    cohorts = f"{API}/cohorts"
    same(call_with_body(cohorts, "BSECRET"), call_with_body(cohorts, "NOSUCHSET"),
         "POST /cohorts naming BSECRET", [("BSECRET", "NOSUCHSET")])
    # The whole log, read last, holds what every call above did, and still nothing of BSECRET.
    call("get", f"{API}/audit", scene.alpha, {"per_page": 1000})
    assert problems == [], "\n".join(problems)
    assert calls > 100
