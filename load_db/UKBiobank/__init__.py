"""UK Biobank: the main dataset (one CSV of data-fields) and the bulk brain imaging files.

Files in the dataset folder (data/UKBiobank by default):
- ukb_main.csv: the main dataset as ukbconv converts it to CSV (it names it ukb<basket>.csv:
  rename it), one row per participant (`eid`), one column per data-field, instance and array
  index, ``<field>-<instance>.<array>``. Read: 31 sex (coding 9: 0 female, 1 male), 34 year of
  birth, 53 date of attending the assessment centre, 21003 age then, 50 standing height (cm),
  21002 weight (kg), 21001 body mass index, 1707 handedness (coding 100430: 1 right, 2 left,
  3 both, -3 prefer not to answer), 845 age completed full-time education, 41270 ICD-10
  diagnoses (coding 19, one array index per code);
- bulk/<eid>_<field>_<instance>_<array>/: each bulk imaging zip (named so by ukbfetch)
  unpacked into the folder of its name: 20252 T1 (T1/T1_orig_defaced.nii.gz and T1/T1.json),
  20250 diffusion MRI (dMRI/raw/AP.nii.gz, AP.json), 20227 resting-state fMRI
  (fMRI/rfMRI.nii.gz, rfMRI.json); 20253 T2 FLAIR is not an MBID image type, and a zip left
  packed is not read (both reported).

Visit rules: visits are instances: 0 the initial assessment (2006-2010), 1 the repeat
assessment, 2 the first imaging visit, 3 the repeat imaging visit. A participant has a visit
(``<eid>_<instance>``) for each instance with a date in field 53, its day the days since the
instance-0 date; age at baseline is 21003 at instance 0. A per-visit field's value (50, 21001,
21002) belongs to the visit of its column's instance; a value at an instance not attended is
an error. A bulk zip belongs to the visit of its instance.

Stored image path: the NIfTI the zip holds (bulk/1000015_20252_2_0/T1/T1_orig_defaced.nii.gz),
not the zip. An image's path is the key of an object in storage, under which `flask upload`
stores the dataset folder's files as they are; upload leaves archives out (load_file/tree.py),
and a member of a zip has no key of its own. app/files/image_files.py serves an image as its
one object or as the set of files it was built from (DICOM series), never as part of an
archive, and previews and processing read NIfTI. So the zips are unpacked and the image is
the NIfTI; its JSON sidecar gives its metadata and, when it names one, its scanner.

Diagnoses: UK Biobank has no study label. A participant's condition comes from its ICD-10
hospital diagnoses (41270): the mapping maps categories (G30 Alzheimer's disease, F00, F01 and
F03 dementia, G20 Parkinson's disease, G10 Huntington's disease); a participant with none of
them, or with codes mapping to two conditions, keeps an unknown condition (never "healthy"),
and the load report lists it.

Assumed (not confirmed in public documentation): the member names of the diffusion and
resting-state zips and of T1.json, the bulk/ folder of unpacked zips, years of education =
field 845 - 5 (as the system this project started from did), and the scanner (a 3T Siemens
Skyra for every brain scan, as the brain imaging documentation describes; a JSON sidecar
naming a scanner wins). The Showcase's own field pages could not be retrieved here: 41270,
21003, 20252, 20253 and the column and file naming are confirmed by the other sources below;
fields 31, 34, 53, 50, 21001, 21002, 1707, 845, their codes and the coding numbers (9, 100430,
19) are taken as the project's reference notes give them.

Sources:
- https://biobank.ndph.ox.ac.uk/showcase/field.cgi?id=20252 (and id=31, 34, 53, 21003, 1707,
  845, 21001, 50, 21002, 41270, 20253, 20250, 20227: the Showcase's field pages)
- https://choishingwan.gitlab.io/ukb-administration/pheno/data_manipulation/ (columns
  field.instance.array, eid; instance 0 the initial assessment)
- https://dnanexus.gitbook.io/uk-biobank-rap/getting-started/working-with-ukb-data (eid, bulk
  files per participant)
- https://github.com/aramis-lab/clinica/blob/dev/clinica/iotools/converters/ukb_to_bids/ukb_utils.py
  (zips <eid>_<field>_<instance>_..., 20252 T1_orig_defaced.nii.gz, 20253
  T2_FLAIR_orig_defaced.nii.gz, 21003 per instance)
- https://rdrr.io/github/PDRohde/ugnome/man/getID.html (ICD-10 diagnoses in field 41270)
- https://docslib.org/doc/12406146/brain-imaging-documentation (UK Biobank Brain Imaging
  Documentation: modalities, 3T Siemens Skyra)
"""
from load_db.datasets import DatasetDeclaration
from load_db.UKBiobank.example import write_example
from load_db.UKBiobank.read import MAPPING, read_ukbiobank

DATASET = DatasetDeclaration(designation="UK Biobank", data_folder="UKBiobank",
                             read=read_ukbiobank, mapping=MAPPING,
                             write_example=write_example)
