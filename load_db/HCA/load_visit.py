"""Load HCP-Aging visits (V1, V2 of the measure structures and MR sessions) into `visit`.

Run as a program: `python load_db/HCA/load_visit.py [--data-dir DIR] [--dry-run]`.
Like `flask load`, it reads the whole dataset once; it writes only this table, in one
transaction.
"""
from load_db.datasets import table_script
from load_db.engine.runner import exit_with

if __name__ == "__main__":
    exit_with(table_script("load_db.HCA", "visits", __doc__))
