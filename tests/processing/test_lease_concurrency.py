"""Many worker processes claim and complete a large generated dataset at once.

Eight processes on PostgreSQL (two on SQLite) run tests/support/claim_worker.py over 5,000
images. Before them a ninth worker claims a batch and is killed with SIGKILL: its claims must be
taken again once their 2-second leases expire. Afterwards: every image was completed exactly
once, and no image was held by two live leases at once.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, insert, select

from app.models import Claim, ClaimState, Image, ImageType, PreprocessState, Subject
from globals import ROOT
from tests.support.factories import make_dataset

IMAGES = 5_000
IMAGES_PER_SUBJECT = 10
LEASE_SECONDS = 2.0
TIME_LIMIT = 90
# Events are logged just after their commit: a lease's logged start is a little late, by up to
# about a second when ten processes share two loaded cores (0.56 s was seen); a lease held
# twice would overlap by up to the whole LEASE_SECONDS.
CLOCK_SLACK = 1.0
WORKERS = {"postgresql": 8, "sqlite": 2}


def generate_images(session) -> None:
    """Bulk-insert IMAGES images of IMAGES / IMAGES_PER_SUBJECT subjects (committed)."""
    dataset = make_dataset(session, designation="GENERATED")
    subject_count = IMAGES // IMAGES_PER_SUBJECT
    session.execute(insert(Subject), [
        {"dataset_id": dataset.id, "external_id": f"sub-{n:05d}"} for n in range(subject_count)])
    subject_ids = session.scalars(
        select(Subject.id).where(Subject.dataset_id == dataset.id).order_by(Subject.id)).all()
    session.execute(insert(Image), [
        {"dataset_id": dataset.id, "subject_id": subject_ids[n // IMAGES_PER_SUBJECT],
         "type": ImageType.T1, "path": f"GENERATED/img-{n:05d}.nii.gz"} for n in range(IMAGES)])
    session.commit()


def start_worker(database_url: str, log: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.claim_worker", database_url, "mask", str(log),
         "--lease", str(LEASE_SECONDS), *options], cwd=ROOT)


def read_events(logs: list[Path]) -> list[tuple[str, int, int, str, float]]:
    """(event, image_id, claim_id, token, time) of every line of every worker log."""
    events = []
    for log in logs:
        for line in log.read_text().splitlines():
            event, image_id, claim_id, token, moment = line.split()
            events.append((event, int(image_id), int(claim_id), token, float(moment)))
    return events


def held_intervals(events) -> dict[int, list[tuple[float, float]]]:
    """(start, end) of every lease of every image, from the workers' logs."""
    moments = defaultdict(dict)
    for event, image_id, _claim_id, token, moment in events:
        moments[(image_id, token)].setdefault(event, []).append(moment)
    holds = defaultdict(list)
    for (image_id, _token), by_event in moments.items():
        start = min(by_event["claimed"])
        if "done" in by_event:
            end = by_event["done"][0]
        else:
            end = max(by_event["claimed"] + by_event.get("renewed", [])) + LEASE_SECONDS
        holds[image_id].append((start, end))
    return holds


def test_workers_complete_every_image_once(session, database_url, tmp_path):
    generate_images(session)
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    started = time.monotonic()

    # The victim claims one batch, then hangs until killed: its leases are never renewed.
    victim_log = tmp_path / "victim.log"
    victim = start_worker(database_url, victim_log, "--batch", "40", "--hang")
    while not victim_log.exists() or victim_log.read_text().count("\n") < 40:
        assert victim.poll() is None and time.monotonic() - started < 30
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    killed_at = time.time()

    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS[backend])]
    workers = [start_worker(database_url, log) for log in logs]
    try:
        for worker in workers:
            remaining = TIME_LIMIT - (time.monotonic() - started)
            assert worker.wait(timeout=max(remaining, 1)) == 0
    finally:
        for worker in workers:  # on failure, none outlives the test (or its database)
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    elapsed = time.monotonic() - started
    print(f"{backend}: {len(workers)} workers, {IMAGES} images in {elapsed:.1f} s")

    events = read_events([victim_log, *logs])
    holds = held_intervals(events)
    # Every image completed exactly once, by the holder of its lease.
    completed = sorted(image_id for event, image_id, *_ in events if event == "done")
    assert completed == session.scalars(select(Image.id).order_by(Image.id)).all()
    # No image held by two leases at once: each lease starts after the previous one ended
    # (completed, or ran out LEASE_SECONDS after its last heartbeat).
    for intervals in holds.values():
        for (_, end), (start, _) in itertools.pairwise(sorted(intervals)):
            assert start >= end - CLOCK_SLACK
    # The victim's 40 images were taken again, once its leases had run out.
    victim_images = {image_id for _, image_id, *_ in read_events([victim_log])}
    assert len(victim_images) == 40
    assert all(len(holds[image_id]) == 2 for image_id in victim_images)
    assert all(min(start for start, _ in holds[image_id]) < killed_at
               for image_id in victim_images)
    assert session.execute(select(Claim.state, func.count()).group_by(Claim.state)).all() == [
        (ClaimState.DONE, IMAGES)]
    assert session.scalar(select(func.count()).where(
        Image.preprocessed == PreprocessState.MINIMAL)) == IMAGES
    assert session.scalar(select(func.count()).where(Claim.attempts > 1)) >= 40
    assert elapsed < TIME_LIMIT
