"""The OMI-DB-shaped example data: four made-up clients in the release layout.

The real OPTIMAM images are restricted, so this writes a tree of the same shape:
images/<client>/<study>/<sop>.dcm (small DICOM files, a 4x4 pixel matrix) beside
data/<client>/ with the image database's and the screening service's JSON files and one DICOM
JSON document per image. Every value is spelled out below (the tests check the loaded result
against these tables); UIDs are derived from their names, so the bytes never change.

The headers carry made-up identifying values (names, birth dates, an institution, physicians),
as clinical files do before de-identification: the loader must keep every one of them out of
the database.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from load_db.examples import Writer

FOR_PRESENTATION_CLASS = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray, presentation
FOR_PROCESSING_CLASS = "1.2.840.10008.5.1.4.1.1.1.2.1"  # ... for processing
IMPLEMENTATION_CLASS_UID = "2.25.86254327016520232219350366186452341289"
IMPLEMENTATION_VERSION = "MBID_EXAMPLE_1"
PIXELS = bytes(range(32))  # a 4x4 matrix of 16-bit values
FINDINGS = ("Mass", "SuspiciousCalcifications", "ArchitecturalDistortion", "FocalAsymmetry")


@dataclass(frozen=True)
class Mark:
    """A lesion mark drawn on one image: a bounding box, its NBSS lesion, its findings."""

    mark_id: int
    box: tuple[int, int, int, int]
    lesion: int | None
    findings: tuple[str, ...]


@dataclass(frozen=True)
class Study:
    """One screening study: its date, episode (linked by id or only by date), images."""

    name: str
    date: str  # YYYYMMDD
    episode: str
    linked_by_id: bool = True
    # (view, laterality) -> marks on that image; every study has the four standard views.
    marks: dict[tuple[str, str], tuple[Mark, ...]] = field(default_factory=dict)
    intent: str = "FOR PRESENTATION"


@dataclass(frozen=True)
class Client:
    """One screened woman: identity (made up), scanner, studies and NBSS episodes."""

    client: str
    site: str
    name: str
    birth_date: str
    age: str
    manufacturer: str
    model: str
    studies: tuple[Study, ...]
    episodes: dict[str, dict]


VIEWS = (("CC", "L"), ("MLO", "L"), ("CC", "R"), ("MLO", "R"))


def _normal(opened: str, closed: str, kind: str = "R") -> dict:
    return {"EpisodeType": kind, "EpisodeIsClosed": True, "EpisodeOpenedDate": opened,
            "EpisodeClosedDate": closed,
            "SCREENING": {"L": {"Opinion": "ON"}, "R": {"Opinion": "ON"}}, "LESION": {}}


CLIENTS = (
    Client("optm1", "adde", "PLUMTREE^ALICE^JANE", "19580412", "052Y", "HOLOGIC, Inc.",
           "Selenia Dimensions", (
               Study("s1", "20100302", "E101"),
               Study("s2", "20130311", "E102", marks={
                   ("CC", "L"): (Mark(1, (120, 340, 260, 470), 1, ("Mass",)),),
                   ("MLO", "L"): (Mark(2, (150, 300, 290, 420), 1, ("Mass",)),),
                   ("CC", "R"): (Mark(3, (40, 60, 90, 110), 2, ("SuspiciousCalcifications",)),),
               })), {
               "E101": _normal("2010-03-01", "2010-03-16"),
               "E102": {"EpisodeType": "R", "EpisodeIsClosed": True,
                        "EpisodeOpenedDate": "2013-03-10", "EpisodeClosedDate": "2013-05-02",
                        "SCREENING": {"L": {"Opinion": "OS"}, "R": {"Opinion": "OU"}},
                        "ASSESSMENT": {"L": {"Opinion": "OS"}, "R": {"Opinion": "ON"}},
                        "BIOPSYWIDE": {"L": {"Opinion": "OM"}},
                        "SURGERY": {"L": {"Opinion": "OM"}},
                        "LESION": {"1": {"Side": "L", "ClockFacePosition": "2"},
                                   "2": {"Side": "R", "ClockFacePosition": "10"}}},
           }),
    Client("optm2", "adde", "HOLLOWAY^BERYL", "19640901", "055Y", "GE MEDICAL SYSTEMS",
           "Senographe Essential", (
               Study("s1", "20190115", "E201"),
               Study("s2", "20220120", "E202", marks={
                   ("CC", "R"): (Mark(1, (200, 210, 260, 300), 1,
                                      ("Mass", "ArchitecturalDistortion")),),
               })), {
               "E201": _normal("2019-01-14", "2019-02-01"),
               "E202": {"EpisodeType": "R", "EpisodeIsClosed": True,
                        "EpisodeOpenedDate": "2022-01-19", "EpisodeClosedDate": "2022-03-01",
                        "SCREENING": {"L": {"Opinion": "ON"}, "R": {"Opinion": "OS"}},
                        "ASSESSMENT": {"R": {"Opinion": "OS"}},
                        "BIOPSYFINE": {"R": {"Opinion": "OB"}},
                        "LESION": {"1": {"Side": "R", "ClockFacePosition": "7"}}},
           }),
    Client("demd3", "stge", "ASHCOMBE^CAROL", "19610223", "050Y", "SIEMENS",
           "Mammomat Inspiration", (
               Study("s1", "20110607", "E301", linked_by_id=False),
               Study("s2", "20140610", "E302", intent="FOR PROCESSING"),
           ), {
               "E301": _normal("2011-06-06", "2011-06-20"),
               "E302": _normal("2014-06-09", "2014-06-25"),
           }),
    Client("optm4", "jarv", "WINTERTON^DORA^MAY", "19550730", "058Y", "HOLOGIC, Inc.",
           "Lorad Selenia", (
               Study("s1", "20130822", "E401"),
               Study("s2", "20150304", "E402", marks={
                   ("MLO", "L"): (Mark(1, (310, 120, 400, 230), 1, ("FocalAsymmetry",)),),
               })), {
               "E401": _normal("2013-08-21", "2013-09-02"),
               "E402": {"EpisodeType": "CI", "EpisodeIsClosed": True,
                        "EpisodeOpenedDate": "2015-03-03", "EpisodeClosedDate": "2015-04-20",
                        "CLINICAL": {"L": {"Opinion": "OS"}},
                        "SURGERY": {"L": {"Opinion": "OM"}},
                        "LESION": {"1": {"Side": "L", "ClockFacePosition": "1"}}},
           }),
)


def example_uid(*names: str) -> str:
    """A stable UID for a made-up object: 2.25. and a number derived from its names."""
    digest = hashlib.sha256("/".join(("mbid-omidb-example", *names)).encode()).hexdigest()
    return f"2.25.{int(digest[:30], 16)}"


def study_uid(client: Client, study: Study) -> str:
    """StudyInstanceUID of one example study."""
    return example_uid(client.client, study.name)


def series_uid(client: Client, study: Study) -> str:
    """SeriesInstanceUID of one example study's images (one series per study)."""
    return example_uid(client.client, study.name, "series")


def sop_uid(client: Client, study: Study, view: str, laterality: str) -> str:
    """SOPInstanceUID of one example mammogram."""
    return example_uid(client.client, study.name, view, laterality)


def mammogram(client: Client, study: Study, view: str, laterality: str, number: int) -> Dataset:
    """The DICOM dataset of one example mammogram (a 4x4 matrix of pixels)."""
    sop_class = (FOR_PROCESSING_CLASS if study.intent == "FOR PROCESSING"
                 else FOR_PRESENTATION_CLASS)
    sop = sop_uid(client, study, view, laterality)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study.date
    ds.StudyTime = "093000"
    ds.AccessionNumber = f"ACC{client.client.upper()}{study.name.upper()}"
    ds.Modality = "MG"
    ds.PresentationIntentType = study.intent
    ds.Manufacturer = client.manufacturer
    ds.InstitutionName = "Example Breast Screening Unit"
    ds.InstitutionAddress = "1 Example Road, Exampletown"
    ds.ReferringPhysicianName = "FENWICK^ROSA"
    ds.StationName = "EXAMPLEMAMMO1"
    ds.OperatorsName = "GARLAND^IVY"
    ds.ManufacturerModelName = client.model
    ds.PatientName = client.name
    ds.PatientID = client.client
    ds.PatientBirthDate = client.birth_date
    ds.PatientSex = "F"
    ds.PatientAge = client.age
    ds.BodyPartExamined = "BREAST"
    ds.DeviceSerialNumber = f"SN{client.site.upper()}01"
    ds.ViewPosition = view
    ds.StudyInstanceUID = study_uid(client, study)
    ds.SeriesInstanceUID = series_uid(client, study)
    ds.StudyID = study.name
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.ImageLaterality = laterality
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = PIXELS
    return ds


def dicom_bytes(ds: Dataset) -> bytes:
    """The Part 10 file of a dataset (preamble, file meta, explicit VR little endian)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def mark_json(mark: Mark) -> dict:
    """A mark as the image database's JSON has it."""
    x1, y1, x2, y2 = mark.box
    return {"MarkID": mark.mark_id, "X1": x1, "Y1": y1, "X2": x2, "Y2": y2,
            "LinkedNBSSLesionNumber": mark.lesion,
            **{finding: finding in mark.findings for finding in FINDINGS}}


def imagedb_json(client: Client) -> dict:
    """The image database's JSON of one client: its site and studies, marks per image."""
    studies = {}
    for study in client.studies:
        entry: dict = {"StudyDate": study.date}
        if study.linked_by_id:
            entry["EpisodeID"] = study.episode
        entry[series_uid(client, study)] = {
            sop_uid(client, study, view, side): [mark_json(mark) for mark in
                                                 study.marks.get((view, side), ())]
            for view, side in VIEWS}
        studies[study_uid(client, study)] = entry
    return {"Site": client.site, "STUDIES": studies}


def write_example(out_dir: Path) -> list[Path]:
    """Write the OMI-DB-shaped example under out_dir; return the files written."""
    w = Writer(Path(out_dir))
    for client in CLIENTS:
        data = f"data/{client.client}"
        w.json(f"{data}/imagedb_{client.client}.json", imagedb_json(client))
        w.json(f"{data}/nbss_{client.client}.json", client.episodes)
        for study in client.studies:
            folder = f"{client.client}/{study_uid(client, study)}"
            for number, (view, side) in enumerate(VIEWS, start=1):
                ds = mammogram(client, study, view, side, number)
                w.bytes(f"images/{folder}/{ds.SOPInstanceUID}.dcm", dicom_bytes(ds))
                header = {tag: value for tag, value in ds.to_json_dict().items()
                          if tag != "7FE00010"}  # the DICOM JSON model, without the pixels
                w.bytes(f"data/{folder}/{ds.SOPInstanceUID}.json",
                        (json.dumps(header, indent=2, sort_keys=True) + "\n").encode())
    return w.written
