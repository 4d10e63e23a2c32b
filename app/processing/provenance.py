"""Provenance records of derived files (after RADIFOX): what made a file, from what, and how.

A record says which module and version ran, in which container (from environment labels when
present), as which user on which host, when and for how long, on which inputs and producing
which outputs (object keys with their SHA-256), with which parameters and command line. Its id
is the SHA-256 of its canonical content (the record without its id, as JSON with sorted keys and
no spaces), so anyone can check that a record is unchanged; and a `.prov` object beside each
output in storage carries the record, so the file's origin travels with it. Verifying a record
re-hashes every input and output object and compares.

A record may only name objects of datasets its key may write (`check_inputs`): a valid key
(app/storage/keys.py) that is an image's file or folder, a derived file, lies under a claim's
output prefix or under a dataset's storage prefix, and whose every such dataset is the key's.
Verifying re-hashes only the objects the reading key may see (`readable_keys`); the others are
reported unchecked, the same whether they exist or not.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Dataset, Image, PreprocessTaskFile, Subject
from app.storage import ObjectNotFound, Storage, check_key
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


# The output prefix of a claim (app/processing/outputs.py derived_prefix): whose files they are.
_DERIVED = re.compile(r"derived/[^/]+/(image|subject)-(\d+)/")


def owning_datasets(session: Session, key: str) -> set[int]:
    """Return the ids of the datasets whose object `key` is (none: it is no dataset's).

    A key is a dataset's when it is the file (or lies in the folder) of one of its images or
    derived files, lies under the output prefix of a claim on one of its images or subjects,
    or under its storage prefix. Read on the connection, past the visibility hook: the point
    is to find the datasets the request's key may not see.
    """
    if check_key(key) is not None:
        return set()
    parts = key.split("/")
    paths = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    images, derived, subjects = Image.__table__, PreprocessTaskFile.__table__, Subject.__table__
    connection = session.connection()
    owners = set(connection.scalars(select(images.c.dataset_id).where(images.c.path.in_(paths))))
    owners |= set(connection.scalars(
        select(images.c.dataset_id).join(derived, derived.c.image_id == images.c.id)
        .where(derived.c.path.in_(paths))))
    claimed = _DERIVED.match(key)
    if claimed:
        table = images if claimed[1] == "image" else subjects
        owners |= set(connection.scalars(select(table.c.dataset_id)
                                         .where(table.c.id == int(claimed[2]))))
    datasets = Dataset.__table__
    for dataset_id, designation, storage_prefix in connection.execute(
            select(datasets.c.id, datasets.c.designation, datasets.c.storage_prefix)):
        prefix = (storage_prefix or designation).strip("/")
        if prefix and (key == prefix or key.startswith(prefix + "/")):
            owners.add(dataset_id)
    return owners


def readable_keys(session: Session,
                  visible: Collection[int] | None) -> Callable[[str], bool]:
    """Return a test of whether a key (seeing the datasets `visible`, None: all) may name or
    read the object `key`: it is some dataset's, and only of datasets it sees."""
    def readable(key: str) -> bool:
        owners = owning_datasets(session, key) if isinstance(key, str) else set()
        return bool(owners) and (visible is None or owners <= set(visible))

    return readable


def check_inputs(session: Session, record: Mapping[str, Any],
                 writable: Collection[int] | None) -> None:
    """Refuse (ProvenanceError) a record whose inputs name an object that is not of a dataset
    of `writable` (None: every dataset). One message for an object of another dataset and for
    no object at all, so the answer tells nothing of other datasets."""
    readable = readable_keys(session, writable)
    for item in record["inputs"]:
        if not readable(item["key"]):
            raise ProvenanceError(f"provenance record: input {str(item['key'])[:200]!r} is not "
                                  "an object of a dataset this key may write")


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


def verify(storage: Storage, record: Mapping[str, Any],
           readable: Callable[[str], bool] = lambda _key: True) -> dict[str, Any]:
    """Re-hash the record's objects and say whether everything still matches.

    Returns {"valid", "id", "id_matches", "files": [{role, key, expected, actual, matches,
    checked}], "prov_objects": [{key, matches}]}: the id must re-compute from the content, every
    input and output must hash to what the record says, and every `.prov` object must hold this
    record. Objects that `readable` refuses (not the reader's, or not valid keys) are not read:
    unchecked, with a null `actual`, and the record is not valid.
    """
    files = []
    for role in ("inputs", "outputs"):
        for item in record.get(role, []):
            checked = readable(item["key"])
            actual = rehash(storage, item["key"]) if checked else None
            files.append({"role": role[:-1], "key": item["key"], "expected": item["sha256"],
                          "actual": actual, "matches": checked and actual == item["sha256"],
                          "checked": checked})
    expected_prov = canonical_bytes(with_id(record))
    prov_objects = []
    for item in record.get("outputs", []):
        key = prov_key(item["key"])
        try:
            matches = readable(item["key"]) and storage.read(key) == expected_prov
        except ObjectNotFound:
            matches = False
        prov_objects.append({"key": key, "matches": matches})
    id_matches = record.get("id") == record_id(record)
    valid = (id_matches and all(item["matches"] for item in files)
             and all(item["matches"] for item in prov_objects))
    return {"valid": valid, "id": record.get("id"), "id_matches": id_matches, "files": files,
            "prov_objects": prov_objects}
