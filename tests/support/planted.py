"""A DICOM corpus with a distinct planted value in every text attribute of the PS3.15 Basic
Profile table: at top level, inside sequences and in private attributes.

Each patient has one T1 series of two files (written by tests.support.dicom.write_series, then
planted). Values follow the attribute's VR: tokens PLNTnnnnQ for text, 2.25-free UIDs under
1.2.826.0.1.3680043.10.543, dates eleven years apart (a date moved back by at most ten years
can never become another planted date), times with a unique fraction.

Left out of the generic planting, each for a stated reason:
- PatientAge and PatientSex: kept on purpose (Retain Patient Characteristics Option);
- PatientID, PatientName, PatientBirthDate: planted per patient as the findings had them (an
  MRN, a social security number, an id that is the name in another order);
- SeriesDescription and ProtocolName: kept on purpose (the loader types series by them, Clean
  Descriptors Option); planted with the patient's name parts and birth date in other orders
  and spellings, which must be redacted;
- attributes holding numbers or bytes (DS, IS, US, OB, ...), sequences themselves, command
  (0000) and file meta (0002) groups, and the table's newest attributes pydicom's dictionary
  does not know (no VR to write them with).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from load_file.deidentify import PROFILE
from tests.support.dicom import write_series

TEXT_VRS = ("AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR",
            "UT")
KEPT = {"PatientAge", "PatientSex", "PatientID", "PatientName", "PatientBirthDate",
        "SeriesDescription", "ProtocolName", "SOPInstanceUID", "SeriesInstanceUID",
        "StudyInstanceUID"}
PRIVATE_CREATOR = "MBID PLANTED"
# Sequences the planted attributes are repeated in: one the table does not name (its items
# are cleaned like the dataset), one of references (X/Z/U*: kept, UIDs replaced).
NESTING = ("AnatomicRegionSequence", "ReferencedImageSequence")


@dataclass(frozen=True)
class Patient:
    """A patient of the corpus, with free text that names them as the findings had it."""

    folder: str
    patient_id: str
    name: str
    born: str
    description: str
    protocol: str
    name_values: tuple[str, ...]  # the name's parts and the ids and dates as written


PATIENTS = (
    Patient("p1", "MRN884422", "DOEPHI^JANEPHI", "19800207", "T1 MPRAGE Janephi Doephi",
            "MPRAGE doephi_janephi 1980-02-07",
            ("Doephi", "Janephi", "1980-02-07", "19800207", "MRN884422")),
    Patient("p2", "123-45-6789", "QUORVAX^ZELTRINA^MIDDLO", "19751130",
            "t1 mprage ZELTRINA QUORVAX 30/11/1975", "mprage QuorvaxZeltrinaMiddlo",
            ("Quorvax", "Zeltrina", "Middlo", "30/11/1975", "19751130", "123-45-6789")),
    Patient("p3", "Jane Doephi", "DOEPHI^JANE", "19810207", "T1 MPRAGE JANE-DOEPHI",
            "mprage 07 Feb 1981",
            ("Jane Doephi", "Doephi Jane", "Jane", "07 Feb 1981", "19810207")),
)


@dataclass
class Planter:
    """Hands out distinct values per VR and remembers every one."""

    planted: set[str] = field(default_factory=set)
    count: int = 0
    dates: dict[str, int] = field(default_factory=lambda: {"DA": 0, "DT": 0})

    def value(self, vr: str) -> str:
        """A new value for an attribute of `vr`."""
        self.count += 1
        k = self.count
        if vr in self.dates:
            # Ten years apart (3,652 days or more): a date moved back by at most 3,650 days
            # is never another planted date. The n-th DT has the n-th DA's date.
            self.dates[vr] += 1
        date = f"{1 + 10 * self.dates.get(vr, 0):04d}0101"
        made = {"DA": date, "DT": f"{date}{k % 24:02d}3015.{k:06d}",
                "TM": f"{k % 24:02d}4512.{k:06d}", "UI": f"1.2.826.0.1.3680043.10.543.{k}.9",
                "AS": f"{k % 1000:03d}W", "PN": f"PLNT{k:04d}Q^GIVN{k:04d}Q"}.get(
                    vr, f"PLNT{k:04d}Q")
        self.planted |= set(made.split("^")) if vr == "PN" else {made}
        return made


def plantable() -> list[tuple[int, str]]:
    """(tag, VR) of every text attribute of the table that the corpus plants."""
    tags = []
    for tag in sorted(PROFILE):
        if tag >> 16 in (0x0000, 0x0002):
            continue
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        if vr in TEXT_VRS and keyword_for_tag(tag) not in KEPT:
            tags.append((tag, vr))
    return tags


def _planted_set(planter: Planter) -> list[tuple[int, str, str]]:
    """(tag, VR, value) of every plantable attribute, then of the private ones."""
    values = [(tag, vr, planter.value(vr)) for tag, vr in plantable()]
    return values + [(offset, vr, planter.value(vr)) for offset, vr in
                     enumerate(("LO", "PN", "DA", "UI", "SH", "LT"), start=1)]


def _plant(dataset: Dataset, values: list[tuple[int, str, str]]) -> None:
    block = dataset.private_block(0x0011, PRIVATE_CREATOR, create=True)
    for tag, vr, value in values:
        if tag > 0xFF:
            dataset.add_new(tag, vr, value)
        else:  # an offset in the private block
            block.add_new(tag, vr, value)


def write_planted_corpus(root: Path) -> set[str]:
    """Write every patient's series under `root`/<folder>/t1 and plant it; return the planted
    values (name parts, ids, dates as written, every generic value). The two files of a
    series hold the same values, as a series' files do."""
    planter = Planter()
    for patient in PATIENTS:
        folder = write_series(root / patient.folder / "t1", patient.patient_id, "T1", 1,
                              study_uid=planter.value("UI"))
        series_uid = planter.value("UI")
        top = _planted_set(planter)
        nested = {keyword: (_planted_set(planter), planter.value("LO"), planter.value("PN"))
                  for keyword in NESTING}
        for file in sorted(folder.iterdir()):
            dataset = pydicom.dcmread(file)
            _plant(dataset, top)
            dataset.PatientName = patient.name
            dataset.PatientBirthDate = patient.born
            dataset.SeriesDescription = patient.description
            dataset.ProtocolName = patient.protocol
            dataset.SeriesInstanceUID = series_uid
            dataset.SOPInstanceUID = planter.value("UI")
            dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
            for keyword, (values, patient_id, name) in nested.items():
                item = Dataset()
                _plant(item, values)
                item.PatientID, item.PatientName = patient_id, name
                dataset[tag_for_keyword(keyword)] = pydicom.DataElement(
                    tag_for_keyword(keyword), "SQ", Sequence([item]))
            dataset.save_as(file, enforce_file_format=True)
        planter.planted |= {str(dataset.StudyInstanceUID), patient.patient_id,
                            *patient.name_values}
    return planter.planted
