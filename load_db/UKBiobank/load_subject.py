"""Load UK Biobank participants (ukb_main.csv) into `subject`, condition from ICD-10 codes.

Run as a program: `python load_db/UKBiobank/load_subject.py [--data-dir DIR] [--dry-run]`.
Like `flask load`, it reads the whole dataset once; it writes only this table, in one
transaction.
"""
from load_db.datasets import table_script
from load_db.engine.runner import exit_with

if __name__ == "__main__":
    exit_with(table_script("load_db.UKBiobank", "subjects", __doc__))
