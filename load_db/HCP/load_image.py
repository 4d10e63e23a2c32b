"""Load HCP Young Adult T1 images (<Subject>/unprocessed/3T/T1w_MPR1/) into `image`.

Run as a program: `python load_db/HCP/load_image.py [--data-dir DIR] [--dry-run]`.
Like `flask load`, it reads the whole dataset once; it writes only this table, in one
transaction.
"""
from load_db.datasets import table_script
from load_db.engine.runner import exit_with

if __name__ == "__main__":
    exit_with(table_script("load_db.HCP", "images", __doc__))
