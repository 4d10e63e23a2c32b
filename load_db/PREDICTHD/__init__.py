"""PREDICT-HD: a BIDS release read by the generic BIDS adapter, its CHDI codes mapped by
mapping.yaml; read.py adds the study's participant categories and visit days.

PREDICT-HD's data (NIH data archive, CHDI) needs a data-use agreement and its dictionary is not
public, so this package reads the study as a BIDS release, the shape the issue allows for
thinly documented studies, carrying the study's own CHDI variable names (dataset folder
data/PREDICT-HD by default):
- participants.tsv: participant_id, sex (M/F), age (years at baseline), hdcat (the CHDI
  participant category: 1 genotype unknown, 2 pre-manifest, 3 early HD, 4 genotype negative,
  5 family control, 6 community control), cag (repeat length), described by participants.json;
- sub-<id>/sub-<id>_sessions.tsv: one row per visit: session_id, visdy (days since the
  baseline visit, which is 0), motscore (UHDRS total motor score), tfcscore, sdmt1;
- sub-<id>/ses-<visit>/anat/*_T1w.nii.gz and dwi/*_dwi.nii.gz with JSON sidecars (scanner).
  Other scans (T2w, ...) are left out and reported.

The category is a per-subject diagnosis: 2 and 3 (CAG-expanded carriers, before and after a
motor diagnosis) -> Huntington's Disease, 4-6 -> Healthy Control; 1 -> no condition (null in
mapping.yaml: the code is kept and reported); any other code stops the load naming its row.
A visit is a session; its day is visdy (a whole number, required); motscore gives the master
measure UHDRS_TMS (appended to the seed list, 0-124: 31 ratings of 0-4); tfcscore and sdmt1
stay the visit's symptoms.

Assumed (not confirmed in public documentation): the BIDS layout itself, and the hdcat, visdy,
motscore, tfcscore, sdmt1 names and codes, which come from the CHDI spreadsheets the original
MBID-db read (../shared/REFERENCE.md); the sessions' labels (visit1, visit2, ...). Confirmed:
PREDICT-HD's design (annual visits of CAG-expanded people without a motor diagnosis and of
gene-negative controls, the UHDRS motor assessment, MRI at every visit) and the UHDRS motor
score's 31 items.

Sources:
- https://pmc.ncbi.nlm.nih.gov/articles/PMC4000999 (a decade of PREDICT-HD: annual visits,
  premanifest carriers and gene-expansion negative controls, imaging and motor measures)
- https://pmc.ncbi.nlm.nih.gov/articles/PMC4373455 (the 15-item UHDRS motor assessment and the
  diagnostic confidence level defining a motor diagnosis)
- https://pmc.ncbi.nlm.nih.gov/articles/PMC3105627 (PREDICT-HD structural MRI at baseline and
  follow-up)
- http://web.stanford.edu/group/hopes/cgi-bin/hopes_test/glossary/modified-motor-score-mms/
  (the UHDRS motor score's 31 items)
"""
from load_db.datasets import DatasetDeclaration
from load_db.PREDICTHD.example import write_example
from load_db.PREDICTHD.read import MAPPING, read_predicthd

DATASET = DatasetDeclaration(designation="PREDICT-HD", data_folder="PREDICT-HD",
                             read=read_predicthd, mapping=MAPPING, write_example=write_example)
