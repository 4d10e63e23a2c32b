"""Moved to app/query/qc_state.py; this name stays for app/__init__.py until it imports there."""
from app.query.qc_state import init_qc_state

__all__ = ["init_qc_state"]
