"""Load UK Biobank bulk imaging (unpacked under bulk/) into `image`, each in its instance's visit.

Run as a program: `python load_db/UKBiobank/load_image.py [--data-dir DIR] [--dry-run]`.
Like `flask load`, it reads the whole dataset once; it writes only this table, in one
transaction.
"""
from load_db.datasets import table_script
from load_db.engine.runner import exit_with

if __name__ == "__main__":
    exit_with(table_script("load_db.UKBiobank", "images", __doc__))
