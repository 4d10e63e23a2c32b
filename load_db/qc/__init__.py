"""Quality control at load time: the series inventory of each visit and the study's tags."""
from load_db.qc.inventory import record_inventory

__all__ = ["record_inventory"]
