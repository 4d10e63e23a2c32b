"""Every table of MBID-db; importing this package registers them all with the metadata."""
from app.models.api_key import ApiKey
from app.models.condition import Condition
from app.models.dataset import Dataset
from app.models.dataset_condition import DatasetCondition
from app.models.enums import Handedness, ImageType, LoadStatus, PreprocessState, Race, Sex
from app.models.file_type import FileType
from app.models.image import Image
from app.models.load_run import LoadRun
from app.models.preprocess_task import PreprocessTask
from app.models.preprocess_task_file import PreprocessTaskFile
from app.models.scanner import Scanner
from app.models.subject import Subject
from app.models.visit import Visit

__all__ = [
    "ApiKey", "Condition", "Dataset", "DatasetCondition", "FileType", "Handedness", "Image",
    "ImageType", "LoadRun", "LoadStatus", "PreprocessState", "PreprocessTask",
    "PreprocessTaskFile", "Race", "Scanner", "Sex", "Subject", "Visit",
]
