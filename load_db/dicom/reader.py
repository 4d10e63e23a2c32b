"""Turn a folder of DICOM files into the engine's canonical frames: series, types, subjects.

Files are grouped by SeriesInstanceUID; a series mixing image types, echoes or magnitude and
phase, or classic and enhanced files, is split into one part per combination. Each part is typed
by the rules; a stored part becomes one image row whose path names it (its folder, plus `#...`
when a folder holds several series or parts) and whose files are exactly the part's own
(`DicomFrames.image_files`). Subjects and visits come from the subject rule and the studies.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from pydicom.uid import UID

from app.storage.trees import FileTree, LocalTree, skipped_entries
from load_db.dicom.headers import (
    NOT_DICOM,
    FileHeader,
    HeaderProblem,
    compact,
)
from load_db.dicom.identity import (
    Session,
    SubjectIds,
    SubjectRule,
    field_strength,
    parse_age,
    parse_date,
    scanner_values,
    study_visit,
    subject_rule,
    to_sex,
)
from load_db.dicom.redact import redact_values, redactor
from load_db.dicom.rules import Decision, RuleSet, load_rules
from load_db.dicom.scan import default_workers, describe_parts, scan_files
from load_db.engine import DatasetFrames, LoadError, LoadReport
from load_db.engine.cells import printable
from load_db.engine.validation import RANGES, row_text_problem, without_nul

log = logging.getLogger(__name__)

NON_DICOM = "non-DICOM file skipped"
PATIENT_MISMATCH = "series whose files disagree on the patient"
REDACTED = "free text naming the patient or their birth date redacted ({})"
# Header values that are free text and reach the database (the scanner's names too).
FREE_TEXT_IDENTITY = ("Manufacturer", "ManufacturerModelName")
NO_SUBJECT = "series without a subject id"
PHANTOM = "phantom session, kept apart from participants"
UNSTORABLE = "series whose {column} the database cannot hold"
NUL_IN_HEADER = "NUL characters removed from the text values of a DICOM header"
IMPLAUSIBLE_AGE = "patient's age outside {low}..{high} years in the header: left unknown"
SERIES_COLUMNS = ("subject", "visit", "session", "site", "phantom", "path", "series_number",
                  "description", "tag", "reason", "stored")


@dataclass(kw_only=True)
class DicomFrames(DatasetFrames):
    """The frames of a DICOM folder, with `series`: every series seen, stored or not, with its
    study tag (or None and why), session and site: the inventory quality control judges."""

    series: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SERIES_COLUMNS))
    #: {image path: [(file path, size)]}: the files each stored image was built from, relative
    #: to the folder read, like the image paths (the loader adds the dataset's prefix).
    image_files: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
# The parts of a series, in the order they name a part.
# The form (classic files or one enhanced file) splits too: the same series may be stored both ways.
PART_KEYS = (("type", "image_type"), ("echo", "echo"), ("part", "component"),
             ("form", "sop_class"))


@dataclass
class Part:
    """One image candidate: the files of one series (or of one part of it)."""

    key: str                    # the image's path: its folder, with a '#...' suffix when needed
    files: list[FileHeader]
    folder: str
    facts: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)


def _problem(report: LoadReport, path: str, problem: HeaderProblem, strict: bool) -> None:
    if problem.kind == NOT_DICOM:
        report.ignore(NON_DICOM, path)
        return
    if strict:
        raise LoadError(str(problem), file=path)
    log.warning("left out: %s: %s", path, problem)
    report.ignore(f"unreadable DICOM file ({problem.kind})", path)


def _label(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", ".", value).strip(".") or "none"


def _part_label(attribute: str, value: str) -> str:
    if attribute == "sop_class":  # classic or enhanced files: named by the SOP class's name
        value = UID(value).name if value else value
    return _label(value)


def _parts(series: dict[str, list[FileHeader]], prefix: str) -> list[Part]:
    """Split every series into parts and give each its storage key.

    A part's key is the folder of its own first file (a series may sit in several folders,
    e.g. as classic files in one and as enhanced files in another), with `#...` naming the
    series when that folder holds several, and the part when the series has several. The key
    only names the image: the files it serves are the part's own (`Part.files`).
    """
    candidates: list[tuple[str, str, list[str], list[FileHeader]]] = []
    for uid, files in series.items():
        groups: dict[tuple[str, ...], list[FileHeader]] = defaultdict(list)
        for header in files:
            groups[tuple(getattr(header, attribute) for _, attribute in PART_KEYS)].append(header)
        varying = [i for i in range(len(PART_KEYS)) if len({k[i] for k in groups}) > 1]
        for combination, members in sorted(groups.items()):
            members = sorted(members, key=lambda h: h.path)
            parent = str(PurePosixPath(members[0].path).parent)
            names = [f"{PART_KEYS[i][0]}-{_part_label(PART_KEYS[i][1], combination[i])}"
                     for i in varying]
            candidates.append((uid, "" if parent == "." else parent, names, members))
    by_folder: dict[str, set[str]] = defaultdict(set)
    for uid, folder, _, _ in candidates:
        by_folder[folder].add(uid)
    parts = []
    for uid, folder, names, members in candidates:
        key = "/".join(piece for piece in (prefix.rstrip("/"), folder) if piece)
        if len(by_folder[folder]) > 1:
            names = [f"series-{hashlib.sha256(uid.encode()).hexdigest()[:8]}", *names]
        parts.append(Part(f"{key}#{'_'.join(names)}" if names else key, members, folder))
    return sorted(parts, key=lambda part: part.key)


def _derived(part: Part) -> dict[str, Any]:
    """Facts the rules use beyond the header's: name, volumes, sequence families."""
    facts = part.facts
    scanning = set(facts.get("ScanningSequence", []))
    variant = set(facts.get("SequenceVariant", []))
    sequence = f"{facts.get('SequenceName', '')} {facts.get('PulseSequenceName', '')}".lower()
    echo_pulse = str(facts.get("EchoPulseSequence", "")).upper()
    frames, files = facts.get("Frames", 1), len(part.files)
    if facts.get("Enhanced"):
        # Enhanced files: a file per volume (Siemens XA) unless the temporal positions say
        # that each file holds several volumes.
        positions = int(facts.get("TemporalPositions") or 1)
        volumes = positions if positions > files and frames * files % positions == 0 else files
        slices = max(round(frames * files / volumes), 1)
    else:
        slices = len({header.position for header in part.files}) or 1
        volumes = max(round(files * frames / slices), 1)
    return {
        "Name": f"{facts.get('SeriesDescription', '')} | {facts.get('ProtocolName', '')}",
        "NumberOfFiles": len(part.files),
        "Slices": slices,
        "Volumes": volumes,
        "EPI": ("EP" in scanning or "EPI" in facts.get("ImageType", [])
                or bool(re.search(r"(^|[\s*])ep", sequence))),
        "SpinEcho": "SE" in scanning or echo_pulse == "SPIN" or "epse" in sequence,
        "GradientEcho": "GR" in scanning or echo_pulse in ("GRADIENT", "MIXED"),
        "InversionPrepared": ("IR" in scanning or "MP" in variant
                              or str(facts.get("InversionRecovery", "")).upper() == "YES"
                              or (facts.get("InversionTime") or 0) > 0),
    }


STORED_FACTS = ("Modality", "SOPClassName", "SeriesDescription", "ProtocolName", "SeriesNumber",
                "ImageType", "FrameType", "SequenceName", "PulseSequenceName",
                "ScanningSequence", "SequenceVariant", "MRAcquisitionType", "EchoPulseSequence",
                "AcquisitionContrast", "ComplexImageComponent", "EchoNumbers", "RepetitionTime",
                "EchoTime", "InversionTime", "FlipAngle", "VoxelSize", "Matrix", "Frames",
                "Slices", "Volumes", "BValues", "PhaseEncodingDirection", "NumberOfFiles")


def read_dicom(root: Path | FileTree, *, storage_prefix: str = "", rules: RuleSet | None = None,
               workers: int | None = None, strict: bool = False) -> DicomFrames:
    """Read every DICOM header under `root` (never pixels) into subjects, visits and images.

    Parameters
    ----------
    root
        The folder to walk, or any FileTree (e.g. objects in storage); hidden files are left
        out.
    storage_prefix
        The dataset's key prefix in object storage, put in front of every image path.
    rules
        The rules typing series (default: load_db/dicom/rules/default.yaml only).
    workers
        Processes reading headers (default: the machine's cores).
    strict
        Stop at the first unreadable file or inconsistent series instead of reporting it.

    Raises
    ------
    LoadError
        With `strict`, naming the file at fault; always for a subject rule that cannot be used.
    """
    rules = rules or load_rules()
    who = subject_rule(rules.subject, rules.subject_file)
    workers = workers or default_workers()
    report = LoadReport()
    files = LocalTree(root) if isinstance(root, str | Path) else root
    paths = sorted((path, size) for path, size in files.files()
                   if not any(piece.startswith(".") for piece in path.split("/")))
    _skipped(files, report, strict)
    series: dict[str, list[FileHeader]] = defaultdict(list)
    for result in scan_files(files, paths, workers):
        if isinstance(result, FileHeader):
            series[result.series_uid].append(compact(result))
        else:
            _problem(report, result[0], result[1], strict)
    series = {uid: files for uid, files in series.items() if _one_patient(files, report, strict)}
    parts = _parts(series, storage_prefix)
    described = describe_parts(files, [([h.path for h in part.files],
                                        sorted({h.bvalue for h in part.files
                                                if h.bvalue is not None}))
                                       for part in parts], workers)
    kept = []
    for part, result in zip(parts, described, strict=True):
        if isinstance(result, tuple):
            _problem(report, result[0], result[1], strict)
            continue
        part.facts, part.identity = result["facts"], result["identity"]
        _drop_nul(part, report)
        _redact(part, report)
        _plausible_age(part, report)
        part.facts.update(_derived(part))
        kept.append(part)
    return _frames(kept, rules, who, report, strict)


def _skipped(files: FileTree, report: LoadReport, strict: bool) -> None:
    """Report what the listing left out (a name storage refuses, a symlink out of the root):
    with `strict`, stop at the first."""
    for path, reason in sorted(skipped_entries(files).items()):
        if strict:
            raise LoadError(f"not a file of the dataset: {reason}", file=printable(path))
        log.warning("left out: %r: %s", path, reason)
        report.ignore(reason, path)


def _one_patient(files: list[FileHeader], report: LoadReport, strict: bool) -> bool:
    """True when every file of a series names the same patient; else report it."""
    first = files[0]
    for header in files[1:]:
        if (header.patient_id, header.patient_name) != (first.patient_id, first.patient_name):
            if strict:
                raise LoadError(f"{PATIENT_MISMATCH}: this file's patient differs from that "
                                f"of {first.path}", file=header.path)
            log.warning("left out: series of %s: %s", header.path, PATIENT_MISMATCH)
            report.ignore(PATIENT_MISMATCH, header.path)
            return False
    return True


def _redact(part: Part, report: LoadReport) -> None:
    """Redact the patient's name parts and birth date from the part's free text (before the
    rules quote it), counting each attribute changed; the values themselves are not logged."""
    header = part.files[0]
    who = redactor(header.patient_name, parse_date(part.identity.get("PatientBirthDate")))
    part.facts, changed = redact_values(part.facts, who)
    texts = {key: part.identity.get(key, "") for key in FREE_TEXT_IDENTITY}
    texts, changed_identity = redact_values(texts, who)
    part.identity = {**part.identity, **texts}
    for keyword in changed + changed_identity:
        report.note(REDACTED.format(keyword), [part.key])


def _ids(part: Part, who: SubjectRule, report: LoadReport) -> SubjectIds:
    header = part.files[0]
    ids = who.ids(header.patient_id, header.patient_name, part.folder)
    if ids.note is not None:
        report.note(ids.note, [part.key])
    return ids


def _drop_nul(part: Part, report: LoadReport) -> None:
    """Remove NUL characters from the text values of a part's header (the engine's rule, so
    that SQLite and PostgreSQL store the same text), with a report line."""
    changed = False
    for values in (part.facts, part.identity):
        for key, value in values.items():
            values[key], removed = without_nul(value)
            changed |= removed
    if changed:
        report.note(NUL_IN_HEADER, [part.key])


def _plausible_age(part: Part, report: LoadReport) -> None:
    """Leave a header's age unknown when it is outside the range the engine accepts (a
    '999Y', a birth date in 1800), with a report line, rather than refuse the whole load."""
    identity = part.identity
    age = parse_age(identity["PatientAge"], identity["PatientBirthDate"], identity["StudyDate"])
    low, high = RANGES["age_at_baseline"]
    if age is not None and not low <= age <= high:
        identity["PatientAge"] = identity["PatientBirthDate"] = ""
        report.note(IMPLAUSIBLE_AGE.format(low=low, high=high), [part.key])


def _storable(part: Part, subject: str, visit: str, who: SubjectRule, report: LoadReport,
              strict: bool) -> bool:
    """True when the part's ids and scanner fit their columns; else report the series, left
    out (or, with `strict`, stop): one bad series does not refuse the whole load."""
    problem = row_text_problem("images", {
        "subject": subject, "visit": visit, "path": part.key,
        **scanner_values(part.identity, who.secret)})
    if problem is None:
        return True
    column, why = problem
    if strict:
        raise LoadError(why, file=part.files[0].path, column=column)
    log.warning("left out: series %s: %s: %s", part.key, column, why)
    report.ignore(UNSTORABLE.format(column=column), f"{part.key} ({why})")
    return False


def _series_row(part: Part, rules: RuleSet, session: Session, decision: Decision | None,
                subject: str | None = None, visit: str | None = None, *,
                pseudonymous: bool = False) -> dict[str, Any]:
    """One line of the inventory: the series, its session and its study tag."""
    tag, why = rules.tag(part.facts, session.site)
    # A participant's session is named by the convention only when its ids are stored as they
    # are; with pseudonyms (or no convention) by its visit id.
    name = session.name if session.phantom or (session.name and not pseudonymous) else visit
    number = part.facts.get("SeriesNumber")
    return {"subject": subject, "visit": visit, "session": name, "site": session.site,
            "phantom": session.phantom, "path": part.key,
            "series_number": int(number) if isinstance(number, int | float) else None,
            "description": str(part.facts.get("SeriesDescription") or ""),
            "tag": tag.name if tag is not None else None, "reason": why,
            "stored": decision is not None and decision.type is not None}


def _frames(parts: list[Part], rules: RuleSet, who: SubjectRule, report: LoadReport,
            strict: bool) -> DicomFrames:
    studies: dict[tuple[str, str], dict[str, Any]] = {}
    images, series = [], []
    image_files: dict[str, list[tuple[str, int]]] = {}
    for part in parts:
        header = part.files[0]
        session = who.session(header.patient_id, header.patient_name, part.folder)
        if session.phantom:
            report.ignore(PHANTOM, part.key)
            series.append(_series_row(part, rules, session, None))
            continue
        try:
            subject, visit, note = _ids(part, who, report)
        except ValueError as exc:
            if strict:
                raise LoadError(f"{NO_SUBJECT}: {exc}", file=header.path) from exc
            report.ignore(f"{NO_SUBJECT} ({exc})", part.key)
            continue
        visit = visit or study_visit(header.study_uid, who.secret)
        if not _storable(part, subject, visit, who, report, strict):
            continue
        study = studies.setdefault((subject, visit), {
            "date": parse_date(part.identity["StudyDate"]), "sex": part.identity["PatientSex"],
            "age": part.identity["PatientAge"], "born": part.identity["PatientBirthDate"],
            "source_file": header.path})
        decision = rules.decide(part.facts, session.site)
        series.append(_series_row(part, rules, session, decision, subject, visit,
                                  pseudonymous=who.always_pseudonym or note is not None))
        if decision.type is None:
            # The report keeps a few examples per reason; the log names every series.
            log.info("not stored: %s: %s", part.key, decision.reason or decision.rule)
            report.ignore(decision.reason or decision.rule, part.key)
            continue
        metadata = {key: part.facts[key] for key in STORED_FACTS if key in part.facts}
        metadata["rule"] = decision.rule
        identity = part.identity
        images.append({
            "subject": subject, "path": part.key, "visit": visit, "type": decision.type,
            "file_size": sum(h.size for h in part.files),
            **scanner_values(identity, who.secret),
            "field_strength": field_strength(identity["MagneticFieldStrength"]),
            "metadata": metadata, "study": study, "source_file": header.path})
        image_files[part.key] = [(h.path, h.size) for h in part.files]
    subjects, visits = _subjects_and_visits(studies)
    image_frame = pd.DataFrame(images, columns=[
        "subject", "path", "visit", "type", "file_size", "manufacturer", "model", "serial",
        "field_strength", "metadata", "study", "source_file"])
    image_frame["days_since_baseline"] = [study.get("days") for study in image_frame["study"]]
    image_frame["days_since_baseline"] = image_frame["days_since_baseline"].astype("Int64")
    return DicomFrames(subjects=subjects, visits=visits,
                       images=image_frame.drop(columns="study"), report=report,
                       series=pd.DataFrame(series, columns=SERIES_COLUMNS),
                       image_files=image_files)


def _subjects_and_visits(studies: dict[tuple[str, str], dict[str, Any]]
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per subject (sex, age at the first study), one per visit (days since it)."""
    by_subject: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (subject, visit), study in studies.items():
        by_subject[subject].append((visit, study))
    subjects, visits = [], []
    for subject, entries in sorted(by_subject.items()):
        dated = [study for _, study in entries if study["date"] is not None]
        first = min(dated, key=lambda study: study["date"]) if dated else entries[0][1]
        for visit, study in sorted(entries):
            study["days"] = ((study["date"] - first["date"]).days
                             if study["date"] is not None and first["date"] is not None else None)
            visits.append({"subject": subject, "external_id": visit,
                           "days_since_baseline": study["days"],
                           "source_file": study["source_file"]})
        subjects.append({"external_id": subject, "sex": to_sex(first["sex"]),
                         "age_at_baseline": parse_age(first["age"], first["born"],
                                                      first["date"]),
                         "source_file": first["source_file"]})
    subject_frame = pd.DataFrame(subjects, columns=["external_id", "sex", "age_at_baseline",
                                                    "source_file"])
    visit_frame = pd.DataFrame(visits, columns=["subject", "external_id", "days_since_baseline",
                                                "source_file"])
    visit_frame["days_since_baseline"] = visit_frame["days_since_baseline"].astype("Int64")
    return subject_frame, visit_frame
