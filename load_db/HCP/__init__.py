"""HCP Young Adult: behavioural CSV and T1 files in the release layout (read.py reads them).

Files in the dataset folder (data/HCP by default):
- unrestricted_behavioral.csv: Subject, Gender, Age (a band such as 26-30), MMSE_Score,
  PSQI_Score (measures, mapped by mapping.yaml), ...;
- <Subject>/unprocessed/3T/T1w_MPR1/<Subject>_3T_T1w_MPR1.nii.gz: each subject's T1.

Every HCP-YA participant is a healthy young adult, so the condition is known per subject. The
3T imaging of a subject is one visit (``<Subject>_3T``, day 0), whether or not it has images.

Sources:
- HCP Young Adult, 1200 Subjects data release reference:
  https://www.humanconnectome.org/study/hcp-young-adult/document/1200-subjects-data-release
"""
from load_db.datasets import DatasetDeclaration
from load_db.HCP.example import write_example
from load_db.HCP.read import MAPPING, read_hcp

DATASET = DatasetDeclaration(designation="HCP", data_folder="HCP", read=read_hcp,
                             mapping=MAPPING, write_example=write_example)
