"""Who may do what, and what they did: bearer-token authentication with scopes and per-dataset
grants (auth.py), per-key request limits (rate_limit.py), the current request's access
(current.py), the session hook that applies the grants to every query of a request
(visibility.py), the designations fetched with the key (designations.py) and the append-only
audit log (audit.py)."""
