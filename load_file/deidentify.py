"""De-identified copies of DICOM files for upload (DICOM PS3.15 Annex E, Basic Profile).

What a copy keeps and loses:

- patient identity: PatientID and PatientName become the subject's pseudonym (the one
  `flask load-dicom` would store), birth date and every other identifying patient attribute go;
  age, sex, size and weight stay (Retain Patient Characteristics Option);
- every person name (physicians, operators, ...) is emptied wherever it occurs, sequences too;
  institutions, addresses, stations, device serial numbers, accession numbers and study ids go;
- UIDs of instances, series, studies and frames of reference are replaced by `2.25.` UIDs
  derived from the originals, so the same UID gets the same replacement in every file and
  series still group;
- dates move by a fixed number of days per patient (Retain Longitudinal Temporal Information
  with Modified Dates Option): intervals between visits survive, calendar dates do not;
- private attributes and descriptions that may name the patient (StudyDescription, comments)
  go; SeriesDescription and ProtocolName stay, since they name the acquisition;
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

import click
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from app.storage import Storage, StorageError
from load_db.dicom.headers import NOT_DICOM, HeaderProblem, read_whole
from load_db.dicom.identity import DEFAULT_SECRET_ENV, pseudonym
from load_file.upload import upload_tree

# Identifying attributes removed outright (PS3.15 Table E.1-1, those of MR headers).
REMOVED = (
    "PatientBirthTime", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
    "PatientBirthName", "PatientMotherBirthName", "PatientAddress", "PatientTelephoneNumbers",
    "MilitaryRank", "BranchOfService", "MedicalRecordLocator", "EthnicGroup", "Occupation",
    "AdditionalPatientHistory", "PatientComments", "PatientReligiousPreference",
    "ResponsiblePerson", "ResponsibleOrganization", "PatientInsurancePlanCodeSequence",
    "CountryOfResidence", "RegionOfResidence", "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers", "ReferringPhysicianIdentificationSequence",
    "PerformingPhysicianIdentificationSequence", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "RequestingPhysician",
    "RequestingService", "ScheduledPerformingPhysicianName", "OperatorsName",
    "OperatorIdentificationSequence", "PerformingPhysicianName", "InstitutionName",
    "InstitutionAddress", "InstitutionalDepartmentName", "InstitutionCodeSequence",
    "StationName", "DeviceSerialNumber", "DeviceUID", "RequestAttributesSequence",
    "StudyDescription", "ImageComments", "RequestedProcedureDescription",
    "PerformedProcedureStepDescription", "PerformedProcedureStepID",
    "ScheduledProcedureStepDescription", "AdmittingDiagnosesDescription",
    "DerivationDescription", "PerformedLocation", "ScheduledStudyLocation",
    "CurrentPatientLocation", "ProtocolContextSequence", "ContentCreatorName",
    "ReferencedPatientSequence", "ReferencedStudySequence", "IssuerOfPatientID",
    "PersonName", "VerifyingObserverName", "VerifyingObserverSequence", "AuthorObserverSequence",
    "ParticipantSequence", "CustodialOrganizationSequence", "InstanceCreatorUID",
    "PerformedStationName", "PerformedStationAETitle", "PerformedStationNameCodeSequence",
    "ScheduledStationName", "ScheduledStationAETitle", "ScheduledStationNameCodeSequence",
    "RequestedProcedureID", "ScheduledProcedureStepID", "MedicalAlerts", "Allergies",
    "PlacerOrderNumberImagingServiceRequest", "FillerOrderNumberImagingServiceRequest",
    "PatientTransportArrangements", "SpecialNeeds", "VisitComments", "AdmissionID",
    # Structured report content may say anything: removed, as the Basic Profile asks.
    "ContentSequence",
)
# Type 2 attributes: kept, but empty.
EMPTIED = ("PatientBirthDate", "AccessionNumber", "StudyID", "ReferringPhysicianName")
# UIDs that name a standard class or syntax, not an instance: kept.
KEPT_UID_SUFFIXES = ("ClassUID", "TransferSyntaxUID", "CodingSchemeUID", "MappingResourceUID",
                     "ContextGroupExtensionCreatorUID", "PrivateInformationCreatorUID")
MAX_DATE_SHIFT_DAYS = 3650
# DeidentificationMethod is an LO (64 characters at most); the code sequence says it in full.
METHOD = "PS3.15 Basic Profile; Retain Patient Chars; Modified Dates"
# DCM codes of the profile and options applied (PS3.16 CID 7050).
METHOD_CODES = (("113100", "Basic Application Confidentiality Profile"),
                ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
                ("113108", "Retain Patient Characteristics Option"))


def new_uid(uid: str, secret: bytes | None) -> str:
    """The replacement of `uid`: a `2.25.` UID from a (keyed) hash, the same every time."""
    key = secret or b"mbid-db uid"
    digest = hmac.new(key, uid.strip().encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def date_shift(patient_id: str, secret: bytes | None) -> timedelta:
    """How far back a patient's dates move: 1 to 3650 days, fixed per patient."""
    key = secret or b"mbid-db dates"
    digest = hmac.new(key, patient_id.strip().encode(), hashlib.sha256).digest()
    return timedelta(days=1 + int.from_bytes(digest[:4], "big") % MAX_DATE_SHIFT_DAYS)


def _shift_date(text: str, shift: timedelta) -> str:
    text = text.strip()
    if len(text) < 8 or not text[:8].isdigit():
        return ""
    try:
        moved = date(int(text[:4]), int(text[4:6]), int(text[6:8])) - shift
    except ValueError:
        return ""
    return moved.strftime("%Y%m%d") + text[8:]


def _clean(dataset: Dataset, shift: timedelta, secret: bytes | None) -> None:
    """Apply the profile to one dataset and, recursively, to its sequences' items."""
    for keyword in REMOVED:
        if keyword in dataset:
            del dataset[keyword]
    for keyword in EMPTIED:
        if keyword in dataset:
            dataset[keyword].value = ""
    for element in list(dataset):
        if element.VR == "SQ":
            for item in element.value:
                _clean(item, shift, secret)
        elif element.VR == "PN" and element.keyword != "PatientName":
            element.value = ""
        elif element.VR == "UI" and element.value and not element.keyword.endswith(
                KEPT_UID_SUFFIXES):
            values = element.value if element.VM > 1 else [element.value]
            replaced = [new_uid(str(value), secret) for value in values]
            element.value = replaced if element.VM > 1 else replaced[0]
        elif element.VR in ("DA", "DT") and element.value and element.keyword != \
                "PatientBirthDate":
            values = element.value if element.VM > 1 else [element.value]
            moved = [_shift_date(str(value), shift) for value in values]
            element.value = moved if element.VM > 1 else moved[0]


def deidentify(dataset: Dataset, secret: bytes | None = None) -> None:
    """De-identify `dataset` in place (see the module's description)."""
    patient = str(dataset.get("PatientID", "") or "")
    shift = date_shift(patient, secret)
    dataset.remove_private_tags()
    _clean(dataset, shift, secret)
    meta = getattr(dataset, "file_meta", None)
    if meta is not None and meta.get("MediaStorageSOPInstanceUID"):
        meta.MediaStorageSOPInstanceUID = new_uid(str(meta.MediaStorageSOPInstanceUID), secret)
    subject = pseudonym(patient, secret) if patient else ""
    dataset.PatientID = subject
    dataset.PatientName = subject
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


def secret_from_environment(variable: str = DEFAULT_SECRET_ENV) -> bytes | None:
    """The pseudonym secret, when the environment holds one."""
    value = os.environ.get(variable)
    return value.encode() if value else None


@contextmanager
def deidentified_copies(source_dir: Path, workdir: str | Path | None = None
                        ) -> Iterator[tuple[Path, DeidentifyReport]]:
    """Yield a temporary folder holding de-identified copies of `source_dir`, then delete it."""
    with TemporaryDirectory(prefix="mbid-deid-", dir=workdir) as folder:
        copies = Path(folder)
        yield copies, deidentify_tree(Path(source_dir), copies, secret_from_environment())


def upload_deidentified(storage: Storage, source_dir: Path, prefix: str, *, workers: int,
                        dry_run: bool) -> None:
    """`flask upload --deidentify`: de-identify `source_dir` into a temporary folder, upload it.

    Prints both reports; exits 1 when a DICOM file could not be de-identified (nothing of it is
    uploaded) or a file failed to upload.
    """
    with deidentified_copies(source_dir) as (copies, deidentified):
        try:
            report = upload_tree(storage, copies, prefix, workers=workers, dry_run=dry_run)
        except (StorageError, OSError) as exc:
            raise click.ClickException(f"upload failed: {exc}") from exc
    click.echo(f"de-identified: {deidentified.deidentified}, copied as they are (not DICOM): "
               f"{len(deidentified.copied)}, failed: {len(deidentified.failed)}")
    for path, reason in sorted(deidentified.failed.items()):
        click.echo(f"  not de-identified, not uploaded {path}: {reason}")
    click.echo(report.summary())
    if deidentified.failed or not report.ok:
        raise click.exceptions.Exit(1)
