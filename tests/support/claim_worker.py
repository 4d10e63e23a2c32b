"""A processing worker for the lease tests, run as its own process:

    python -m tests.support.claim_worker DATABASE_URL TASK LOG [--batch N] [--lease S] [--hang]

It claims images for TASK straight through app.processing on its own database session (the
code path the API runs), completes each, and writes one line per event to LOG:
`<event> <image_id> <claim_id> <token> <unix time>`, the event being claimed, renewed (a
heartbeat, due every half lease), done, or lost (the lease ran out and another took it). It
stops when no claim of the task is pending or leased. With --hang it claims one batch, logs it
and then waits forever, to be killed.
"""
from __future__ import annotations

import argparse
import os
import time

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from app.processing import LeaseLost, claim, complete, progress, renew

COMMIT_EVERY = 10


def worker_engine(database_url: str):
    """An engine for one worker process; on SQLite, set up for several writing processes.

    WAL lets readers run beside the writer and commits without a sync each; the long busy
    timeout makes a writer wait its turn (BEGIN IMMEDIATE) rather than give up after 5 s.
    """
    if not database_url.startswith("sqlite"):
        return create_engine(database_url)
    engine = create_engine(database_url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("task")
    parser.add_argument("log")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    engine = worker_engine(args.database_url)
    worker = f"worker-{os.getpid()}"
    with open(args.log, "a", buffering=1) as log, Session(engine) as session:
        while True:
            leases = claim(session, args.task, worker, limit=args.batch, lease_seconds=args.lease)
            session.commit()
            for lease in leases:
                write(log, "claimed", lease)
            if args.hang and leases:
                while True:
                    time.sleep(60)
            if not leases:
                states = progress(session, args.task)
                session.commit()
                if states["pending"] == 0 and states["leased"] == 0:
                    return
                time.sleep(0.2)  # others hold the rest: wait for them to finish or expire
            heartbeat_due = time.time() + args.lease / 2
            remaining = list(leases)
            while remaining:
                if time.time() > heartbeat_due:  # renew the batch before its leases run out
                    remaining = renew_all(session, remaining, args.lease, log)
                    heartbeat_due = time.time() + args.lease / 2
                    continue
                # Completions are committed a few at a time: fewer round trips on a busy
                # machine. A lost lease's UPDATE changes nothing, so it spoils no commit.
                done, lost = [], []
                for lease in remaining[:COMMIT_EVERY]:
                    try:
                        complete(session, lease.claim_id, lease.lease_token)
                        done.append(lease)
                    except LeaseLost:
                        lost.append(lease)
                session.commit()
                del remaining[:COMMIT_EVERY]
                for lease in done:
                    write(log, "done", lease)
                for lease in lost:
                    write(log, "lost", lease)


def write(log, event: str, lease) -> None:
    log.write(f"{event} {lease.image_id} {lease.claim_id} {lease.lease_token} {time.time()}\n")


def renew_all(session: Session, leases: list, lease_seconds: float, log) -> list:
    """Renew every lease in one transaction (a heartbeat); return those still held."""
    held, lost = [], []
    for lease in leases:
        try:
            renew(session, lease.claim_id, lease.lease_token, lease_seconds)
            held.append(lease)
        except LeaseLost:  # its UPDATE changed nothing: the others' renewals still stand
            lost.append(lease)
    session.commit()
    for lease in held:
        write(log, "renewed", lease)
    for lease in lost:
        write(log, "lost", lease)
    return held

if __name__ == "__main__":
    main()
