"""schemathesis against the live API over the example data: no 5xx, no answer the OpenAPI
document does not describe, schema-invalid requests refused; bounded by a fixed number of
derandomized examples per operation (its time is the benchmarks' business, not a test's)."""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup

# Examples per operation and generation mode: 45 operations x 2 modes x 12 take ~30 s over both
# databases on this 2-core machine (20 took ~45 s, 40 ~110 s: the suite must stay within its
# 15 minutes). Derandomized, so a run repeats exactly. A longer exploration, for a fuzzing
# session rather than every `make test`:
# MBID_FUZZ_EXAMPLES=200 make test PYTEST_ARGS=tests/api/test_schemathesis.py
EXAMPLES = int(os.environ.get("MBID_FUZZ_EXAMPLES", "12"))
# Not checked: that every schema-valid request is accepted. A cursor is valid only when the
# server issued it, and a designation only when it exists; the document says so in those
# parameters' descriptions, but no static schema can, so generated values are rightly 400s.
EXCLUDED_CHECKS = [positive_data_acceptance]
# A negative case may "remove" the Authorization header; every request carries the probe's
# token, so the server rightly answers it. Such a case is re-sent as generated (without the
# token): refused with a 401, it was no schema-violating request accepted.


def accepted_only_because_of_the_token(case, failure: Exception, base_url: str) -> bool:
    """Whether every failed check is an accepted negative case that a 401 answers untokened."""
    parts = getattr(failure, "exceptions", None) or [failure]  # a group of failed checks
    if not all(isinstance(part, AcceptedNegativeData) for part in parts):
        return False
    if case.headers:  # the first call may have merged the token into the case's headers
        case.headers.pop("Authorization", None)
    return case.call(base_url=base_url, timeout=30).status_code == 401


def probe(operation, mode: GenerationMode, base_url: str, headers: dict) -> list[str]:
    """Send EXAMPLES generated requests to one operation; return every failed check."""
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=mode))
    def send(case):
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        try:
            case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)
        # A group of failed checks is a BaseExceptionGroup, not an Exception: catch both, so
        # that every failure is listed rather than the first ending the run.
        except (Exception, FailureGroup) as failure:  # noqa: BLE001
            if not accepted_only_because_of_the_token(case, failure, base_url):
                failures.append(f"{operation.label}: {failure}")

    send()
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_failure(live_api, mode):
    schema = schemathesis.openapi.from_url(f"{live_api.base_url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {live_api.token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # 17 queries (with /measures) and downloads, 8 cohorts (with the BIDS zip), 4 QC, 10
    # processing, 4 participant tables
    assert len(operations) == 43

    for operation in operations:
        # An operation without parameters has no schema-invalid request to make.
        if mode == GenerationMode.POSITIVE or any(operation.iter_parameters()):
            failures += probe(operation, mode, live_api.base_url, headers)

    assert failures == []
