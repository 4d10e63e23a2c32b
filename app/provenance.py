"""Provenance records of derived files (after RADIFOX): what made a file, from what, and how.

A record says which module and version ran, in which container (from environment labels when
present), as which user on which host, when and for how long, on which inputs and producing
which outputs (object keys with their SHA-256), with which parameters and command line. Its id
is the SHA-256 of its canonical content (the record without its id, as JSON with sorted keys and
no spaces), so anyone can check that a record is unchanged; and a `.prov` object beside each
output in storage carries the record, so the file's origin travels with it. Verifying a record
re-hashes every input and output object and compares.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from app.storage import ObjectNotFound, Storage
from app.storage.base import CHUNK_SIZE

PROV_SUFFIX = ".prov"
# What a record holds besides its id, each a required field.
RECORD_FIELDS = ("module", "container", "user", "start_time", "duration", "inputs", "outputs",
                 "parameters", "command")


class ProvenanceError(ValueError):
    """A record is malformed, or does not describe the files it comes with."""


def body_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the record without its id: what the id is computed from."""
    return {name: value for name, value in record.items() if name != "id"}


def canonical_bytes(body: Mapping[str, Any]) -> bytes:
    """The canonical content: UTF-8 JSON with sorted keys and no insignificant spaces."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def record_id(record: Mapping[str, Any]) -> str:
    """Return the SHA-256 (hex) of the record's canonical content, its id field left out."""
    return hashlib.sha256(canonical_bytes(body_of(record))).hexdigest()


def with_id(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the record with its id set from its content."""
    return {"id": record_id(record), **body_of(record)}


def check_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """Check the record's shape (and its id, when it carries one); return it with its id.

    Raises ProvenanceError naming the first problem.
    """
    missing = [name for name in RECORD_FIELDS if name not in record]
    unknown = sorted(set(record) - set(RECORD_FIELDS) - {"id"})
    if missing or unknown:
        raise ProvenanceError(f"provenance record: missing {missing or 'nothing'}, unknown "
                              f"{unknown or 'nothing'}")
    for role in ("inputs", "outputs"):
        files = record[role]
        if not isinstance(files, list) or not all(
                isinstance(item, dict) and set(item) == {"key", "sha256"} for item in files):
            raise ProvenanceError(f"provenance record: {role} must be a list of "
                                  "{key, sha256} objects")
    try:
        computed = record_id(record)
    except (TypeError, ValueError) as exc:  # a lone surrogate fails to encode as UTF-8
        raise ProvenanceError(f"provenance record is not plain JSON: {exc}") from exc
    if "\\u0000" in canonical_bytes(body_of(record)).decode():
        raise ProvenanceError("provenance record must not contain NUL characters")
    if "id" in record and record["id"] != computed:
        raise ProvenanceError(f"provenance record id {record['id']} is not the SHA-256 of its "
                              f"content ({computed})")
    return {"id": computed, **body_of(record)}


def prov_key(output_key: str) -> str:
    """Return the key of the `.prov` object beside an output."""
    return output_key + PROV_SUFFIX


def write_prov_objects(storage: Storage, record: Mapping[str, Any]) -> list[str]:
    """Store the record (with its id) as a `.prov` object beside each of its outputs."""
    content = canonical_bytes(with_id(record))
    keys = [prov_key(output["key"]) for output in record["outputs"]]
    for key in keys:
        storage.put(key, content, content_type="application/json")
    return keys


def rehash(storage: Storage, key: str) -> str | None:
    """Return the SHA-256 of an object's bytes as stored now (None if it is missing).

    Reads the object: a checksum kept in metadata would not see a changed object.
    """
    digest = hashlib.sha256()
    try:
        with storage.open(key) as stream:
            for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                digest.update(chunk)
    except ObjectNotFound:
        return None
    return digest.hexdigest()


def verify(storage: Storage, record: Mapping[str, Any]) -> dict[str, Any]:
    """Re-hash the record's objects and say whether everything still matches.

    Returns {"valid", "id", "id_matches", "files": [{role, key, expected, actual, matches}],
    "prov_objects": [{key, matches}]}: the id must re-compute from the content, every input and
    output must hash to what the record says, and every `.prov` object must hold this record.
    """
    files = []
    for role in ("inputs", "outputs"):
        for item in record.get(role, []):
            actual = rehash(storage, item["key"])
            files.append({"role": role[:-1], "key": item["key"], "expected": item["sha256"],
                          "actual": actual, "matches": actual == item["sha256"]})
    expected_prov = canonical_bytes(with_id(record))
    prov_objects = []
    for item in record.get("outputs", []):
        key = prov_key(item["key"])
        try:
            matches = storage.read(key) == expected_prov
        except ObjectNotFound:
            matches = False
        prov_objects.append({"key": key, "matches": matches})
    id_matches = record.get("id") == record_id(record)
    valid = (id_matches and all(item["matches"] for item in files)
             and all(item["matches"] for item in prov_objects))
    return {"valid": valid, "id": record.get("id"), "id_matches": id_matches, "files": files,
            "prov_objects": prov_objects}
