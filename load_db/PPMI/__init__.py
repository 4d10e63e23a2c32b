"""PPMI (Parkinson's Progression Markers Initiative): clinical tables, imaging list, NIfTI files.

Files in the dataset folder (data/PPMI by default), as PPMI Clinical's study-data download
names them (the download appends a date, e.g. Participant_Status_24Jul2023.csv: remove it):
- Participant_Status.csv: PATNO (the participant), COHORT and COHORT_DEFINITION (the cohort
  enrolled in: Parkinson's Disease, Healthy Control, Prodromal, SWEDD, Early Imaging),
  ENROLL_DATE, ENROLL_STATUS, ENROLL_AGE (age at enrolment, stored as age at baseline);
- Demographics.csv: PATNO, SEX (0 female, 1 male), HANDED (1 right, 2 left, 3 mixed);
- MDS-UPDRS_Part_III.csv: PATNO, EVENT_ID, INFODT, PDSTATE (OFF, ON or blank), NP3TOT (part
  III total) and NHY (Hoehn and Yahr stage);
- Montreal_Cognitive_Assessment__MoCA_.csv: PATNO, EVENT_ID, INFODT, MCATOT (MoCA total);
- PPMI_imaging_list.csv: the image archive's (LONI IDA) list of the images downloaded: Image
  Data ID, Subject ID, Visit (Baseline, Month 12...), Research Group, Modality, Description,
  Acq Date (M/D/YYYY);
- images/<PATNO>/<description>/<acquisition time>/<Image Data ID>/*.nii.gz: the images
  downloaded as NIfTI.

Visit rules: a visit is a participant's EVENT_ID in the clinical tables (external_id
``<PATNO>_<EVENT_ID>``); screening (SC) is part of the baseline visit (BL), so a score taken at
both counts from BL and the screening one is reported as superseded; V01, V02... are the later
visits. PPMI rounds its dates to the month (INFODT is MM/YYYY): a visit's day is the number of
months since the baseline month times 365.25 / 12. An image belongs to the visit its Visit
names (Month 12 is V04, Month 24 V06, ...: nipoppy-ppmi's table) when the clinical tables hold
it; otherwise the engine links it, by its day (acquisition date minus the first day of the
baseline month), to the closest earlier visit. Its type comes from its series description
(the Modality column is not reliable): T1 (MPRAGE, SPGR, T1), DWI (DTI), rsfMRI (rsfMRI,
resting, BOLD); FLAIR, T2 and PD series are not stored (reported).

Conditions: the enrolment cohort, per participant (mapping.yaml; Prodromal maps to the
appended master condition Prodromal PD, SWEDD to none). Measures: MDS_UPDRS_III and HOEHN_YAHR
from the exam of each visit that counts (off medication, else without a state, else on; all
exams kept in the visit's symptoms), MOCA, and HANDEDNESS per participant.

Assumed (not confirmed in public documentation): the numeric COHORT codes (only
COHORT_DEFINITION is read, COHORT is kept in metadata), the HANDED codes (the user guide shows
them decoded only), the Acq Date format, the imaging list's file name and the NIfTI layout
under images/; scanner facts are not in these files.

Sources:
- https://github.com/MJFF-ResearchCommunity/PIE/blob/main/PPMI_Data_User_Guide_20240918.md
  (PPMI Data User Guide: PATNO, COHORT_DEFINITION, ENROLL_AGE, SEX 0/1, EVENT_ID SC/BL/V..,
  INFODT MM/YYYY, PDSTATE, NUPDR3OF/NUPDR3ON, "101" unable to rate, Early Imaging)
- https://github.com/neurodatascience/nipoppy-ppmi/blob/main/nipoppy/workflow/ppmi_utils.py
  (imaging list columns Subject ID, Visit, Research Group, Modality, Description; visit names)
- https://github.com/neurodatascience/nipoppy-ppmi/blob/main/nipoppy/workflow/tabular/ppmi_imaging_descriptions.json
  (series descriptions per BIDS datatype)
"""
from load_db.datasets import DatasetDeclaration
from load_db.PPMI.example import write_example
from load_db.PPMI.read import MAPPING, read_ppmi

DATASET = DatasetDeclaration(designation="PPMI", data_folder="PPMI", read=read_ppmi,
                             mapping=MAPPING, write_example=write_example)
