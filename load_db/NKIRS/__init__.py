"""NKI-RS (enhanced Nathan Kline Institute Rockland Sample): its BIDS release, read with the
generic BIDS adapter (load_db/bids); read.py adds the study's visit rules, mapping.yaml maps
its columns.

Files in the dataset folder (data/NKIRS by default), which is the BIDS root:
- participants.tsv: participant_id (sub-A00008326 ...), sex (M/F), handedness (R/L), with
  participants.json describing them;
- sub-<id>/sub-<id>_sessions.tsv: one row per visit, session_id (ses-BAS1 ...), age (years
  at that visit) and days_since_enrollment;
- sub-<id>/ses-<code>/anat/*_T1w, dwi/*_dwi, func/*_task-rest_acq-<TR>_bold (rest runs at
  TR 1400 ms, 645 ms and 2500 ms, ``acq-CAP``); other runs (breath-hold, checkerboard) and
  other files are reported as ignored.

Visit rules: each session is a visit, labelled with the study's visit code (BAS1-BAS3
baseline visits, FLU1-FLU3 longitudinal follow-ups, NFB neurofeedback, TRT test-retest):
the sessions.tsv rows, plus any session folder holding data. A visit's day is its
days_since_enrollment (baseline = the day of enrolment); the subject's age at baseline is the
age of its earliest visit with an age and a day, less those days (in years of 365.25 days).
A lone session without a sessions.tsv row is taken to be at day 0 (the adapter's rule). The
sample is community-ascertained (psychiatric diagnoses are allowed and need a data-use
agreement), so no condition is stored. Handedness is the HANDEDNESS measure (R, L).

Confirmed with public sources: the visit codes and their meaning, the BIDS session folders
(ses-BAS1, ses-FLU1, ses-TRT) and rest runs named ``task-rest_acq-1400``, the 3T Siemens
TrioTim scanner, the public BIDS release on INDI with participants.tsv (BIDS itself defines
participants.tsv and sub-<id>_sessions.tsv with session_id).
Assumed, as the release's column dictionary needs a login: the sessions.tsv column names
``age`` and ``days_since_enrollment``, the participants.tsv codes (sex M/F, handedness R/L).

Sources:
- http://fcon_1000.projects.nitrc.org/indi/enhanced/study_codes.html (visit codes)
- https://frontiersin.org/articles/10.3389/fnins.2012.00152/full (Nooner et al. 2012)
- https://www.nature.com/articles/s41597-022-01329-y (the longitudinal NKI-RS release:
  baseline and follow-up visits)
"""
from load_db.datasets import DatasetDeclaration
from load_db.NKIRS.example import write_example
from load_db.NKIRS.read import MAPPING, read_nkirs

DATASET = DatasetDeclaration(designation="NKI-RS", data_folder="NKIRS", read=read_nkirs,
                             mapping=MAPPING, write_example=write_example)
