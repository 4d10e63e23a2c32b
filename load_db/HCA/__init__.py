"""HCP-Aging (HCA): NIH data archive structures and the imaging collection; read.py reads them.

Files in the dataset folder (data/HCA by default), as the NIH data archive (NDA) distributes
the Lifespan release: each structure a tab-separated ``<structure>.txt`` whose row 1 names the
columns and row 2 describes them, records from row 3, every record starting with NDA's
required elements subjectkey (GUID), src_subject_id (``HCA6002236``), interview_date
(MM/DD/YYYY), interview_age (months) and sex (M, F, O other, NR not reported):
- ndar_subject01.txt: one record per participant, its V1 interview; race, ethnic_group, site;
- edinburgh_hand01.txt: hcp_handedness_score, the Edinburgh laterality quotient (-100 to 100);
- vitals01.txt: weight_std (pounds), vtl007 (height, inches), one record per subject and visit;
- moca01.txt: moca_total (MoCA), moca_edu, one record per subject and visit;
- imagingcollection01/<id>_<visit>_MR/unprocessed/<scan>/<id>_<visit>_MR_<scan>.nii.gz, each
  with its JSON sidecar (scanner): T1w_MPR_vNav_4e_e1e2_mean (T1), Diffusion/dMRI_dir98_AP,
  dir98_PA, dir99_AP, dir99_PA (DWI), rfMRI_REST1_AP ... REST2_PA (rsfMRI). Other scans (T2w,
  task fMRI, ASL, SBRef) are left out and reported, as are sessions of a subject missing from
  ndar_subject01.

Visits: V1 is the first visit, V2 the longitudinal return (sessions ``<id>_V1_MR``,
``<id>_V2_MR``); a visit exists when a measure record or an MR session names it. Its day is
its earliest record's interview_date minus the subject's ndar_subject01 interview_date; a V1
known from images only is day 0, a later one known from images only has no day. Age at
baseline is ndar_subject01's interview_age / 12.

Assumed (not confirmed in public documentation): the measure structures carry NDA's `visit`
element (V1, V2), as the release's session names do; every participant is a Healthy Control
(the study recruits healthy adults; the files carry no diagnosis); the Edinburgh quotient reads
with the usual +-40 cut-offs (ambidextrous between); the example's site names; moca_edu is
the MoCA's one education point, not years of education, so it is not mapped.

Sources:
- https://nda.nih.gov/data_structure.html?short_name=ndar_subject01 (NDA structures; the
  required elements, interview_age in months, sex codes M;F;O;NR)
- https://humanconnectome.org/study/hcp-lifespan-aging/publications (healthy adults 36-100+,
  longitudinal subset, four sites with matched Siemens Prisma 3T scanners)
- https://balsa.wustl.edu/study/gjjZ (the Lifespan imaging protocol: T1w, rfMRI, dMRI)
- https://github.com/jese11/HCP-wiki-public (Lifespan HCP downloading from NDA, known issues)
"""
from load_db.datasets import DatasetDeclaration
from load_db.HCA.example import write_example
from load_db.HCA.read import MAPPING, read_hca

DATASET = DatasetDeclaration(designation="HCA", data_folder="HCA", read=read_hca,
                             mapping=MAPPING, write_example=write_example)
