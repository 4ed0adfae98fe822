"""`monitor daemon`: poll every source on its schedule, fairly; analyse and draft at once; alert
on critical posts and remind about overdue ones; post what people approved, at most once.

One pass: lease the due sources and advance their polls round-robin, one page per source per
round, so a source with a huge backlog or slow pages never keeps another's new posts waiting;
sources that fall due meanwhile join the rounds (each source at most once per pass). After every
round that stored something the new posts are analysed and critical ones alerted, and approved
replies go out every `post_interval_seconds`, even in the middle of a long poll. Analysis takes a
bounded share per turn (a backlog never stops polling; the next pass follows at once while one
waits); workers on PostgreSQL each claim their own batches. Between passes it sleeps until the
next source is due (at most `idle_seconds`).

A stop request (SIGTERM, SIGINT, `--max-seconds`) is honoured between two units of work: the
page in hand is stored with its bookmark, or not at all; leases are given back. A second
SIGINT/SIGTERM interrupts at once (the open transaction rolls back).
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Optional

from sqlmodel import select

from connectors.base import AuthExpired, Connector, RateLimited, ReplyTarget
from models import Post, Source, as_utc, utcnow
from monitor import outbox
from monitor.collect import LeaseLost, PollResult, SourcePoll
from monitor.daemon import leases
from monitor.daemon.alerts import Notifier, build_channels
from monitor.daemon.housekeeping import Housekeeping
from monitor.daemon.metrics import DaemonMetrics
from monitor.daemon.schedule import PARKED_HINT, plan_next
from monitor.db import DatabaseError
from monitor.logformat import log_context
from monitor.settings import SettingsError

log = logging.getLogger(__name__)
POST_BATCH = 10            # replies per outbox call: a stop request waits for at most this many
POST_ROUNDS = 20           # outbox calls per posting turn at most (bounded even if rows keep coming)
ANALYSIS_BATCHES = 8       # analysis batches per turn at most: polling and posting go on under a backlog
TROUBLE_WAIT_CAP = 60.0    # longest sleep after a pass failed (database away)
METRICS_EVERY = 15.0       # seconds between metric refreshes during a long pass


@dataclass
class PassReport:
    polls: list[PollResult] = field(default_factory=list)
    assessed: int = 0
    flagged: int = 0
    analysis_waiting: bool = False   # the last turn stopped at its bound: more posts to analyse now
    alerted: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)         # outbox ids confirmed on the platform
    problems: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    passes: int = 0
    polls: int = 0
    new_posts: int = 0
    assessed: int = 0          # posts this worker analysed (workers on PostgreSQL share the rest)
    sent: int = 0
    alerts: int = 0
    poll_errors: int = 0
    problems: int = 0
    stopped_by: str = ""


class _PostingGuard:
    """Wraps a source's connector for the outbox: a platform that refused a reply for rate or
    credentials is not asked again (by this worker) before it may be; its replies wait."""

    def __init__(self, connector: Connector, source_id: Optional[int], paused: dict[int, datetime],
                 pause_on_auth: timedelta):
        self._connector, self._source_id, self._paused = connector, source_id, paused
        self._pause_on_auth = pause_on_auth
        self.max_reply_length = connector.max_reply_length

    def reply(self, target: ReplyTarget, text: str) -> str:
        until = self._paused.get(self._source_id) if self._source_id is not None else None
        if until is not None and until > utcnow():
            raise RateLimited(f"the platform asked us to wait until {until:%H:%M:%S} UTC", until)
        try:
            return self._connector.reply(target, text)
        except RateLimited as exc:
            self._pause(as_utc(exc.until))
            raise
        except AuthExpired:
            self._pause(utcnow() + self._pause_on_auth)
            raise

    def find_reply(self, target: ReplyTarget, text: str) -> Optional[str]:
        return self._connector.find_reply(target, text)

    def _pause(self, until: datetime) -> None:
        if self._source_id is not None:
            self._paused[self._source_id] = until


class Daemon:
    """The scheduling loop around one `Monitor`. `run()` blocks; `stop()` may come from anywhere."""

    def __init__(self, monitor: Any, *, worker_name: Optional[str] = None, rng: Optional[random.Random] = None,
                 metrics: Optional[DaemonMetrics] = None):
        self.monitor = monitor
        self.settings = monitor.settings
        self.config = monitor.settings.daemon
        self.db = monitor.db
        self.worker = outbox.worker_identity(worker_name)
        monitor.worker_id = self.worker          # outbox claims carry the same identity as leases
        self.rng = rng or random.Random()
        if metrics is None and self.config.metrics_port:
            metrics = DaemonMetrics()
        self.metrics = metrics
        self.metrics_port: Optional[int] = None
        self.notifier: Optional[Notifier] = None
        self.housekeeping = Housekeeping(monitor, lambda: self.notifier)   # retention, daily credential checks
        self.lock = leases.DaemonLock(self.db)
        self.heartbeat = leases.Heartbeat(self.db, self.worker, lease_seconds=self.config.lease_seconds)
        self._stop = threading.Event()
        self._stopped_by = ""
        self._last_post = float("-inf")
        self._posting_paused: dict[int, datetime] = {}
        self.report = RunReport()

    # ---- control ----------------------------------------------------------------------------
    def stop(self, why: str = "stop requested") -> None:
        if not self._stop.is_set():
            self._stopped_by = why
            log.info("%s: finishing the unit of work in hand, then stopping", why)
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @contextmanager
    def signals(self) -> Iterator[None]:
        """SIGTERM/SIGINT ask for a graceful stop; a second one interrupts at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(signum: int, _frame: Any) -> None:
            if self.stopping:
                raise KeyboardInterrupt
            self.stop(signal.Signals(signum).name)

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def source_names(self) -> list[str]:
        return [s.name for s in self.settings.sources if s.enabled]

    # ---- the loop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Checks that fail the start with a clear message (exit codes via the CLI)."""
        self.lock.acquire()                           # SQLite: refuses a second daemon (exit 4)
        try:
            self.monitor.check_sources()              # bad platform settings: exit 2 now, not later
            if self.notifier is None:
                self.notifier = Notifier(self.db, self.settings, build_channels(self.settings, self.monitor.secrets),
                                         on_delivery=self.metrics.observe_notification if self.metrics else None)
            if self.lock.exclusive:
                leases.clear_leases(self.db)          # only a dead daemon can have left them
            if self.db.is_postgres:                   # where other workers could take our sources over
                self.heartbeat.start()
            parked = leases.unpark(self.db, self.source_names())
            if parked:
                log.info("trying parked source(s) once with this start's credentials: %s", ", ".join(parked))
            if self.metrics is not None and self.config.metrics_port:
                try:
                    self.metrics_port = self.metrics.serve(self.config.metrics_host, self.config.metrics_port)
                except OSError as exc:
                    raise SettingsError("[daemon] metrics_port", f"cannot listen on {self.config.metrics_host}:"
                                        f"{self.config.metrics_port} ({exc.strerror or exc})") from None
        except BaseException:
            self.heartbeat.stop()
            self.lock.release()
            raise

    def run(self, *, once: bool = False, max_seconds: Optional[float] = None) -> RunReport:
        report = self.report = RunReport()   # filled in as passes end (others may watch it)
        deadline = time.monotonic() + max_seconds if max_seconds is not None else None
        self.start()
        trouble = 0
        try:
            with self.signals(), log_context(worker=self.worker):
                while not self.stopping:
                    result = None
                    try:
                        result = self.run_pass(deadline)
                        trouble = 0
                    except DatabaseError as exc:   # the database went away: wait and try again
                        trouble += 1
                        report.problems += 1
                        log.error("pass failed: %s; trying again later", exc)
                        self._give_back_leases()
                    except Exception:              # a bug must not end months of unattended running
                        trouble += 1
                        report.problems += 1
                        log.exception("pass failed; trying again later")
                        self._give_back_leases()
                    report.passes += 1
                    if result is not None:
                        report.polls += len(result.polls)
                        report.new_posts += sum(r.new for r in result.polls)
                        report.assessed += result.assessed
                        report.poll_errors += sum(1 for r in result.polls if r.error)
                        report.sent += len(result.sent)
                        report.alerts += len(result.alerted)
                        report.problems += len(result.problems)
                    if once:
                        self._stopped_by = self._stopped_by or "--once"
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        self.stop("--max-seconds reached")
                        break
                    wait = 0.0 if result is not None and result.analysis_waiting else self._idle_seconds(trouble)
                    if deadline is not None:
                        wait = min(wait, max(0.0, deadline - time.monotonic()))
                    self._stop.wait(wait)
        finally:
            self.shutdown()
        report.stopped_by = self._stopped_by or "stop requested"
        return report

    def _give_back_leases(self) -> None:
        try:
            released = leases.release_all(self.db, self.worker)
            if released:
                log.info("gave back %s source lease(s)", released)
        except Exception as exc:  # the database may be the very thing that is away
            log.error("could not give back leases (they expire by themselves): %s", exc)

    def shutdown(self) -> None:
        try:
            self.heartbeat.stop()
            self._give_back_leases()
        finally:
            if self.metrics is not None:
                self.metrics.close()
            self.lock.release()

    def _idle_seconds(self, trouble: int) -> float:
        """Until the next source this worker could claim, or the next posting turn (<= idle_seconds)."""
        if trouble:
            return min(TROUBLE_WAIT_CAP, self.config.idle_seconds * 2 ** min(trouble, 6))
        now = utcnow()
        wait = self.config.idle_seconds
        try:
            with self.db.session() as session:
                rows = list(session.exec(select(Source).where(Source.enabled, Source.name.in_(self.source_names()))))
        except DatabaseError as exc:
            log.error("cannot read the schedule: %s", exc)
            return wait
        for source in rows:
            if source.needs_reauth and source.next_poll_at is None:
                continue  # parked
            ready = [as_utc(source.next_poll_at) if source.next_poll_at else now]
            if source.rate_limited_until:
                ready.append(as_utc(source.rate_limited_until))
            if source.lease_owner and source.lease_owner != self.worker and source.lease_until:
                ready.append(as_utc(source.lease_until))
            wait = min(wait, (max(ready) - now).total_seconds())
        until_post = self._last_post + self.config.post_interval_seconds - time.monotonic()
        return max(0.01, min(wait, until_post))

    # ---- one pass -----------------------------------------------------------------------------
    def run_pass(self, deadline: Optional[float] = None) -> PassReport:
        report = PassReport()
        self._rounds(report, deadline)
        if self.stopping:
            return report          # what was stored is analysed on the next start
        self._process(report)
        self._notify(report)
        self._post(report)
        self._guard("housekeeping", report, lambda: report.problems.extend(self.housekeeping.run()))
        self._refresh_metrics(report)
        return report

    def _admit(self, active: list[SourcePoll], polled: set[str], report: PassReport) -> None:
        """Lease sources that are due and not yet polled in this pass; they join the rounds."""
        room = self.config.sources_per_pass - len(active)
        candidates = [name for name in self.source_names() if name not in polled]
        if room <= 0 or not candidates:
            return
        names = leases.claim_due(self.db, self.worker, candidates, lease_seconds=self.config.lease_seconds,
                                 limit=room, exclusive=self.lock.exclusive)
        for name in names:
            polled.add(name)
            poll = self._begin(name, report)
            if poll is not None:
                active.append(poll)

    def _rounds(self, report: PassReport, deadline: Optional[float]) -> None:
        """Round-robin, one page per source per round, until every poll of this pass is done."""
        active: list[SourcePoll] = []
        try:
            self._advance(active, report, deadline)
        except BaseException:
            for poll in active:   # a failed pass leaves no connector in the middle of a listing
                poll.close()
            raise

    def _advance(self, active: list[SourcePoll], report: PassReport, deadline: Optional[float]) -> None:
        polled: set[str] = set()
        last_admit = last_renewal = last_metrics = time.monotonic()
        self._admit(active, polled, report)
        while active:
            stored = False
            for poll in list(active):
                if self._out_of_time(deadline):
                    break
                self.heartbeat.progress()
                try:
                    with log_context(source=poll.name):
                        more = poll.step()
                except LeaseLost as exc:
                    log.warning("%s; dropping this poll (the pages stored so far are kept)", exc)
                    poll.close()
                    active.remove(poll)
                    continue
                stored = stored or bool(poll.result.new or poll.result.updated)
                if not more:
                    self._conclude(poll, report, complete=True)
                    active.remove(poll)
            if self._out_of_time(deadline):
                for poll in active:   # every stored page is committed with its bookmark: stop here
                    if poll.result.pages:
                        self._conclude(poll, report, complete=False)
                    else:             # not asked yet: nothing to record; shutdown gives the lease back
                        poll.close()
                return
            now = time.monotonic()
            if active and now - last_renewal > self.config.lease_seconds / 3:
                last_renewal = now
                held = leases.renew(self.db, self.worker, [p.name for p in active],
                                    lease_seconds=self.config.lease_seconds)
                for poll in [p for p in active if p.name not in held]:
                    log.warning("%s: the lease of %s expired and passed to another worker; dropping this poll "
                                "(the pages stored so far are kept)", poll.name, self.worker)
                    poll.close()
                    active.remove(poll)
            if stored:                # new posts reach the queue, and critical ones a person, at once
                self._process(report)
                self._notify(report, reminders=False)
            self._post(report)
            if not active or now - last_admit >= self.config.idle_seconds:
                last_admit = now      # sources due meanwhile, or beyond sources_per_pass, join
                self._admit(active, polled, report)
            if now - last_metrics >= METRICS_EVERY:
                last_metrics = now
                self._refresh_metrics(report)

    def _out_of_time(self, deadline: Optional[float]) -> bool:
        return self.stopping or (deadline is not None and time.monotonic() >= deadline)

    def _begin(self, name: str, report: PassReport) -> Optional[SourcePoll]:
        try:
            connector = self.monitor.connector(name)
        except SettingsError as exc:   # settings changed under us: keep trying with back-off
            self._failed_start(name, PollResult(source=name, error=str(exc)), report)
            return None
        poll = SourcePoll(self.db, name, connector, self.monitor.due, lease_owner=self.worker)
        if not poll.start():  # rate-limited after all (set by someone else since the claim)
            self._reschedule(poll.result, report, error_count=0)
            return None
        return poll

    def _failed_start(self, name: str, result: PollResult, report: PassReport) -> None:
        with self.db.session() as session:
            source = session.exec(select(Source).where(Source.name == name)).one()
            source.error_count += 1
            source.last_error, source.last_poll_at = result.error, utcnow()
            session.add(source)
            errors = source.error_count
        self._reschedule(result, report, error_count=errors)

    def _conclude(self, poll: SourcePoll, report: PassReport, *, complete: bool) -> None:
        result = poll.finish(complete=complete)
        with self.db.session() as session:
            errors = session.exec(select(Source.error_count).where(Source.name == poll.name)).one()
        self._reschedule(result, report, error_count=errors)

    def _reschedule(self, result: PollResult, report: PassReport, *, error_count: int) -> None:
        interval = self.settings.source(result.source).interval_seconds
        plan = plan_next(result, now=utcnow(), interval_seconds=interval, error_count=error_count,
                         jitter_seconds=self.config.jitter_seconds, backoff_base_seconds=self.config.backoff_base_seconds,
                         backoff_cap_seconds=self.config.backoff_cap_seconds, rng=self.rng)
        note = None
        if plan.next_poll_at is None:
            note = f"{result.error} - {PARKED_HINT.format(name=result.source)}"
            log.error("%s: %s", result.source, note)
        leases.release(self.db, self.worker, result.source, next_poll_at=plan.next_poll_at, note=note)
        report.polls.append(result)
        if self.metrics:
            self.metrics.observe_poll(result)
        log.debug("%s: %s new, %s updated, %s page(s); next: %s", result.source, result.new, result.updated,
                  result.pages, plan.why)

    # ---- after polling --------------------------------------------------------------------------
    def _guard(self, what: str, report: PassReport, step: Callable[[], None]) -> None:
        """One step's failure is logged and retried next pass; it never stops the daemon."""
        try:
            step()
        except DatabaseError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            log.exception("%s failed; trying again on the next pass", what)
            report.problems.append(f"{what}: {type(exc).__name__}: {exc}")

    def _process(self, report: PassReport) -> None:
        def step() -> None:   # workers share the work: each batch is claimed by one of them
            self.heartbeat.progress()
            limit = ANALYSIS_BATCHES * self.settings.analysis.batch_size
            done = self.monitor.process(limit=limit, on_batch=self.heartbeat.progress)
            report.analysis_waiting = done.assessed >= limit
            report.assessed += done.assessed
            report.flagged += done.flagged
        self._guard("analysis and drafting", report, step)

    def _notify(self, report: PassReport, *, reminders: bool = True) -> None:
        def step() -> None:
            if self.notifier is not None:
                done = self.notifier.run(reminders=reminders)
                report.alerted.extend(done.alerted)
                report.reminded.extend(done.reminded)
                report.problems.extend(done.failures)
        self._guard("alerts", report, step)

    def _post(self, report: PassReport) -> None:
        if time.monotonic() - self._last_post < self.config.post_interval_seconds:
            return
        self._last_post = time.monotonic()

        def step() -> None:
            for _ in range(POST_ROUNDS):
                if self.stopping:
                    return
                self.heartbeat.progress()
                now = utcnow()
                paused = {sid for sid, until in self._posting_paused.items() if until > now}
                done = outbox.send_approved(self.db, self._connector_for, self.worker, limit=POST_BATCH,
                                            skip_sources=paused)
                confirmed = done.sent + done.reconciled
                report.sent.extend(confirmed)
                if self.metrics:
                    self.metrics.observe_sent(len(confirmed))
                for outbox_id, error in done.errors.items():
                    report.problems.append(f"reply {outbox_id}: {error}")
                handled = (len(done.sent) + len(done.reconciled) + len(done.failed) + len(done.uncertain)
                           + len(done.needs_person) + len(done.deferred))
                if handled < POST_BATCH or not (confirmed or done.failed or done.needs_person):
                    return
        self._guard("posting", report, step)

    def _connector_for(self, post: Post) -> Any:
        connector = self.monitor.connector_for_post(post)
        pause = timedelta(seconds=self.config.backoff_cap_seconds)
        return _PostingGuard(connector, post.source_id, self._posting_paused, pause)

    def _refresh_metrics(self, report: PassReport) -> None:
        if self.metrics is not None:
            self._guard("metrics", report, lambda: self.metrics.refresh(self.db, self.source_names()))
