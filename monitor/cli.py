"""`monitor`: the command line. Parses options, calls `Monitor`, prints; no logic of its own.

Exit codes (scripts rely on them): 0 ok; 1 some work failed; 2 settings or usage error;
3 not found; 4 conflict (already decided, held by a colleague, findings need an override);
5 database unavailable; 6 not allowed for this role.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from monitor.errors import DatabaseError, MonitorError, SettingsError

# Start-up time matters (approvers run `monitor approve` in a loop): the database layer, the
# service, the models and the client libraries are imported inside the commands that use them
# (`bench/cli_startup.py` measures it; a test keeps the heavy ones out of `import monitor.cli`).

app = typer.Typer(help="Social media and review reply monitor: collect, flag, draft, approve, post.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
# Piped output (scripts, CI logs) gets a wide table instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class State:
    settings_path: Optional[str] = None
    actor: Optional[str] = None
    demo: bool = False


state = State()


@app.callback()
def _global(settings: Optional[str] = typer.Option(None, "--settings", "-s", help="settings.toml to use (default: $MONITOR_SETTINGS, ./settings.toml, built-in defaults)."),
            as_user: Optional[str] = typer.Option(None, "--as", help="Who acts (recorded in the audit log); default: the user in the app section of settings."),
            demo: bool = typer.Option(False, "--demo", help="Use the demo: local fake platforms seeded with demo posts, demo.db.")) -> None:
    state.settings_path, state.actor, state.demo = settings, as_user, demo


@contextmanager
def service(*, init: bool = True) -> Iterator[Any]:
    """A ready `Monitor`; every known failure becomes a message and an exit code, never a traceback."""
    from monitor import logs
    from monitor.service import Monitor
    from monitor.settings import load_settings
    monitor = None
    try:
        settings = load_settings(state.settings_path)
        logs.configure(settings.app.log_level, settings.app.log_format)
        if state.demo:
            from monitor.demo import DemoEnvironment
            with DemoEnvironment(settings) as (demo_settings, environ):
                monitor = Monitor(demo_settings, environ)
                if init:
                    monitor.init()
                yield monitor
        else:
            monitor = Monitor(settings)
            if init:
                monitor.init()
            yield monitor
    except SettingsError as exc:
        errors.print(f"[red]settings error:[/red] {escape(str(exc))}")
        raise typer.Exit(2)
    except DatabaseError as exc:
        errors.print(f"[red]database error:[/red] {escape(str(exc))}")
        raise typer.Exit(5)
    except MonitorError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted; nothing half-done was kept")
        raise typer.Exit(130)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug: say so plainly; MONITOR_DEBUG=1 shows the traceback
        if os.environ.get("MONITOR_DEBUG") == "1":
            raise
        errors.print(f"[red]internal error:[/red] {escape(type(exc).__name__)}: {escape(str(exc))} "
                     "(nothing half-done was kept; run with MONITOR_DEBUG=1 for details)")
        raise typer.Exit(1)
    finally:
        if monitor is not None:
            monitor.close()


def actor(monitor: Any) -> Any:
    from monitor.decisions import Actor
    return Actor(name=state.actor or monitor.settings.app.user)


def emit_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))


# ---- set-up and collection ----------------------------------------------------------------------
@app.command()
def init() -> None:
    """Create or upgrade the database and register the configured sources."""
    with service(init=False) as monitor:
        monitor.check_sources()       # every source's settings and secrets first: nothing half-registered
        monitor.init()
        console.print(f"database ready: {monitor.db!r}; {len(monitor.settings.sources)} source(s) configured")


@app.command()
def poll(source: Optional[str] = typer.Option(None, "--source", help="Poll only this source."),
         force: bool = typer.Option(False, help="Ask even a source that is rate-limited."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Collect new posts, analyse them and draft replies."""
    with service() as monitor:
        results = monitor.poll(source, force=force)
        report = monitor.process()
        if as_json:
            emit_json({"sources": [vars(r) for r in results], "processed": vars(report)})
        else:
            for r in results:
                status = "[green]ok[/green]" if r.ok else f"[yellow]{escape(r.skipped or '')}[/yellow]" if r.skipped else f"[red]{escape(r.error or '')}[/red]"
                console.print(f"{escape(r.source)}: {r.new} new, {r.updated} updated; {status}")
                for stream, error in ({} if r.error else r.stream_errors).items():
                    console.print(f"  [yellow]stream {escape(stream)} failed (the others went on): {escape(error)}[/yellow]")
                if r.quarantined:
                    console.print(f"  [yellow]{r.quarantined} unreadable item(s) held in quarantine: "
                                  "monitor quarantine list[/yellow]")
            console.print(f"assessed {report.assessed}, flagged {report.flagged}, drafted {report.drafted}")
        if any(r.error for r in results):
            raise typer.Exit(1)


@app.command()
def demo(fresh: bool = typer.Option(True, help="Start from an empty demo database.")) -> None:
    """Run the whole pipeline on the demo: fake platforms, real connectors, the bundled model."""
    state.demo = True
    from monitor.demo import reset_demo
    if fresh:
        reset_demo()
    with service() as monitor:
        results = monitor.poll()
        report = monitor.process()
        for r in results:
            console.print(f"collected {r.new:>2} from {escape(r.source)}" + ("" if r.ok else f" [red]{escape(r.error or r.skipped or '')}[/red]"))
        console.print(f"assessed {report.assessed}, flagged {report.flagged}, drafted {report.drafted}\n")
        from monitor.queue import QueueFilter
        print_queue(monitor.queue(QueueFilter()))
        console.print("\nNext: [bold]monitor --demo show ID[/bold], [bold]monitor --demo approve ID[/bold], "
                      "[bold]monitor --demo post[/bold], [bold]monitor --demo serve[/bold]")


# ---- the queue ------------------------------------------------------------------------------------
def print_queue(items: list[Any], total: Optional[int] = None) -> None:
    if not items:
        console.print("the queue is empty" if not total else "no more posts")
        return
    from monitor.queue import COUNT_CAP
    if total is None:
        title = f"Review queue ({len(items)})"
    else:
        title = f"Review queue ({len(items)} of {f'more than {COUNT_CAP:,}' if total > COUNT_CAP else f'{total:,}'})"
    table = Table(title=title, show_lines=False, expand=True)
    for name, ratio in (("id", None), ("sev", None), ("flag", None), ("platform", None), ("lang", None),
                        ("waiting", None), ("author", 1), ("post", 4), ("why", 3)):
        table.add_column(name, ratio=ratio, no_wrap=ratio is None, overflow="fold")
    for item in items:
        waiting = f"{item.waiting_minutes // 60}h{item.waiting_minutes % 60:02d}"
        table.add_row(str(item.id), f"{item.severity:.2f}", "[red]●[/red]" if item.flagged else "",
                      item.platform, item.language or "?", ("[red]" + waiting + " late[/red]") if item.overdue else waiting,
                      escape(item.author), escape(_short(item.text, 140)), escape(_short(_why(item), 100)))
    console.print(table)


def _why(item: Any) -> str:
    """The flag reasons, and a posting problem when the approved reply is stuck."""
    if item.outbox_state in ("failed", "needs_person", "uncertain"):
        return f"reply {item.outbox_state}: {item.outbox_error or ''} · {item.summary}"
    return item.summary


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("queue")
def queue_command(status: str = typer.Option("open", help="open, approved, posted, rejected, escalated, or all."),
                  language: Optional[str] = typer.Option(None, "--language", "--lang"),
                  platform: Optional[str] = typer.Option(None),
                  min_severity: float = typer.Option(0.0, min=0.0, max=1.0),
                  flagged: bool = typer.Option(False, "--flagged", help="Only flagged posts."),
                  uncertain: bool = typer.Option(False, "--uncertain",
                                                 help="Open posts the flag is least sure about, to label first "
                                                      "(monitor label ID --missed|--wrong-flag|...)."),
                  limit: int = typer.Option(50, min=1, max=500, help="Posts per page."),
                  after: Optional[int] = typer.Option(None, "--after", min=1, max=2**63 - 1,
                                                      help="Start after this post id (the last one of the previous page)."),
                  as_json: bool = typer.Option(False, "--json")) -> None:
    """Posts waiting for a person, most urgent first (severity, raised when overdue; then waiting time).
    One page at a time: the next page is `--after` the last id shown."""
    if uncertain:
        with service() as monitor:
            posts = monitor.uncertain_posts(min(limit, 50))
            rows = [{"id": p.id, "severity": p.severity, "flagged": p.flagged, "language": p.language,
                     "text": p.text} for p in posts]
            if as_json:
                emit_json(rows)
                return
            threshold = monitor.settings.analysis.flag_threshold
            console.print(f"least sure (severity nearest the flag threshold {threshold}); "
                          "label with: monitor label ID --missed | --wrong-flag | --complaint | --not-complaint | --spam")
            for row in rows:
                console.print(f"{row['id']:>6}  {row['severity']:.2f} {'●' if row['flagged'] else ' '}  "
                              f"{row['language'] or '?':<3} {escape(_short(row['text'], 110))}")
            return
    valid = {"open", "approved", "posted", "rejected", "escalated", "all"}
    if status not in valid:
        errors.print(f"[red]error:[/red] --status must be one of {', '.join(sorted(valid))}")
        raise typer.Exit(2)
    from monitor.queue import QueueFilter
    with service() as monitor:
        filters = QueueFilter(status=None if status == "all" else status, language=language, platform=platform,
                              min_severity=min_severity, flagged_only=flagged, limit=limit, after=after)
        items = monitor.queue(filters)
        if as_json:
            emit_json([item.as_dict() for item in items])
        else:
            total = monitor.queue_count(filters)
            print_queue(items, total)
            if len(items) == limit:
                console.print("next page: " + " ".join(part for part in [
                    "monitor queue", f"--after {items[-1].id}", f"--limit {limit}" if limit != 50 else "",
                     f"--status {status}" if status != "open" else "", f"--language {language}" if language else "",
                     f"--platform {platform}" if platform else "", f"--min-severity {min_severity}" if min_severity else "",
                     "--flagged" if flagged else ""] if part))
            counts = monitor.outbox_counts()
            stuck = counts.get("failed", 0) + counts.get("needs_person", 0)
            if stuck:
                errors.print(f"[yellow]{stuck} approved repl{'y needs' if stuck == 1 else 'ies need'} a person:[/yellow] "
                             "monitor outbox list --state failed --state needs_person")


@app.command()
def show(post_id: int = typer.Argument(..., min=1, max=2**63 - 1),
         thread_after: Optional[int] = typer.Option(None, "--thread-after", min=1, max=2**63 - 1,
                                                    help="Show the thread after this post id (the thread is paged)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One post: its thread, why it was flagged, the draft and its safety findings, the decisions."""
    with service() as monitor:
        detail = monitor.show(post_id, thread_after=thread_after)
        if as_json:
            emit_json(detail.as_dict())
            return
        from monitor.render import print_detail
        print_detail(console, detail)


@app.command()
def approve(post_id: int,
            draft: Optional[int] = typer.Option(None, "--draft", help="The draft you read (its id is shown by `monitor show`)."),
            text: Optional[str] = typer.Option(None, "--text", help="Approve this text instead of the draft."),
            edit: bool = typer.Option(False, "--edit", help="Edit the draft in $EDITOR first."),
            saved: Optional[str] = typer.Option(None, "--saved", help="Approve a saved reply (see `monitor saved list`)."),
            override: Optional[str] = typer.Option(None, "--override", help="Approve despite safety findings; the reason is audited.")) -> None:
    """Approve a draft you read, your own text, or a saved reply. Only approved text is ever posted,
    exactly so; an edited draft is kept against the original so the drafts can learn from it."""
    if sum((text is not None, edit, draft is not None, saved is not None)) > 1:
        errors.print("[red]error:[/red] use one of --draft, --text, --edit or --saved")
        raise typer.Exit(2)
    with service() as monitor:
        if saved is not None:
            decision = monitor.approve_saved(post_id, actor(monitor), saved, override_reason=override)
            console.print(f"approved post {post_id} with saved reply {saved!r} (decision {decision.id}):\n"
                          f"{escape(decision.final_text or '')}")
            return
        if edit:
            current = monitor.show(post_id).draft
            text = edit_in_editor(current["text"] if current else "")
            if text is None:
                errors.print("nothing approved: the editor was closed without a text")
                raise typer.Exit(1)
        elif text is None and draft is None:
            draft = confirm_draft(monitor, post_id)
        decision = monitor.approve(post_id, actor(monitor), text=text, draft_id=draft, override_reason=override)
        console.print(f"approved post {post_id} (decision {decision.id}); it will be posted by `monitor post`:\n"
                      f"{escape(decision.final_text or '')}")


def confirm_draft(monitor: Any, post_id: int) -> int:
    """On a terminal, show the newest draft and ask; scripts must name the draft they approve."""
    current = monitor.show(post_id).draft
    if current is None:
        errors.print(f"[red]error:[/red] post {post_id} has no draft; approve a text of your own with --text or --edit")
        raise typer.Exit(4)
    if not sys.stdin.isatty():
        errors.print(f"[red]error:[/red] say which draft you approve: --draft {current['id']} "
                     f"(read it with `monitor show {post_id}`), or --text / --edit")
        raise typer.Exit(2)
    console.print(f"draft {current['id']} of post {post_id}:")
    console.print(Panel(escape(current["text"]) or "[dim](empty)[/dim]"))
    if not typer.confirm("Approve exactly this text?", default=False):
        errors.print("nothing approved")
        raise typer.Exit(1)
    return current["id"]


def edit_in_editor(initial: str) -> Optional[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".txt", encoding="utf-8", delete=False) as handle:
        handle.write(initial)
        path = handle.name
    try:
        completed = subprocess.run([*editor.split(), path])
        if completed.returncode != 0:
            return None
        with open(path, encoding="utf-8") as handle:
            text = handle.read().strip()
        return text or None
    except FileNotFoundError:
        raise MonitorError(f"editor not found: {editor!r} (set $EDITOR)") from None
    finally:
        os.unlink(path)


@app.command()
def reject(post_id: int, reason: str = typer.Option(..., "--reason", help="Why (recorded).")) -> None:
    """Decide not to answer with this draft."""
    with service() as monitor:
        monitor.reject(post_id, actor(monitor), reason)
        console.print(f"rejected post {post_id}")


@app.command("label")
def label_command(post_id: int,
                  wrong_flag: bool = typer.Option(False, "--wrong-flag", help="Flagged, but did not need it."),
                  missed: bool = typer.Option(False, "--missed", help="Not flagged, but should have been."),
                  complaint: bool = typer.Option(False, "--complaint", help="A complaint (should be flagged)."),
                  not_complaint: bool = typer.Option(False, "--not-complaint", help="No complaint (should not be flagged)."),
                  spam: bool = typer.Option(False, "--spam", help="Spam (should not be flagged)."),
                  note: Optional[str] = typer.Option(None, "--note")) -> None:
    """Tell the flag model whether this post should have been flagged (used by model train/eval --from-decisions)."""
    chosen = [kind for kind, on in (("wrong_flag", wrong_flag), ("missed", missed), ("complaint", complaint),
                                    ("not_complaint", not_complaint), ("spam", spam)) if on]
    if len(chosen) != 1:
        errors.print("[red]error:[/red] give exactly one of --wrong-flag, --missed, --complaint, --not-complaint, --spam")
        raise typer.Exit(2)
    with service() as monitor:
        monitor.label(post_id, chosen[0], actor(monitor), note)
        console.print(f"labelled post {post_id}: {chosen[0].replace('_', ' ')}")


@app.command()
def escalate(post_id: int, to: str = typer.Option("legal", "--to", help="Team to hand it to."),
             reason: Optional[str] = typer.Option(None, "--reason")) -> None:
    """Hand the post to another team (legal, ...); nothing is posted."""
    with service() as monitor:
        monitor.escalate(post_id, actor(monitor), to, reason)
        console.print(f"escalated post {post_id} to {escape(to)}")


@app.command()
def post(as_json: bool = typer.Option(False, "--json")) -> None:
    """Send approved replies, each at most once (safe to run concurrently)."""
    with service() as monitor:
        report = monitor.post_approved()
        if as_json:
            emit_json(vars(report))
        else:
            console.print(f"sent {len(report.sent)}, reconciled {len(report.reconciled)}, failed {len(report.failed)}, "
                          f"uncertain {len(report.uncertain)}, needs a person {len(report.needs_person)}, "
                          f"deferred {len(report.deferred)}")
            for outbox_id, error in report.errors.items():
                console.print(f"  reply {outbox_id}: {escape(error)}")
        if report.failed or report.uncertain or report.needs_person:
            raise typer.Exit(1)


outbox_app = typer.Typer(help="Replies that were approved: their state, and what a person does when the machine could not settle one.",
                         no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
def outbox_list(state: list[str] = typer.Option([], "--state", help="pending, sending, sent, uncertain, failed, needs_person, cancelled (repeatable)."),
                limit: int = typer.Option(200, min=1, max=5000),
                after: Optional[int] = typer.Option(None, "--after", min=1, max=2**63 - 1,
                                                    help="Start after this reply id (the last one of the previous page)."),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """Approved replies and their state, newest first (default: every state)."""
    with service() as monitor:
        rows = monitor.outbox(tuple(state), limit=limit, newest_first=True, after=after)
        if as_json:
            emit_json(rows)
            return
        table = Table(title=f"Outbox ({len(rows)})")
        for name in ("id", "post", "platform", "state", "attempts", "platform id", "last error", "text"):
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(str(row["id"]), str(row["post_id"]), row["platform"], row["state"], str(row["attempts"]),
                          escape(row["external_reply_id"] or ""), escape(row["last_error"] or ""), escape(_short(row["text"], 80)))
        console.print(table)


@outbox_app.command("retry")
def outbox_retry(outbox_id: int) -> None:
    """You checked the platform and the reply is not there: send it again."""
    with service() as monitor:
        monitor.retry_reply(outbox_id, actor(monitor))
        console.print(f"reply {outbox_id} will be sent by the next `monitor post`")


@outbox_app.command("resolve")
def outbox_resolve(outbox_id: int, reply_id: str = typer.Option(..., "--reply-id", help="The platform's id of the reply you found.")) -> None:
    """You found the reply on the platform: record it as sent (it is never sent again)."""
    with service() as monitor:
        monitor.resolve_reply(outbox_id, actor(monitor), reply_id)
        console.print(f"reply {outbox_id} recorded as posted ({escape(reply_id)})")


@outbox_app.command("cancel")
def outbox_cancel(outbox_id: int, reason: str = typer.Option(..., "--reason")) -> None:
    """Withdraw a reply that was not posted; its post is open again for a new decision."""
    with service() as monitor:
        monitor.cancel_reply(outbox_id, actor(monitor), reason)
        console.print(f"reply {outbox_id} withdrawn; the post is open again")


quarantine_app = typer.Typer(help="Items a platform sent that could not be read: kept raw for a person, "
                             "the rest of their stream went on.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(show_all: bool = typer.Option(False, "--all", help="Also items stored by a retry or dropped."),
                    source: Optional[str] = typer.Option(None, "--source"),
                    limit: int = typer.Option(200, min=1),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """Unreadable items waiting for a person, newest first."""
    with service() as monitor:
        rows = monitor.quarantine(() if show_all else ("waiting",), source=source, limit=limit)
        if as_json:
            emit_json(rows)
            return
        table = Table(title=f"Quarantine ({len(rows)})")
        for name in ("id", "source", "stream", "item", "state", "seen", "first seen", "error"):
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(str(row["id"]), row["source"], row["stream"] or "", escape(row["external_id"] or ""),
                          row["state"], str(row["seen_count"]), _time(row["first_seen_at"]), escape(row["error"]))
        console.print(table)


@quarantine_app.command("show")
def quarantine_show(item_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One quarantined item: why it could not be read, and the payload as it arrived (secrets scrubbed)."""
    with service() as monitor:
        row = monitor.quarantined_item(item_id)
        if as_json:
            emit_json(row)
            return
        console.print(f"#{row['id']} {row['source']} {row['stream'] or ''} {escape(row['external_id'] or '')} "
                      f"[{row['state']}] seen {row['seen_count']}x since {_time(row['first_seen_at'])}")
        console.print(f"error: {escape(row['error'])}")
        if row["truncated"]:
            console.print(f"payload cut at its first characters ({row['payload_bytes']} bytes arrived)")
        try:
            pretty = json.dumps(json.loads(row["payload"]), ensure_ascii=False, indent=2)
        except ValueError:
            pretty = row["payload"]
        console.print(escape(pretty), markup=False, highlight=False)


@quarantine_app.command("retry")
def quarantine_retry(item_id: int) -> None:
    """Read the stored payload again (after a fix of the connector) and store the post."""
    with service() as monitor:
        result = monitor.retry_quarantined(item_id, actor(monitor))
        if not result.stored:
            errors.print(f"item {item_id} still cannot be read: {escape(result.error or '')}")
            raise typer.Exit(1)
        console.print(f"item {item_id} read and stored" + (f" as post {result.post_id}" if result.post_id else
                                                           " (nothing to answer in it)"))


@quarantine_app.command("drop")
def quarantine_drop(item_id: int, reason: str = typer.Option(..., "--reason")) -> None:
    """Give up on an item (it stays listed with --all; handing it over again does not bring it back)."""
    with service() as monitor:
        monitor.drop_quarantined(item_id, actor(monitor), reason)
        console.print(f"item {item_id} dropped")


@app.command()
def sources(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each source's health: last poll, next poll, last error, rate limit, re-authorisation,
    failing streams and unreadable items waiting in quarantine."""
    with service() as monitor:
        rows = monitor.sources()
        if as_json:
            emit_json(rows)
            return
        table = Table(title="Sources")
        for name in ("name", "platform", "enabled", "last poll", "next poll", "rate-limited until", "reauth",
                     "quarantined", "last error"):
            table.add_column(name, overflow="fold")
        for row in rows:
            failing = [f"{s['stream']}: {s['last_error']}" for s in row["streams"] if s["last_error"]]
            table.add_row(row["name"], row["platform"], "yes" if row["enabled"] and row["configured"] else "no",
                          _time(row["last_poll_at"]), _time(row["next_poll_at"]), _time(row["rate_limited_until"]),
                          "[red]needed[/red]" if row["needs_reauth"] else "",
                          f"[red]{row['quarantined']}[/red]" if row["quarantined"] else "0",
                          escape("; ".join(filter(None, [row["last_error"], *failing]))))
        console.print(table)


def _time(value: Optional[str]) -> str:
    return value[:16].replace("T", " ") if value else ""


@app.command()
def stats(days: int = typer.Option(30, "--days", min=0, max=3660,
                                   help="Answer times and breaches of the posts of the last N days (0: all time)."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Queue size, oldest waiting post, answer-time percentiles and SLA breaches per channel."""
    with service() as monitor:
        figures = monitor.stats(days or None)
        if as_json:
            emit_json(figures)
            return
        period = f"the last {days} days" if days else "all time"
        console.print(f"posts of {period} {figures['posts']}, open now {figures['open']} (flagged {figures['flagged_open']}, "
                      f"overdue {figures['overdue_open']}), oldest open {figures['oldest_open_minutes']} min, "
                      f"replies sent {figures['replies_sent']}")
        table = Table(title="Per channel (every channel is treated alike)")
        for name in ("channel", "posts", "answered", "p50 min", "p90 min", "SLA breaches"):
            table.add_column(name)
        for channel, row in figures["channels"].items():
            table.add_row(channel, str(row["posts"]), str(row["answered"]), str(row["answer_minutes_p50"] or "-"),
                          str(row["answer_minutes_p90"] or "-"), str(row["sla_breaches"]))
        console.print(table)


saved_app = typer.Typer(help="Saved replies an approver can pick instead of the draft.", no_args_is_help=True)
app.add_typer(saved_app, name="saved")


@saved_app.command("list")
def saved_list(lang: Optional[str] = typer.Option(None, "--lang"), topic: Optional[str] = typer.Option(None, "--topic"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Saved replies (for a language or topic: those plus the ones for any)."""
    with service() as monitor:
        replies = monitor.saved_replies(language=lang, topic=topic)
    if as_json:
        emit_json(replies)
        return
    if not replies:
        console.print("no saved replies yet: `monitor saved add NAME --text ...`")
    for reply in replies:
        scope = ", ".join(x for x in (reply["language"], reply["topic"]) if x) or "any"
        console.print(f"[bold]{escape(reply['name'])}[/bold] ({escape(scope)}): {escape(reply['text'])}")


@saved_app.command("add")
def saved_add(name: str, text: str = typer.Option(..., "--text"), lang: Optional[str] = typer.Option(None, "--lang"),
              topic: str = typer.Option("", "--topic")) -> None:
    """Save (or replace) a reply under NAME."""
    with service() as monitor:
        reply = monitor.save_reply(actor(monitor), name, text, language=lang, topic=topic)
    console.print(f"saved reply {reply['name']!r}")


@saved_app.command("delete")
def saved_delete(name: str) -> None:
    with service() as monitor:
        monitor.delete_saved(actor(monitor), name)
    console.print(f"deleted saved reply {name!r}")


def _mount_features() -> None:
    """Sub-commands that live beside their feature: model, drafts, fakes, daemon, serve, users."""
    from monitor.analysis.cli import app as model_app
    from monitor.daemon.cli import register as register_daemon
    from monitor.drafting.cli import app as drafts_app
    from monitor.fakes.cli import app as fakes_app
    from monitor.web.cli import register as register_web

    app.add_typer(model_app, name="model")
    app.add_typer(drafts_app, name="drafts")
    app.add_typer(fakes_app, name="fakes")
    register_daemon(app)
    register_web(app)
    from monitor.admin_cli import register as register_admin
    register_admin(app)
    from monitor.team_cli import register as register_team
    register_team(app)


_mount_features()


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # raised while parsing, before a command ran
        errors.print(f"settings error: {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
