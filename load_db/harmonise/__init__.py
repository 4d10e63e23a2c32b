"""Re-apply a dataset's current mapping file to what is stored (`flask harmonise`).

Conditions are re-mapped from the labels kept on subjects and visits (condition_label), and
assessments re-harmonised from their raw values: no source file is read. The functions here
take the caller's session and never commit.
"""
from load_db.harmonise.reapply import Change, HarmoniseResult, harmonise_dataset

__all__ = ["Change", "HarmoniseResult", "harmonise_dataset"]
