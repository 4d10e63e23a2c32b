"""The fixed-window per-key request limiter."""
import pytest

from app.access.rate_limit import FixedWindowLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_per_window_then_says_how_long_to_wait():
    clock = Clock()
    limiter = FixedWindowLimiter(2, window_seconds=60, clock=clock)
    assert [limiter.hit("a"), limiter.hit("a")] == [None, None]
    clock.now += 20.5
    assert limiter.hit("a") == 40
    assert limiter.hit("b") is None  # keys are counted apart
    clock.now += 39.5
    assert limiter.hit("a") is None  # a new window


def test_never_says_wait_zero_seconds():
    clock = Clock()
    limiter = FixedWindowLimiter(1, window_seconds=60, clock=clock)
    limiter.hit("a")
    clock.now += 59.9
    assert limiter.hit("a") == 1


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        FixedWindowLimiter(0)
