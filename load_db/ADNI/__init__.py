"""ADNI (Alzheimer's Disease Neuroimaging Initiative): ADNIMERGE and a LONI image collection.

Files in the dataset folder (data/ADNI by default):
- ADNIMERGE.csv: one row per visit, keyed by PTID (``011_S_0002``, site_S_RID) and VISCODE
  (``bl``, ``m06``, ``m12``, ...: months since baseline), with RID, EXAMDATE (YYYY-MM-DD),
  DX_bl (CN, SMC, EMCI, LMCI, AD), DX (CN, MCI, Dementia), AGE (at baseline), PTGENDER
  (Male/Female), PTEDUCAT (years), APOE4 (0-2) and the scores MMSE, CDRSB, ADAS11, ADAS13,
  MOCA, FAQ;
- image_collection.csv: the CSV the IDA gives with an image collection (Image Data ID,
  Subject = PTID, Group, Sex, Age, Visit, Modality, Description, Type, Acq Date as
  month/day/year, Format), saved under this name;
- images/<PTID>/<Description>/<acquisition time>/I<Image Data ID>/*.nii(.gz): the collection's
  images as the IDA's NIfTI download lays them out, its top folder (ADNI/) renamed images/
  (the LONI adapter, load_db/loni/, reads the CSV and the files).

Visits: one per ADNIMERGE row, ``<PTID>_<VISCODE>``, dated in days since the subject's
baseline (bl) EXAMDATE. An image goes to the visit its Visit cell names; a screening scan
(sc, scmri) belongs to bl. Its own day is its Acq Date minus the baseline EXAMDATE (screening
scans come before baseline: negative days). Image types come from the series Description
(MPRAGE / IR-SPGR -> T1, DTI -> DWI, resting state -> rsfMRI; FLAIR and others are not
stored and are reported). The collection CSV carries no scanner, so none is stored.

Conditions: DX per visit, DX_bl per subject, both mapped by mapping.yaml (CN and SMC ->
Healthy Control; MCI, EMCI, LMCI -> Mild Cognitive Impairment; Dementia, AD -> Alzheimer's
Disease). A label outside the mapping (older ADNIMERGE releases wrote conversions such as
"MCI to Dementia") keeps its raw label, gets no condition and is listed in the load report
(mapping.yaml: `unmapped: report`); `--strict` stops.

Assumed (not confirmed in public documentation): the collection CSV's Visit column holds
visit codes: ADNIMERGE's (sc, bl, m06, ...), or a protocol's own (v02, init, y1: seen in
public scripts' ADNI3 collections), which ADNIMERGE does not use; those images are linked by
their day (to the latest visit on or before it). Releases writing visit names need a table.

Sources:
- https://adni.loni.usc.edu/quick-start-guide-asset/anatomy2.html (RID, PTID, VISCODE,
  PTGENDER, PTEDUCAT: the structure of ADNI tables)
- https://github.com/aramis-lab/clinica/blob/dev/docs/Converters/ADNI2BIDS.md (clinica's
  converter: ADNIMERGE and the IDA image download)
- https://ida.loni.usc.edu/login.jsp (the LONI Image and Data Archive, image collections)
"""
from load_db.ADNI.example import write_example
from load_db.ADNI.read import MAPPING, read_adni
from load_db.datasets import DatasetDeclaration

DATASET = DatasetDeclaration(designation="ADNI", data_folder="ADNI", read=read_adni,
                             mapping=MAPPING, write_example=write_example)
