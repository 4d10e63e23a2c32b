"""AIBL (Australian Imaging, Biomarker and Lifestyle study): ADNI-style tables and an IDA
image collection.

Files in the dataset folder (data/AIBL by default), as the LONI IDA's AIBL clinical download
names them (without the date suffix, e.g. aibl_mmse_01-Jun-2018.csv -> aibl_mmse.csv):
- aibl_ptdemog.csv: RID (the participant), SITEID, PTGENDER (1 male, 2 female), PTDOB (the
  year of birth only, "/1936");
- aibl_mmse.csv: RID, VISCODE, EXAMDATE (month/day/year), MMSCORE;
- aibl_cdr.csv: RID, VISCODE, EXAMDATE, CDGLOBAL;
- aibl_pdxconv.csv: RID, VISCODE, DXCURREN (1 healthy control, 2 MCI, 3 AD);
- image_collection.csv and images/<RID>/<Description>/<time>/I<Image Data ID>/*.nii(.gz):
  an IDA image collection, read by the LONI adapter (load_db/loni/); Subject is the RID, Visit a
  visit name (Baseline, 18 Month, 36 Month, 54 Month, 72 Month).

Visits: every (RID, VISCODE) of the MMSE, CDR and diagnosis tables, ``<RID>_<VISCODE>``
(bl, m18, m36, m54, m72: months since baseline), dated by the MMSE's EXAMDATE (else the
CDR's) in days since the subject's baseline. An image goes to the visit its Visit name
gives, dated by its Acq Date; T1 is the MPRAGE (other series are reported, not stored).
-4 is ADNI's "not available": no value and no diagnosis. Conditions are per visit, DXCURREN
mapped by mapping.yaml; a code outside it is kept as the visit's label without a condition
and reported (mapping.yaml: `unmapped: report`; `--strict` stops). Measures: MMSE (MMSCORE)
and CDR_GLOBAL (CDGLOBAL).

Assumed: the age at baseline is the baseline EXAMDATE's year minus the year of birth (PTDOB
gives no month); the original MBID-db loader also made a healthy participant with CDGLOBAL
>= 0.5 an MCI case: not done here, DXCURREN is taken as the study coded it. The IDA's visit
names are taken from the original loader's table (public scripts also show "Base"/"18 Mo"
and visit numbers 1-4: a release writing those needs IMAGE_VISITS extended).

Sources:
- https://github.com/aramis-lab/clinica/blob/dev/docs/Converters/AIBL2BIDS.md (clinica's
  AIBL converter: the IDA clinical download and image collections)
- https://adni.loni.usc.edu/quick-start-guide-asset/anatomy2.html (ADNI table structure:
  RID, VISCODE, PTGENDER, which AIBL's tables share)
- https://ida.loni.usc.edu/collaboration/access/appApply.jsp?project=AIBL (access to AIBL)
"""
from load_db.AIBL.example import write_example
from load_db.AIBL.read import MAPPING, read_aibl
from load_db.datasets import DatasetDeclaration

DATASET = DatasetDeclaration(designation="AIBL", data_folder="AIBL", read=read_aibl,
                             mapping=MAPPING, write_example=write_example)
