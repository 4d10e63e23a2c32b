"""The generic BIDS adapter: a BIDS tree (on disk or in object storage) in, canonical frames out."""
from load_db.bids.reader import NO_SESSION_VISIT, BidsFrames, read_bids
from load_db.bids.tree import FileTree, LocalTree

__all__ = ["NO_SESSION_VISIT", "BidsFrames", "FileTree", "LocalTree", "read_bids"]
