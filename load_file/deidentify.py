"""De-identified copies of DICOM files for upload (DICOM PS3.15 Annex E, Basic Profile).

The attribute table is the standard's own, as the `dicom-anonymizer` package carries it
(edition 2026c: 655 attributes with their actions D, Z, X, U and the combined ones), not a
hand-typed list. Every dataset and every item of every sequence is cleaned the same way:

- X removes, Z empties, D puts a dummy value, U replaces a UID; a combined action removes
  when it may (X/Z, X/D, X/Z/D), else empties (Z/D), and keeps a sequence of references
  (X/Z/U*) with its UIDs replaced;
- the options applied, as DeidentificationMethodCodeSequence records them: Retain Patient
  Characteristics (K: age, sex, size and weight stay), Retain Longitudinal Temporal Information
  with Modified Dates (C: every date kept moves back by a fixed number of days per patient, so
  intervals survive; times follow the table) and, for SeriesDescription and ProtocolName only,
  Clean Descriptors (C: kept, since rules type series by them, with the patient's name parts and
  birth date redacted);
- PatientID and PatientName become the keyed pseudonym of the PatientID (the one `flask
  load-dicom` stores for an id not declared a research id); any other person name is emptied;
- every UID that is not a standard one (classes, syntaxes) becomes a `2.25.` UID derived from
  it with the deployment secret, so the same UID gets the same replacement in every file;
- private attributes go; the text kept (not in the table) is checked for the patient's name;
- PatientIdentityRemoved is YES and DeidentificationMethod (with its code sequence) says how.

Pixel data are copied as they are: text burned into the pixels is not removed. File and folder
names are kept, so they must not carry identity either.
"""
from __future__ import annotations

import gzip
import hashlib
import hmac
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import click
from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from app.storage import Storage, StorageError
from load_db.dicom.headers import NOT_DICOM, HeaderProblem, read_whole
from load_db.dicom.identity import parse_date, pseudonym
from load_db.dicom.redact import Redactor, redactor
from load_db.dicom.secret import SecretError, deployment_secret
from load_file.upload import UploadReport, upload_tree

# The edition of PS3.15 Table E.1-1 that dicom-anonymizer carries, and its categories.
TABLE_EDITION = "dicomfields_2026c"
CATEGORIES = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D",
              "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D",
              "X_Z_U_STAR_TAGS": "X/Z/U*"}
# What a combined action does here (the standard lets the IOD's attribute type decide):
# remove when allowed, else empty; a date that may be kept is shifted instead (option C).
COMBINED = {"Z/D": "Z", "X/Z": "X", "X/D": "X", "X/Z/D": "X", "X/Z/U*": "U*"}
# Retain Patient Characteristics Option (K).
RETAINED = frozenset({"PatientAge", "PatientSex", "PatientSize", "PatientWeight"})
# Clean Descriptors Option (C), for the descriptors the loader types series by.
CLEANED = frozenset({"SeriesDescription", "ProtocolName"})
TEXT_VRS = frozenset({"AE", "AS", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})
# Kept text checked for the patient's name (codes, CS, are left as they are).
FREE_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
NUMBER_VRS = frozenset({"DS", "IS", "FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "AT"})
DUMMY_TEXT = "ANONYMIZED"
DUMMY_TIME = "000000.00"
DUMMY_AGE = "000Y"  # what consoles write for an unknown age
MAX_DATE_SHIFT_DAYS = 3650
# DeidentificationMethod is an LO (64 characters at most); the code sequence says it in full.
METHOD = "PS3.15 Basic Profile; Retain Patient Chars; Modified Dates"
# DCM codes of the profile and options applied (PS3.16 CID 7050).
METHOD_CODES = (("113100", "Basic Application Confidentiality Profile"),
                ("113105", "Clean Descriptors Option"),
                ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
                ("113108", "Retain Patient Characteristics Option"))


def _profile() -> tuple[dict[int, str], list[tuple[int, int, int, int, str]]]:
    """The table as {tag: action}, and the repeating groups (50xx, 60xx) with their masks."""
    table = dicom_anonymization_database_selector(TABLE_EDITION)
    exact, masked = {}, []
    for category, action in CATEGORIES.items():
        for entry in table[category]:
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                group, element, group_mask, element_mask = entry
                masked.append((group, element, group_mask, element_mask, action))
    return exact, masked


PROFILE, REPEATING = _profile()


def profile_action(tag: int) -> str | None:
    """The Basic Profile's action for `tag` (e.g. "X", "Z/D"), or None when not in the table."""
    if tag in PROFILE:
        return PROFILE[tag]
    group, element = tag >> 16, tag & 0xFFFF
    for base_group, base_element, group_mask, element_mask, action in REPEATING:
        if group & group_mask == base_group & group_mask and \
                element & element_mask == base_element & element_mask:
            return action
    return None


def _digest(secret: bytes, purpose: bytes, value: str) -> bytes:
    # One key, separate purposes: a UID's or date shift's HMAC never equals a pseudonym's.
    return hmac.new(secret, purpose + b"\0" + value.strip().encode(), hashlib.sha256).digest()


def new_uid(uid: str, secret: bytes) -> str:
    """The replacement of `uid`: a `2.25.` UID from a keyed hash, the same every time."""
    return f"2.25.{int.from_bytes(_digest(secret, b'uid', uid)[:16], 'big')}"


def date_shift(patient_id: str, secret: bytes) -> timedelta:
    """How far back a patient's dates move: 1 to 3650 days, fixed per patient."""
    digest = _digest(secret, b"date-shift", patient_id)
    return timedelta(days=1 + int.from_bytes(digest[:4], "big") % MAX_DATE_SHIFT_DAYS)


def _shift_date(text: str, shift: timedelta) -> str:
    """A DA or DT value moved back by `shift`, as a date (a DT's time of day is dropped)."""
    moved = parse_date(text.strip()[:8])
    if moved is None or moved <= date.min + shift:
        return ""
    moved -= shift
    return f"{moved.year:04d}{moved.month:02d}{moved.day:02d}"  # strftime drops year zeros


def _standard(uid: str) -> bool:
    """A UID of the standard (a SOP class, a transfer syntax), not of an instance."""
    return UID(uid).name != uid


@dataclass
class _Context:
    """What cleaning one file needs: the secret, the patient's shift, pseudonym, redactor."""

    secret: bytes
    shift: timedelta
    subject: str
    who: Redactor


def _values(element: DataElement) -> list:
    return list(element.value) if element.VM > 1 else [element.value]


def _set(element: DataElement, values: list) -> None:
    element.value = values if len(values) > 1 else values[0]


def _empty(element: DataElement) -> None:
    if element.VR == "SQ":
        element.value = Sequence([])
    elif element.VR in TEXT_VRS or element.VR in ("DA", "DT", "TM", "UI", "PN"):
        element.value = ""
    elif element.VR in NUMBER_VRS:
        element.value = None
    else:
        element.value = b""


def _dummy(element: DataElement, context: _Context) -> None:
    if element.VR in ("DA", "DT"):  # only reached for an empty date
        element.value = ""
    elif element.VR == "TM":
        element.value = DUMMY_TIME
    elif element.VR == "AS":
        element.value = DUMMY_AGE
    elif element.VR == "UI":
        _set(element, [new_uid(str(value), context.secret) for value in _values(element)])
    elif element.VR in TEXT_VRS:
        element.value = DUMMY_TEXT
    elif element.VR in NUMBER_VRS:
        element.value = 0
    else:
        _empty(element)


def _apply(dataset: Dataset, element: DataElement, context: _Context, top: bool) -> None:
    """Apply the profile (with the options) to one element of `dataset`."""
    keyword, vr = element.keyword, element.VR
    action = profile_action(element.tag)
    if keyword in ("PatientID", "PatientName"):
        # Top level: the subject's pseudonym; in a sequence (another patient, a reference),
        # a pseudonym of that id and no name.
        if top:
            element.value = context.subject
        elif keyword == "PatientID" and element.value:
            element.value = pseudonym(str(element.value), context.secret)
        else:
            element.value = ""
        return
    if keyword in RETAINED:
        return
    if keyword == "PatientBirthDate":
        element.value = ""
        return
    if keyword in CLEANED:
        element.value = context.who.redact(str(element.value or ""))[0]
        return
    if vr in ("DA", "DT") and element.value and action != "X":
        _set(element, [_shift_date(str(value), context.shift) for value in _values(element)])
        return
    action = COMBINED.get(action, action)
    if action == "X":
        del dataset[element.tag]
        return
    if vr == "SQ":
        if action in ("Z", "D"):
            element.value = Sequence([])
        else:  # not in the table, or U* (references): clean the items
            for item in element.value:
                _clean(item, context, top=False)
        return
    if action == "Z":
        _empty(element)
    elif action == "D":
        _dummy(element, context)
    elif vr == "UI" and element.value:
        _set(element, [value if _standard(str(value)) else new_uid(str(value), context.secret)
                       for value in _values(element)])
    elif action == "U*":
        _empty(element)
    elif vr == "PN" and element.value:
        element.value = ""  # every person name, wherever it is
    elif vr in FREE_TEXT_VRS and isinstance(element.value, str):
        element.value = context.who.redact(element.value)[0]


def _clean(dataset: Dataset, context: _Context, top: bool) -> None:
    """Apply the profile to one dataset and, recursively, to its sequences' items."""
    for element in list(dataset):
        _apply(dataset, element, context, top)


def deidentify(dataset: Dataset, secret: bytes | None = None) -> None:
    """De-identify `dataset` in place (see the module's description); `secret` defaults to
    the deployment's."""
    secret = secret or deployment_secret()
    patient = str(dataset.get("PatientID", "") or "")
    context = _Context(secret, date_shift(patient, secret),
                       pseudonym(patient, secret) if patient else "",
                       redactor(str(dataset.get("PatientName", "") or ""),
                                parse_date(dataset.get("PatientBirthDate"))))
    dataset.remove_private_tags()
    _clean(dataset, context, top=True)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and meta.get("MediaStorageSOPInstanceUID"):
        meta.MediaStorageSOPInstanceUID = new_uid(str(meta.MediaStorageSOPInstanceUID), secret)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    codes = []
    for value, meaning in METHOD_CODES:
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
        codes.append(code)
    dataset.DeidentificationMethodCodeSequence = Sequence(codes)
    dataset.LongitudinalTemporalInformationModified = "MODIFIED"


@dataclass
class DeidentifyReport:
    """Files de-identified, copied as they are (not DICOM), and those that failed."""

    deidentified: int = 0
    copied: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as `flask upload --deidentify --json` prints it."""
        return {"deidentified": self.deidentified, "copied": self.copied, "failed": self.failed}

    def summary(self) -> str:
        """Return the report as lines of text, each file not de-identified with its reason."""
        return "\n".join([f"de-identified: {self.deidentified}, copied as they are (not DICOM): "
                          f"{len(self.copied)}, failed: {len(self.failed)}"]
                         + [f"  not de-identified, not uploaded {path}: {reason}"
                            for path, reason in sorted(self.failed.items())])


def deidentify_file(source: Path, target: Path, secret: bytes | None = None) -> bool:
    """Write a de-identified copy of `source` to `target`; return False if it is not DICOM.

    A `.gz` file is read through gzip and written gzipped (deterministically: the same input
    gives the same bytes, so a re-run upload skips it).

    Raises
    ------
    HeaderProblem
        A DICOM file that is truncated, broken or a bad gzip.
    """
    try:
        dataset = read_whole(str(source))
    except HeaderProblem as problem:
        if problem.kind == NOT_DICOM:
            return False
        raise
    deidentify(dataset, secret)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.name.endswith(".gz"):
        dataset.save_as(target, enforce_file_format=True)
        return True
    with target.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out,
                                                 mtime=0) as packed:
        dataset.save_as(packed, enforce_file_format=True)
    return True


def deidentify_tree(source_dir: Path, target_dir: Path,
                    secret: bytes | None = None) -> DeidentifyReport:
    """Write de-identified copies of every DICOM file of `source_dir` under `target_dir`.

    Other files are copied as they are; hidden files are left out (the upload leaves them out).
    """
    report = DeidentifyReport()
    for directory, folders, names in os.walk(source_dir):
        folders[:] = [folder for folder in folders if not folder.startswith(".")]
        for name in sorted(names):
            if name.startswith("."):
                continue
            source = Path(directory, name)
            relative = source.relative_to(source_dir)
            target = target_dir / relative
            try:
                if deidentify_file(source, target, secret):
                    report.deidentified += 1
                    continue
            except (HeaderProblem, OSError, ValueError, TypeError, AttributeError) as exc:
                report.failed[relative.as_posix()] = str(exc)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            report.copied.append(relative.as_posix())
    report.copied.sort()
    return report


@contextmanager
def deidentified_copies(source_dir: Path, workdir: str | Path | None = None
                        ) -> Iterator[tuple[Path, DeidentifyReport]]:
    """Yield a temporary folder holding de-identified copies of `source_dir`, then delete it."""
    with TemporaryDirectory(prefix="mbid-deid-", dir=workdir) as folder:
        copies = Path(folder)
        yield copies, deidentify_tree(Path(source_dir), copies, deployment_secret())


def upload_deidentified(storage: Storage, source_dir: Path, prefix: str, *, workers: int,
                        dry_run: bool) -> tuple[DeidentifyReport, UploadReport]:
    """`flask upload --deidentify`: de-identify `source_dir` into a temporary folder, upload it.

    Returns both reports (the command prints them, and exits 1 when a DICOM file could not be
    de-identified, so nothing of it was uploaded, or a file failed to upload).
    """
    try:
        deployment_secret()  # a secret that cannot be read stops before any copy is made
    except SecretError as exc:
        raise click.ClickException(str(exc)) from exc
    with deidentified_copies(source_dir) as (copies, deidentified):
        try:
            report = upload_tree(storage, copies, prefix, workers=workers, dry_run=dry_run)
        except (StorageError, OSError) as exc:
            raise click.ClickException(f"upload failed: {exc}") from exc
    return deidentified, report
