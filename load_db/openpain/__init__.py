"""OpenPain (subacute back pain study): a BIDS dataset, its groups mapped by mapping.yaml.

participants.tsv gives each participant's study arm (`group`: healthy, subacute, chronic), a
per-subject diagnosis stored on the subject. Each sub-*/sub-*_sessions.tsv row is a visit:
days_since_interview is its day since baseline, the other columns (mpq_vas, bdi_total) its
symptoms.

Sources:
- The OpenPain project (data sharing for pain imaging): https://www.openpain.org/
- Hashmi et al., the subacute-to-chronic back pain study (Brain, 2013):
  https://doi.org/10.1093/brain/awt211
"""
from load_db.datasets import DatasetDeclaration
from load_db.openpain.example import write_example
from load_db.openpain.read import MAPPING, read_openpain

DATASET = DatasetDeclaration(designation="OpenPain", data_folder="openpain", read=read_openpain,
                             mapping=MAPPING, write_example=write_example)
