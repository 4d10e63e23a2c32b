"""OASIS-3: clinical CSVs and MR sessions; read.py holds its readers and diagnosis mapping.

Files in the dataset folder (data/OASIS by default):
- OASIS3_subjects.csv: Subject, M/F, Hand, Education;
- OASIS3_clinical_data.csv: one row per clinical visit, ID ``OAS30001_ClinicalData_d0000``
  (d = days since the subject's entry), ageAtEntry, mmse, cdr, dx1, height (in), weight (lb);
- bids/: the MR sessions as BIDS, ``sub-OAS30001/ses-d0129/...`` (d = days since entry).

mapping.yaml maps each visit's CDR and dx1 to a master condition, and the CSVs' columns to
master measures (MMSE, CDR, height, weight, BMI, education, handedness).

Diagnoses are known per clinical visit, so they are stored on visits. MR sessions are not
visits: each image goes to the closest clinical visit on or before its day (the engine's rule).

Sources:
- OASIS project pages (OASIS-3 data access and data dictionaries): https://sites.wustl.edu/oasisbrains/
- LaMontagne et al., OASIS-3 (longitudinal neuroimaging, clinical and cognitive dataset):
  https://doi.org/10.1101/2019.12.13.19014902
"""
from load_db.datasets import DatasetDeclaration
from load_db.OASIS.example import write_example
from load_db.OASIS.read import MAPPING, read_oasis

DATASET = DatasetDeclaration(designation="OASIS", data_folder="OASIS", read=read_oasis,
                             mapping=MAPPING, write_example=write_example)
