"""Every table of MBID-db; importing this package registers them all with the metadata."""
from app.models.api_key import DEFAULT_SCOPES, ApiKey, Scope
from app.models.api_key_grant import ApiKeyGrant
from app.models.assessment import Assessment
from app.models.audit_event import AuditAction, AuditEvent
from app.models.audit_event_dataset import AuditEventDataset
from app.models.claim import Claim, ClaimState
from app.models.cohort import Cohort
from app.models.cohort_image import CohortImage
from app.models.condition import Condition
from app.models.converted_file import ConvertedFile
from app.models.dataset import Dataset
from app.models.dataset_condition import DatasetCondition
from app.models.enums import (
    Handedness,
    ImageType,
    LoadStatus,
    MeasureKind,
    PreprocessState,
    QcState,
    Race,
    Sex,
)
from app.models.file_type import FileType
from app.models.gold_standard import GoldStandard
from app.models.header_drift import HeaderDrift
from app.models.image import Image
from app.models.image_file import ImageFile
from app.models.image_measure import ImageMeasure, keep_image_measures_right
from app.models.load_manifest import LoadManifest
from app.models.load_run import LoadRun
from app.models.measure import Measure
from app.models.preprocess_task import PreprocessTask
from app.models.preprocess_task_file import PreprocessTaskFile
from app.models.qc_review import QcReview
from app.models.scanner import Scanner
from app.models.search import keep_image_search_right
from app.models.series_tag import UNTAGGED, SeriesTag
from app.models.study_tag import StudyTag
from app.models.subject import Subject
from app.models.visit import Visit

keep_image_search_right()
keep_image_measures_right()

__all__ = [
    "DEFAULT_SCOPES", "ApiKey", "ApiKeyGrant", "Assessment", "AuditAction", "AuditEvent",
    "AuditEventDataset", "Claim", "ClaimState", "Cohort", "CohortImage", "Condition",
    "ConvertedFile", "Dataset", "DatasetCondition", "FileType", "GoldStandard", "Handedness",
    "HeaderDrift", "Image",
    "ImageFile", "ImageMeasure", "ImageType", "LoadManifest", "LoadRun", "LoadStatus", "Measure",
    "MeasureKind",
    "PreprocessState", "PreprocessTask", "PreprocessTaskFile", "QcReview", "QcState", "Race",
    "Scanner", "Scope", "SeriesTag", "Sex", "StudyTag", "Subject", "UNTAGGED", "Visit",
]
