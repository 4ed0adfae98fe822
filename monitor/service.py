"""The one service layer. The CLI, the daemon and the web app call `Monitor` and hold no logic
of their own (datasette-style: one application object owns settings, database and backends)."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Callable, Mapping, Optional

from sqlmodel import col, select

from connectors import connector_class, registry
from connectors._limits import reply_limit
from connectors.base import CollectedItem, Connector
from models import Draft, Post, PostStatus, Role, Source, SourceStream, as_utc, utcnow
from monitor import assess, collect, decisions, drafts, outbox, privacy, quarantine, queue, stats, teamwork
from monitor.db import Database
from monitor.decisions import Actor
from monitor.drafting.base import SafetyContext
from monitor.errors import Conflict, NeedsSecondApprover
from monitor.settings import SecretStore, Settings, SettingsError
from monitor.queue import THREAD_PAGE, QueueFilter
from monitor.sla import due_for

log = logging.getLogger(__name__)


@dataclass
class ProcessReport:
    assessed: int = 0
    drafted: int = 0
    flagged: int = 0


class Monitor:
    def __init__(self, settings: Settings, environ: Mapping[str, str] = os.environ, **backends: Any):
        """`backends` (analyser=, drafter=, safety=) replace the configured ones: for embedding
        the service elsewhere and for tests that exercise the pipeline, not the models."""
        self.settings = settings
        for name in ("analyser", "drafter", "safety"):
            if backends.get(name) is not None:
                self.__dict__[name] = backends[name]
        self.environ = environ
        self.secrets = SecretStore(settings, environ)
        self.db = Database(settings.app.database_url)
        self.worker_id = outbox.worker_identity()
        self._connectors: dict[str, Connector] = {}

    # ---- set-up -------------------------------------------------------------------------------
    def init(self) -> None:
        """Create or upgrade the schema and register the configured sources."""
        self.db.migrate()
        self.sync_sources()

    def sync_sources(self) -> None:
        configured = {source.name: source for source in self.settings.sources}
        with self.db.session() as session:
            existing = {row.name: row for row in session.exec(select(Source))}
            for name, source in configured.items():
                row = existing.get(name) or Source(name=name, platform=source.platform)
                if row.platform != source.platform and row.id is not None and session.exec(
                        select(Post.id).where(Post.source_id == row.id).limit(1)).first() is not None:
                    raise SettingsError(f"[[sources]] {name} platform",
                                        f"it collected posts from {row.platform!r}; a source cannot change platform "
                                        "once it has posts (give the new one a new name)")
                if row.id is not None and row.platform != source.platform:  # the old platform's bookmarks mean nothing now
                    row.bookmark = None
                    for stream in session.exec(select(SourceStream).where(SourceStream.source_id == row.id)):
                        session.delete(stream)
                row.platform, row.enabled = source.platform, source.enabled
                session.add(row)
            for name, row in existing.items():
                if name not in configured and row.enabled:
                    row.enabled = False
                    session.add(row)

    def check_sources(self) -> None:
        """Build every enabled connector now, so bad platform settings fail at start (exit 2)."""
        for source in self.settings.sources:
            if source.enabled:
                self.connector(source.name)

    # ---- backends (loaded on first use) ---------------------------------------------------
    @cached_property
    def analyser(self):
        from monitor.analysis import build_analyser
        return build_analyser(self.settings)

    @cached_property
    def audience(self):
        from monitor.analysis.audience import AudienceRules
        return AudienceRules.from_shop(self.settings.shop)

    @cached_property
    def drafter(self):
        from monitor.drafting import build_drafter
        return build_drafter(self.settings)

    @cached_property
    def safety(self):
        from monitor.drafting import build_safety_checker
        return build_safety_checker(self.settings)

    @cached_property
    def translator(self):
        from monitor.translation import build_translator
        return build_translator(self.settings)

    def translate(self, text: str, source_language: Optional[str] = None) -> Optional[dict[str, Any]]:
        """The post in `[translation] target_language` for reading (never stored), or None when no
        model is configured; a model that fails says so instead of raising."""
        if self.translator is None:
            return None
        try:
            result = self.translator.translate(text, source_language)
        except Exception as exc:       # a broken model must not break the post's page
            log.warning("translation failed: %s", type(exc).__name__)
            return {"error": f"the translation model could not translate this ({type(exc).__name__})"}
        return {"text": result.text, "target": result.target_language, "model": result.model}

    def connector(self, source_name: str) -> Connector:
        if source_name not in self._connectors:
            source = self.settings.source(source_name)
            cls = connector_class(source.platform)
            if cls is None:
                raise SettingsError(f"[[sources]] {source_name} platform",
                                    f"unknown platform {source.platform!r}; known: {', '.join(sorted(registry()))}")
            self._connectors[source_name] = cls.from_settings(source_name, source.options(), self.secrets)
        return self._connectors[source_name]

    def use_connector(self, source_name: str, connector: Connector) -> None:
        """Use this connector instance for a configured source (embedding, tests)."""
        self.settings.source(source_name)
        self._connectors[source_name] = connector

    def connector_for_post(self, post: Post) -> Connector:
        with self.db.session() as session:
            source = session.get(Source, post.source_id) if post.source_id else None
        if source is None or source.name not in {s.name for s in self.settings.sources}:
            raise outbox.ConnectorUnavailable(f"the source of post {post.id} is not configured any more")
        try:
            return self.connector(source.name)
        except SettingsError as exc:
            raise outbox.ConnectorUnavailable(str(exc)) from None

    def close(self) -> None:
        for connector in self._connectors.values():
            connector.close()
        self.db.dispose()

    # ---- pipeline -----------------------------------------------------------------------------
    def due(self, item: CollectedItem) -> datetime:
        return due_for(self.settings, item.created_at)

    def poll(self, source: Optional[str] = None, *, force: bool = False) -> list[collect.PollResult]:
        names = [source] if source else [s.name for s in self.settings.sources if s.enabled]
        if source:
            self.settings.source(source)  # unknown name -> SettingsError
        results = []
        for name in names:
            try:
                connector = self.connector(name)
            except SettingsError as exc:
                results.append(collect.PollResult(source=name, error=str(exc)))
                continue
            results.append(collect.poll_source(self.db, name, connector, self.due, force=force))
        return results

    def process(self, limit: int = 10_000, on_batch: Optional[Callable[[], None]] = None) -> ProcessReport:
        """Assess what changed and draft replies for open posts that lack a current draft.

        Safe to run in several workers at once: each batch is claimed (see `assess`). `on_batch`
        is called after each stored batch (the daemon's sign of progress)."""
        report = ProcessReport()
        batch = self.settings.analysis.batch_size
        while report.assessed < limit:
            with self.db.session() as session:
                posts = assess.claim_posts_needing_assessment(session, batch)
                if not posts:
                    break
                assessments = assess.assess_batch(session, self.analyser, posts, self.audience)
                report.assessed += len(posts)
                report.flagged += sum(1 for a in assessments if a.flagged)
                # Escalated posts too: a text changed on the platform gets a fresh draft in its language.
                pairs = [(p, a) for p, a in zip(posts, assessments)
                         if p.status in (PostStatus.open, PostStatus.escalated)]
                if pairs:
                    drafted = drafts.draft_batch(session, self.drafter, pairs)
                    report.drafted += len(drafted)
            if on_batch is not None:
                on_batch()
        return report

    def run_once(self) -> tuple[list[collect.PollResult], ProcessReport]:
        return self.poll(), self.process()

    # ---- queue and decisions ----------------------------------------------------------------
    def queue(self, filters: queue.QueueFilter = queue.QueueFilter()) -> list[queue.QueueItem]:
        with self.db.session() as session:
            return queue.list_queue(session, filters)

    def queue_count(self, filters: QueueFilter = QueueFilter()) -> int:
        with self.db.session() as session:
            return queue.count_queue(session, filters)

    def show(self, post_id: int, *, thread_after: Optional[int] = None,
             thread_limit: int = THREAD_PAGE) -> queue.PostDetail:
        with self.db.session() as session:
            return queue.show_post(session, post_id, thread_after=thread_after, thread_limit=thread_limit)

    def safety_context(self, post: Post) -> SafetyContext:
        return SafetyContext(post_text=post.text, post_language=post.language, platform=post.platform,
                             author_handle=post.author_handle, max_length=self._max_reply_length(post))

    def _max_reply_length(self, post: Post) -> Optional[int]:
        """The platform's limit: from the source's connector when one is in use, else from the
        table the connectors take theirs from (building a connector to approve a text would read
        secrets and open sessions; importing its module would load the client library)."""
        with self.db.session() as session:
            source = session.get(Source, post.source_id) if post.source_id else None
        if source is not None and source.name in self._connectors:
            return self._connectors[source.name].max_reply_length
        return reply_limit(post.platform)

    def check_text(self, post_id: int, text: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            post = decisions.get_post(session, post_id)
        return [f.as_dict() for f in self.safety.check(text, self.safety_context(post))]

    def check_reply(self, post_id: int, text: str) -> dict[str, Any]:
        """What the editor shows while a person types: the length as the platform counts it (X
        weighs URLs and emoji), the limit, and the same findings approval would raise."""
        with self.db.session() as session:
            post = decisions.get_post(session, post_id)
        context = self.safety_context(post)
        final = decisions.reply_text(text)
        findings = [f.as_dict() for f in self.safety.check(final, context)]
        measure = getattr(self.safety, "measure", None)
        limit_for = getattr(self.safety, "limit_for", None)
        return {"length": measure(final, post.platform) if measure else len(final),
                "limit": limit_for(post.platform, context.max_length) if limit_for else context.max_length,
                "weighted": post.platform == "x", "findings": findings,
                "blocking": sum(1 for f in findings if f.get("severity", "block") == "block")}

    def approve(self, post_id: int, actor: Actor, *, text: Optional[str] = None, draft_id: Optional[int] = None,
                override_reason: Optional[str] = None) -> decisions.Decision:
        try:
            with self.db.session() as session:
                post = decisions.get_post(session, post_id)
                return decisions.approve(session, post_id, actor, self.safety, self.safety_context(post), text=text,
                                         draft_id=draft_id, override_reason=override_reason,
                                         four_eyes=self.settings.approval.four_eyes)
        except NeedsSecondApprover as refused:
            with self.db.session() as session:   # the refusal rolled back; keep the text and the request
                post = decisions.get_post(session, post_id)
                refused.draft_id = decisions.request_second_approver(session, post_id, actor, text, refused,
                                                                     self.safety, self.safety_context(post))
            refused.args = (refused.describe(),)
            raise

    # ---- learning from approvers (monitor.learning) -------------------------------------------
    def approve_saved(self, post_id: int, actor: Actor, name: str,
                      override_reason: Optional[str] = None) -> decisions.Decision:
        """Approve a saved reply for a post: the same checks as any text the person wrote."""
        from monitor import learning
        with self.db.session() as session:
            text = learning.saved_reply(session, name).text
        return self.approve(post_id, actor, text=text, override_reason=override_reason)

    def saved_replies(self, language: Optional[str] = None, topic: Optional[str] = None) -> list[dict[str, Any]]:
        from monitor import learning
        with self.db.session() as session:
            return [r.model_dump(mode="json") for r in learning.saved_replies(session, language=language, topic=topic)]

    def save_reply(self, actor: Actor, name: str, text: str, language: Optional[str] = None,
                   topic: str = "") -> dict[str, Any]:
        from monitor import learning
        actor.require(Role.approver, Role.admin)
        with self.db.session() as session:
            return learning.save_reply(session, name, text, language=language, topic=topic,
                                       actor=actor.name).model_dump(mode="json")

    def delete_saved(self, actor: Actor, name: str) -> None:
        from monitor import learning
        actor.require(Role.approver, Role.admin)
        with self.db.session() as session:
            learning.delete_saved(session, name)

    def phrase_proposals(self, min_repeats: int = 2) -> list[dict[str, Any]]:
        from monitor import learning
        with self.db.session() as session:
            return [p.as_dict() for p in learning.propose(session, min_repeats=min_repeats,
                                                           phrase_slots=self._phrase_slots)]

    def accept_proposal(self, actor: Actor, proposal_id: str, slot: Optional[str] = None,
                        min_repeats: int = 2) -> str:
        from monitor import learning
        actor.require(Role.admin, Role.approver)
        with self.db.session() as session:
            path = learning.accept(session, proposal_id, self.settings.drafting.phrases_dir,
                                   voice=self.settings.drafting.address, min_repeats=min_repeats,
                                   phrase_slots=self._phrase_slots, slot=slot)
        return str(path)

    def _phrase_slots(self, language: str, topic: str) -> dict[str, str]:
        """{rendered phrasebook sentence: slot} for a language and topic (where an edit replaced it)."""
        drafter = getattr(self.drafter, "phrasebook", None) or getattr(getattr(self.drafter, "fallback", None),
                                                                         "phrasebook", None)
        if drafter is None or not drafter.has_language(language):
            return {}
        facts = drafter.facts(language)
        out: dict[str, str] = {}
        for voice in ("formal", "informal"):
            for section in (topic, "shared"):
                for slot, variants in ((drafter.tables[language].get(voice) or {}).get(section) or {}).items():
                    for variant in variants:
                        out.setdefault(drafter.render(variant, facts), slot)
        return out

    def reject(self, post_id: int, actor: Actor, reason: str) -> decisions.Decision:
        with self.db.session() as session:
            return decisions.reject(session, post_id, actor, reason)

    # ---- the shop's word on the flag (CLI `monitor label`, the web app) -----------------------
    def label(self, post_id: int, kind: str, actor: Actor, note: Optional[str] = None):
        """Record whether a post should have been flagged (kinds: monitor.labels.KINDS)."""
        from monitor import labels
        with self.db.session() as session:
            return labels.add_label(session, post_id, kind, actor, note)

    def labelled_posts(self) -> list:
        """The shop's labelled posts (explicit labels and the decisions that say the same)."""
        from monitor import labels
        with self.db.session() as session:
            return labels.collect(session)

    def uncertain_posts(self, limit: int = 20) -> list[Post]:
        """Open posts the flag is least sure about (severity nearest the threshold), unlabelled."""
        from monitor import labels
        with self.db.session() as session:
            return labels.uncertain(session, self.settings.analysis.flag_threshold, limit)

    def escalate(self, post_id: int, actor: Actor, to: str, reason: Optional[str] = None) -> decisions.Decision:
        with self.db.session() as session:
            return decisions.escalate(session, post_id, actor, to, reason)

    def propose(self, post_id: int, actor: Actor, text: str) -> Draft:
        with self.db.session() as session:
            post = decisions.get_post(session, post_id)
            return decisions.propose(session, post_id, actor, text, self.safety, self.safety_context(post))

    def claim(self, post_id: int, actor: Actor, minutes: int) -> None:
        """Tell colleagues "I am on it" for `minutes`; refuses when someone else holds the post."""
        from datetime import timedelta
        now = utcnow()
        with self.db.session() as session:
            post = decisions.get_post(session, post_id)
            if post.claimed_by and post.claimed_by != actor.name and post.claimed_until \
                    and as_utc(post.claimed_until) > now:
                raise Conflict(f"{post.claimed_by} is working on post {post_id}")
            post.claimed_by, post.claimed_until = actor.name, now + timedelta(minutes=minutes)
            session.add(post)

    def release(self, post_id: int, actor: Actor) -> None:
        with self.db.session() as session:
            post = decisions.get_post(session, post_id)
            if post.claimed_by == actor.name:
                post.claimed_by, post.claimed_until = None, None
                session.add(post)

    # ---- teamwork: assignment, notes, tags, closing, search ---------------------------------------
    def assign(self, post_id: int, actor: Actor, to: Optional[str] = None) -> Post:
        """To me (None or "me"; takes the lock), to a colleague, or to a team such as legal."""
        with self.db.session() as session:
            return teamwork.assign(session, post_id, actor, to, self.settings.web.lock_minutes)

    def note(self, post_id: int, actor: Actor, text: str) -> None:
        with self.db.session() as session:
            teamwork.note(session, post_id, actor, text)

    def tag(self, post_id: int, actor: Actor, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> list[str]:
        with self.db.session() as session:
            return teamwork.tag(session, post_id, actor, add, remove)

    def close_posts(self, post_ids: list[int], actor: Actor, reason: str) -> teamwork.CloseReport:
        """Close without a reply (spam, praise that needs none); each post on its own."""
        return teamwork.close(self.db.session, post_ids, actor, reason)

    def search(self, words: str, *, status: Optional[str] = None, limit: int = 50) -> list[queue.QueueItem]:
        """Posts whose text or author match every word (most urgent first)."""
        return self.queue(QueueFilter(status=status, search=words, limit=limit))

    # ---- posting ------------------------------------------------------------------------------
    def post_approved(self, limit: int = 100) -> outbox.SendReport:
        return outbox.send_approved(self.db, self.connector_for_post, self.worker_id, limit=limit)

    def outbox(self, states: tuple[str, ...] = (), *, limit: Optional[int] = None,
               newest_first: bool = False, after: Optional[int] = None) -> list[dict[str, Any]]:
        return [queue._plain(row) for row in outbox.list_outbox(self.db, states, limit=limit, newest_first=newest_first,
                                                                after=after)]

    def outbox_counts(self, states: tuple[str, ...] = ()) -> dict[str, int]:
        return outbox.count_by_state(self.db, states)

    def retry_reply(self, outbox_id: int, actor: Actor) -> None:
        actor.require(Role.approver, Role.admin)
        outbox.retry(self.db, outbox_id, actor.name)

    def resolve_reply(self, outbox_id: int, actor: Actor, reply_id: str) -> None:
        actor.require(Role.approver, Role.admin)
        outbox.resolve_posted(self.db, outbox_id, actor.name, decisions.limited(reply_id, "reply id", 200) or "")

    def cancel_reply(self, outbox_id: int, actor: Actor, reason: str) -> None:
        actor.require(Role.approver, Role.admin)
        outbox.cancel(self.db, outbox_id, actor.name, decisions.limited(reason, "reason") or "")

    # ---- privacy (GDPR) ------------------------------------------------------------------------
    def forget(self, platform: str, handle: str, actor: Actor) -> privacy.ErasureReport:
        """Erase one person's posts, drafts, decisions' texts and audit texts (admin only)."""
        actor.require(Role.admin)
        with self.db.session() as session:
            return privacy.forget_author(session, platform, handle, actor.name)

    def apply_retention(self, actor: str = "retention") -> privacy.ErasureReport:
        """Erase what is older than `[retention] days`, in batches; nothing when it is 0."""
        total = privacy.ErasureReport()
        days = self.settings.retention.days
        while days:
            with self.db.session() as session:
                done = privacy.apply_retention(session, days, actor)
            total.posts += done.posts
            total.withdrawn += done.withdrawn
            total.skipped = done.skipped
            if len(done.posts) + len(done.skipped) < privacy.RETENTION_BATCH or not done.posts:
                break
        return total

    # ---- readiness ----------------------------------------------------------------------------
    def doctor(self) -> list["doctor.Check"]:
        """Settings, database, model files, credentials, alerts, clock: one row each."""
        from monitor import doctor
        return doctor.run_checks(self)

    # ---- backups ------------------------------------------------------------------------------
    def backup(self, path: str, *, overwrite: bool = False) -> "backup.BackupReport":
        from monitor import backup
        return backup.backup(self.db, path, overwrite=overwrite)

    def restore(self, path: str) -> "backup.BackupReport":
        from monitor import backup
        report = backup.restore(self.db, path)
        self.sync_sources()
        return report

    # ---- reporting ----------------------------------------------------------------------------
    def sources(self) -> list[dict[str, Any]]:
        intervals = {s.name: s.interval_seconds for s in self.settings.sources}
        with self.db.session() as session:
            rows = list(session.exec(select(Source).order_by(col(Source.name))))
            streams: dict[int, list[dict[str, Any]]] = {}
            for stream in session.exec(select(SourceStream).order_by(col(SourceStream.id))):
                streams.setdefault(stream.source_id, []).append(
                    queue._plain(stream.model_dump(exclude={"bookmark", "source_id", "id"})))
            waiting = quarantine.waiting_counts(session)
        out = []
        for row in rows:
            item = row.model_dump(exclude={"bookmark"})
            item["configured"] = row.name in intervals
            item["interval_seconds"] = intervals.get(row.name)
            item["streams"] = streams.get(row.id, [])
            item["failing_streams"] = [s["stream"] for s in item["streams"] if s["last_error"]]
            item["quarantined"] = waiting.get(row.id, 0)
            out.append(queue._plain(item))
        return out

    # ---- quarantine ---------------------------------------------------------------------------
    def quarantine(self, states: tuple[str, ...] = ("waiting",), *, source: Optional[str] = None,
                   limit: int = 200) -> list[dict[str, Any]]:
        return [queue._plain(row) for row in quarantine.list_items(self.db, states, source, limit)]

    def quarantined_item(self, item_id: int) -> dict[str, Any]:
        return queue._plain(quarantine.show(self.db, item_id))

    def retry_quarantined(self, item_id: int, actor: Actor) -> quarantine.RetryResult:
        """Read a quarantined item again with its source's connector (after a fix) and store it."""
        actor.require(Role.approver, Role.admin)
        return quarantine.retry(self.db, item_id, actor.name, self.connector, self.due)

    def drop_quarantined(self, item_id: int, actor: Actor, reason: str) -> None:
        actor.require(Role.approver, Role.admin)
        quarantine.drop(self.db, item_id, actor.name, reason)

    def stats(self, days: Optional[int] = stats.STATS_DAYS) -> dict[str, Any]:
        with self.db.session() as session:
            return stats.compute(session, utcnow(), days)
