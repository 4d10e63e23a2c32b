"""Cam-CAN (Cambridge Centre for Ageing and Neuroscience, cc700 cohort): its participant table
and its BIDS imaging release; read.py reads them, mapping.yaml maps them.

Files in the dataset folder (data/CamCAN by default):
- standard_data.csv: one row per participant, CCID (CC110033 ...), Sex, Hand, Age;
- BIDS/: the cc700 MRI release as one BIDS tree without sessions,
  ``BIDS/sub-CC110033/anat/sub-CC110033_T1w.nii.gz``, ``dwi/..._dwi.nii.gz``,
  ``func/..._task-Rest_bold.nii.gz`` and ``fmap/`` field maps, read by the generic BIDS
  adapter (load_db/bids). Other files (T2w, the movie and sensorimotor task runs) are
  reported as ignored.

Visit rule: Cam-CAN's stage 2 is cross-sectional, so each participant has one visit (the
BIDS adapter's ``baseline``, day 0), with or without images. Every cc700 participant was
recruited healthy: the subject-level label ``healthy volunteer`` maps to Healthy Control.
Age is the age in years given by standard_data.csv; Hand is the Edinburgh Handedness
Inventory laterality quotient (-100 to +100), read with the BIDS adapter's cut-offs (left up to
-40, right above +40) into the subject's handedness and the HANDEDNESS measure; the quotient
itself is kept in the subject's metadata (laterality_quotient).

Confirmed with public sources: the table name standard_data.csv and its columns CCID, Age,
Sex and Hand (Hand read as a number); the imaging protocol (T1w MPRAGE, DWI, resting-state
EPI and field maps on a 3T Siemens TIM Trio); the healthy, cross-sectional, 18-87 year design.
Assumed, as the data dictionary needs a data-use agreement: Sex is written MALE or FEMALE;
Age (at the home interview) stands for the age at the one visit, as no scan date is public;
the BIDS subject label is the CCID; the release's per-modality folders (anat, dwi,
epi_rest, fmap_rest) are put together as one tree under BIDS/; an image whose subject is not
in standard_data.csv is bad input (the table is the participant list).

Sources:
- https://pmc.ncbi.nlm.nih.gov/articles/PMC5182075 (Taylor et al. 2017, the Cam-CAN data
  repository: cohort, MRI protocol)
- https://github.com/tghafari/camcan_betaEvents_ageing/blob/master/00_demographics.py
  (reads standard_data.csv: CCID, Age, Hand, Sex)
- https://camcan-archive.mrc-cbu.cam.ac.uk/dataaccess/datarequest-nobutton.php (data access)
"""
from load_db.CamCAN.example import write_example
from load_db.CamCAN.read import MAPPING, read_camcan
from load_db.datasets import DatasetDeclaration

DATASET = DatasetDeclaration(designation="CamCAN", data_folder="CamCAN", read=read_camcan,
                             mapping=MAPPING, write_example=write_example)
