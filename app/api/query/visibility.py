"""Moved to app/query/visibility.py; this name stays for app/__init__.py until it imports there."""
from app.query.visibility import init_visibility

__all__ = ["init_visibility"]
