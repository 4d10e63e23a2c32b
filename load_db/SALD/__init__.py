"""SALD (Southwest University Adult Lifespan Dataset): its demographic table and its BIDS
imaging release; read.py reads them, mapping.yaml maps them.

Files in the dataset folder (data/SALD by default):
- demographic_information.csv: one row per participant, Sub_ID (the six-digit id, e.g.
  031274), Sex, Age, Edinburgh_Handedness (the Edinburgh Handedness Inventory score);
- BIDS/: the T1-weighted and resting-state scans as one BIDS tree without sessions,
  ``BIDS/sub-031274/anat/sub-031274_T1w.nii.gz`` and ``func/sub-031274_task-rest_bold.nii.gz``,
  read by the generic BIDS adapter (load_db/bids).

Visit rule: SALD is cross-sectional (494 healthy adults, 19-80 years), so each participant
has one visit (the BIDS adapter's ``baseline``, day 0), with or without images. Every
participant was recruited healthy: the subject-level label ``healthy volunteer`` maps to
Healthy Control. The handedness score is read with the BIDS adapter's laterality-quotient
cut-offs (left up to -40, right above +40) into the subject's handedness and the HANDEDNESS
measure; the score itself is kept in the subject's metadata (edinburgh_score).

Confirmed with public sources: the cohort (494 healthy adults aged 19-80, 187 male), one T1
and one resting-state scan per participant (one participant has a T1 only), a 3T Siemens Trio
scanner at Southwest University, Chongqing, the INDI release, and subject labels written as
six digits with a leading zero (sub-031274).
Assumed, as the release's phenotypic file is not described column by column in any public
page found: the file name demographic_information.csv, the column names Sub_ID, Sex, Age and
Edinburgh_Handedness, Sex written Male or Female, the handedness score being a laterality
quotient from -100 to +100, and the BIDS layout above; an image whose subject is not in the
table is bad input (the table is the participant list).

Sources:
- https://www.nature.com/articles/sdata2018134 (Wei et al. 2018, the SALD data descriptor)
- http://fcon_1000.projects.nitrc.org/indi/retro/sald.html (the INDI release page)
- https://github.com/younghoo/public-datasets/blob/master/doc/SALD.md (scans per subject)
"""
from load_db.datasets import DatasetDeclaration
from load_db.SALD.example import write_example
from load_db.SALD.read import MAPPING, read_sald

DATASET = DatasetDeclaration(designation="SALD", data_folder="SALD", read=read_sald,
                             mapping=MAPPING, write_example=write_example)
