"""The loading engine shared by every dataset: read, validate, upsert, report, run."""
from load_db.engine.chunks import Chunk, subject_chunks
from load_db.engine.errors import LoadError
from load_db.engine.frames import DatasetFrames
from load_db.engine.orchestration import load_chunks, load_dataset_frames, load_frames
from load_db.engine.report import LoadReport, TableCounts
from load_db.engine.runner import run_load, script_main
from load_db.engine.tables import read_table
from load_db.engine.upsert import upsert

__all__ = ["Chunk", "DatasetFrames", "LoadError", "LoadReport", "TableCounts", "load_chunks",
           "load_dataset_frames", "load_frames", "read_table", "run_load", "script_main",
           "subject_chunks", "upsert"]
