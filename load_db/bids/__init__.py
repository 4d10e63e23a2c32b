"""The generic BIDS adapter: a BIDS tree (on disk or in object storage) in, canonical frames out.

`read_bids` is pure (files in, frames out); `load_bids` reads and writes through the engine.
Dataset folders that need more (a condition from participants.tsv `group`, say) call
`read_bids`, adjust the frames, and hand them to `load_db.engine.load_frames` themselves.
"""
from app.storage.trees import FileTree, LocalTree, StorageTree
from load_db.bids.load import load_bids
from load_db.bids.reader import NO_SESSION_VISIT, BidsFrames, read_bids

__all__ = ["NO_SESSION_VISIT", "BidsFrames", "FileTree", "LocalTree", "StorageTree", "load_bids",
           "read_bids"]
