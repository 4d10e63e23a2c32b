"""The generic DICOM adapter: fast header scan, series typed by rules, de-identified values."""
from load_db.dicom.reader import read_dicom
from load_db.dicom.rules import DEFAULT_RULES, Decision, RulesError, RuleSet, load_rules

__all__ = ["DEFAULT_RULES", "Decision", "RuleSet", "RulesError", "load_rules",
           "read_dicom"]
