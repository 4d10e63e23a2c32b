"""OMI-DB: its reader of the client trees into frames (the layout is described in the
package's __init__.py); outcomes are in outcome.py, their mapping to conditions in
mapping.yaml."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from app.storage.trees import LocalTree
from load_db.dicom.headers import HeaderProblem, read_full
from load_db.dicom.identity import (
    parse_age,
    parse_date,
    scanner_values,
    study_visit,
    to_sex,
)
from load_db.dicom.secret import deployment_secret
from load_db.engine import DatasetFrames, LoadError, LoadReport
from load_db.engine.cells import json_value
from load_db.engine.mapping import MAPPING_FILE, read_mapping
from load_db.OMIDB.outcome import episode_outcome, opinions_by_side, worst_outcome

IMAGES_TREE, DATA_TREE = "images", "data"
MAPPING = Path(__file__).with_name(MAPPING_FILE)
IMAGE_TYPE = "Mammogram"

STUDY_KEYS = ("StudyDate", "EpisodeID")
MARK_KEYS = ("MarkID", "X1", "Y1", "X2", "Y2", "LinkedNBSSLesionNumber")
# Header values an image keeps (acquisition facts only: see the DICOM adapter's facts.py).
IMAGE_FACTS = ("Modality", "ViewPosition", "ImageLaterality", "PresentationIntentType",
               "BodyPartExamined", "Rows", "Columns")

MISSING_JSON = "client folder without its JSON files"
BAD_JSON = "unreadable JSON file"
STUDY_WITHOUT_DATA = "study in the images tree missing from the data tree"
STUDY_WITHOUT_IMAGES = "study in the data tree missing from the images tree"
UNKNOWN_LESION = "mark pointing at an unknown lesion"
AMBIGUOUS_EPISODE = "study matching several NBSS episodes by date: not linked"
UNKNOWN_EPISODE = "EpisodeID not in the NBSS file: linked by date instead"
NO_EPISODE = "study without an NBSS episode"
NO_IMAGE_JSON = "image without its per-image JSON"


def visit_of(study_uid: str) -> str:
    """A study's visit id, as `flask load-dicom` names it (a hash of the StudyInstanceUID)."""
    return study_visit(study_uid, deployment_secret())


@dataclass
class _Study:
    client: str
    uid: str
    date: date | None = None
    episode_id: str | None = None
    outcome: str | None = None
    opinions: dict[str, dict[str, str]] = field(default_factory=dict)
    episode_type: str | None = None
    identity: dict[str, str] = field(default_factory=dict)
    source_file: str = ""


class _Reader:
    """Reads one OMI-DB tree; every problem is reported, or with `strict` stops the read."""

    def __init__(self, root: Path, strict: bool, mapping: Path) -> None:
        self.root, self.strict, self.mapping = root, strict, mapping
        self.report = LoadReport()
        self.files = LocalTree(root)
        self.subjects: list[dict[str, Any]] = []
        self.visits: list[dict[str, Any]] = []
        self.images: list[dict[str, Any]] = []

    def problem(self, reason: str, path: Path | str, detail: str = "") -> None:
        """Bad input: with strict, stop naming the file; otherwise leave it out and report it."""
        if self.strict:
            raise LoadError(f"{reason}{f' ({detail})' if detail else ''}", file=path)
        self.report.ignore(reason, f"{self.relative(path)}{f' ({detail})' if detail else ''}")

    def relative(self, path: Path | str) -> str:
        """A path under the dataset folder, relative to it (as the report names files)."""
        return Path(path).relative_to(self.root).as_posix()

    def read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            content = json_value(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, corrupt, too deep
            self.problem(BAD_JSON, path, str(exc))
            return None
        if not isinstance(content, dict):
            self.problem(BAD_JSON, path, "not a JSON object")
            return None
        return content

    def read(self) -> DatasetFrames:
        images, data = self.root / IMAGES_TREE, self.root / DATA_TREE
        for tree in (images, data):
            if not tree.is_dir():
                raise LoadError(f"no {tree.name}/ folder: not an OMI-DB tree", file=tree)
        clients = sorted({p.name for tree in (images, data) for p in tree.iterdir()
                          if p.is_dir() and not p.name.startswith(".")})
        for client in clients:
            self.read_client(client)
        return DatasetFrames(
            subjects=pd.DataFrame(self.subjects, columns=[
                "external_id", "sex", "age_at_baseline", "condition", "metadata",
                "source_file"], dtype=object),
            visits=pd.DataFrame(self.visits, columns=[
                "subject", "external_id", "days_since_baseline", "condition", "symptoms",
                "source_file"], dtype=object),
            images=pd.DataFrame(self.images, columns=[
                "subject", "path", "visit", "days_since_baseline", "type", "file_size",
                "manufacturer", "model", "serial", "field_strength", "metadata", "source_file"],
                dtype=object),
            report=self.report, mapping=read_mapping(self.mapping))

    def read_client(self, client: str) -> None:
        data = self.root / DATA_TREE / client
        documents = {}
        for kind in ("imagedb", "nbss"):
            path = data / f"{kind}_{client}.json"
            if not path.is_file():
                self.problem(MISSING_JSON, data, f"no {path.name}")
                return
            documents[kind] = self.read_json(path)
            if documents[kind] is None:
                return
        imagedb_path = data / f"imagedb_{client}.json"
        imagedb, episodes = documents["imagedb"], documents["nbss"]
        studies_json = imagedb.get("STUDIES") if isinstance(imagedb.get("STUDIES"), dict) else {}
        image_studies = self.folders(self.root / IMAGES_TREE / client)
        data_studies = self.folders(data)
        for study in sorted(image_studies - data_studies):
            self.problem(STUDY_WITHOUT_DATA, self.root / IMAGES_TREE / client / study)
        for study in sorted(data_studies - image_studies):
            self.problem(STUDY_WITHOUT_IMAGES, data / study)
        studies, images = [], []
        for uid in sorted(image_studies & data_studies):
            entry = studies_json.get(uid) if isinstance(studies_json.get(uid), dict) else {}
            study = _Study(client, uid, date=parse_date(entry.get("StudyDate")))
            read = [image for file in sorted((self.root / IMAGES_TREE / client / uid).glob("*.dcm"))
                    if (image := self.read_image(file, study)) is not None]
            if not read:
                continue
            # Linked once the headers are read: they date a study the image database does not.
            self.link_episode(study, entry, episodes, imagedb_path)
            marks = self.marks_of(entry, study, episodes, imagedb_path)
            for image in read:
                image_marks = marks.get(image.pop("sop"), [])
                image["metadata"].update(has_marks=bool(image_marks), marks=image_marks)
            images += read
            studies.append(study)
        if not studies:
            return
        self.add_rows(client, imagedb, episodes, studies, images)

    @staticmethod
    def folders(path: Path) -> set[str]:
        if not path.is_dir():
            return set()
        return {p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")}

    def link_episode(self, study: _Study, entry: dict[str, Any], episodes: dict[str, Any],
                     imagedb_path: Path) -> None:
        """Link a study to its episode: by the image database's EpisodeID, else by date."""
        episode_id = entry.get("EpisodeID")
        if episode_id is not None and not isinstance(episodes.get(str(episode_id)), dict):
            self.report.note(UNKNOWN_EPISODE, [f"{self.relative(imagedb_path)}: {episode_id}"])
            episode_id = None
        if episode_id is None:
            episode_id = self.episode_by_date(study, episodes, imagedb_path)
        if episode_id is None:
            return
        episode = episodes[str(episode_id)]
        study.episode_id, study.episode_type = str(episode_id), episode.get("EpisodeType")
        study.outcome, study.opinions = episode_outcome(episode), opinions_by_side(episode)

    def episode_by_date(self, study: _Study, episodes: dict[str, Any],
                        imagedb_path: Path) -> str | None:
        if study.date is None:
            return None
        matching = [episode_id for episode_id, episode in sorted(episodes.items())
                    if isinstance(episode, dict) and self.during(study.date, episode)]
        if len(matching) > 1:
            self.report.note(AMBIGUOUS_EPISODE, [
                f"{self.relative(imagedb_path)}: {study.uid}: {', '.join(matching)}"])
            return None
        return matching[0] if matching else None

    @staticmethod
    def during(day: date, episode: dict[str, Any]) -> bool:
        opened = parse_date(episode.get("EpisodeOpenedDate"))
        closed = parse_date(episode.get("EpisodeClosedDate"))
        return opened is not None and opened <= day and (closed is None or day <= closed)

    def marks_of(self, entry: dict[str, Any], study: _Study, episodes: dict[str, Any],
                 imagedb_path: Path) -> dict[str, list[dict[str, Any]]]:
        """{SOPInstanceUID: its marks}, a mark whose lesion the episode lacks reported."""
        episode = episodes.get(study.episode_id, {}) if study.episode_id else {}
        lesions = {str(number) for number in (episode.get("LESION") or {})}
        found: dict[str, list[dict[str, Any]]] = {}
        for key, series in entry.items():
            if key in STUDY_KEYS or not isinstance(series, dict):
                continue
            for sop, marks in series.items():
                kept = []
                for mark in marks if isinstance(marks, list) else []:
                    if not isinstance(mark, dict):
                        continue
                    lesion = mark.get("LinkedNBSSLesionNumber")
                    if lesion is not None and str(lesion) not in lesions:
                        self.problem(UNKNOWN_LESION, imagedb_path,
                                     f"image {sop}, MarkID {mark.get('MarkID')}, "
                                     f"lesion {lesion}")
                        continue
                    kept.append({key: value for key, value in mark.items()
                                 if key in MARK_KEYS or isinstance(value, bool)})
                found[sop] = kept
        return found

    def read_image(self, file: Path, study: _Study) -> dict[str, Any] | None:
        """One image's row from its header (its marks are added once the study is linked)."""
        relative = self.relative(file)
        try:
            header = read_full(self.files, relative)
        except HeaderProblem as problem:
            self.problem(f"unreadable DICOM file ({problem.kind})", file, problem.detail)
            return None
        if not (self.root / DATA_TREE / study.client / study.uid / f"{file.stem}.json").is_file():
            self.report.note(NO_IMAGE_JSON, [relative])
        identity = {key: str(header.get(key, "") or "") for key in (
            "StudyDate", "PatientSex", "PatientAge", "PatientBirthDate", "Manufacturer",
            "ManufacturerModelName", "DeviceSerialNumber")}
        if not study.identity:
            study.identity, study.source_file = identity, str(file)
            study.date = study.date or parse_date(identity["StudyDate"])
        facts = {key: _plain(header.get(key)) for key in IMAGE_FACTS}
        if not facts["ImageLaterality"]:
            facts["ImageLaterality"] = _plain(header.get("Laterality"))
        return {
            "path": relative, "visit": visit_of(study.uid), "type": IMAGE_TYPE,
            "file_size": file.stat().st_size,
            **scanner_values(identity, deployment_secret()),
            "field_strength": None,
            "metadata": {key: value for key, value in facts.items() if value is not None},
            "source_file": str(file), "study": study,
            "sop": str(header.get("SOPInstanceUID") or file.stem)}

    def add_rows(self, client: str, imagedb: dict[str, Any], episodes: dict[str, Any],
                 studies: list[_Study], images: list[dict[str, Any]]) -> None:
        dated = [study for study in studies if study.date is not None]
        first = min(dated, key=lambda study: study.date) if dated else studies[0]
        outcome = worst_outcome(episode_outcome(episode) for episode in episodes.values()
                                if isinstance(episode, dict))
        self.subjects.append({
            "external_id": client, "sex": to_sex(first.identity["PatientSex"]),
            "age_at_baseline": parse_age(first.identity["PatientAge"],
                                         first.identity["PatientBirthDate"], first.date),
            "condition": outcome,
            "metadata": {"site": imagedb.get("Site"), "outcome": outcome},
            "source_file": first.source_file})
        days = {study.uid: (study.date - first.date).days
                if study.date and first.date else None for study in studies}
        for study in studies:
            if study.outcome is None:
                self.report.note(NO_EPISODE, [f"{client}/{study.uid}"])
            self.visits.append({
                "subject": client, "external_id": visit_of(study.uid),
                "days_since_baseline": days[study.uid], "condition": study.outcome,
                "symptoms": {"episode_id": study.episode_id,
                             "episode_type": study.episode_type, "outcome": study.outcome,
                             "opinions": study.opinions},
                "source_file": study.source_file})
        for image in images:
            study = image.pop("study")
            self.images.append({**image, "subject": client,
                                "days_since_baseline": days[study.uid]})


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return value
    return str(value).strip() or None


def read_omidb(source: Path, *, strict: bool = False, mapping: Path = MAPPING) -> DatasetFrames:
    """Read an OMI-DB tree: both JSON files of every client, then each image's header.

    With `strict`, the first problem (a client folder without its JSON files, a study in one
    tree only, a mark pointing at an unknown lesion, an unreadable file) raises LoadError naming
    the file; otherwise it is left out and reported.
    """
    return _Reader(Path(source), strict, mapping).read()
