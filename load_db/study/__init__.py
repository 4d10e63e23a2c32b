"""The study model: tags, sites, expected counts, subject conventions and drift tolerances,
read from a study's YAML files and checked; used by the DICOM adapter and by quality control."""
from load_db.study.model import (
    CONVENTIONS,
    PHANTOMS,
    SOURCES,
    Drift,
    RulesError,
    SourcedRule,
    Study,
    StudyFile,
    Subject,
    Tag,
    load_study,
    validate,
)

__all__ = ["CONVENTIONS", "PHANTOMS", "SOURCES", "Drift", "RulesError", "SourcedRule", "Study",
           "StudyFile", "Subject", "Tag", "load_study", "validate"]
