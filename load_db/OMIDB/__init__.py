"""OMI-DB (OPTIMAM mammography): screening mammograms with their outcomes and lesion marks.

Files in the dataset folder (data/OMI-DB by default), as the OPTIMAM release lays them out:
- images/<client>/<StudyInstanceUID>/<SOPInstanceUID>.dcm: one mammogram per file;
- data/<client>/imagedb_<client>.json: the image database: Site, and per study its StudyDate,
  EpisodeID and, per series and image, the lesion marks (bounding box X1 Y1 X2 Y2,
  LinkedNBSSLesionNumber, finding flags such as Mass or SuspiciousCalcifications);
- data/<client>/nbss_<client>.json: the screening service's episodes by id: EpisodeType (CI is
  an interval cancer), opened and closed dates, per-side opinions of the SCREENING, ASSESSMENT,
  BIOPSYWIDE, BIOPSYFINE, CLINICAL and SURGERY sections, and the LESION descriptions;
- data/<client>/<StudyInstanceUID>/<SOPInstanceUID>.json: each image's header (DICOM JSON).

A client is a subject, a study a visit (dated as days since the client's first study) linked to
its NBSS episode, an image one mammogram. Headers are read by the DICOM adapter; only the
acquisition values named in IMAGE_FACTS are stored, never a name, date, institution or serial.

Sources:
- OMI-DB database information: https://medphys.royalsurrey.nhs.uk/omidb/
- Halling-Brown et al., OPTIMAM Mammography Image Database (Radiology: Artificial Intelligence,
  2021): https://doi.org/10.1148/ryai.2020200103
"""
from load_db.datasets import DatasetDeclaration
from load_db.OMIDB.example import write_example
from load_db.OMIDB.read import MAPPING, read_omidb

DATASET = DatasetDeclaration(designation="OMI-DB", data_folder="OMI-DB", read=read_omidb,
                             mapping=MAPPING, write_example=write_example)
