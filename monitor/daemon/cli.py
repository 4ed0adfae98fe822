"""`monitor daemon`: the command. Options in, `Daemon` runs, a one-line summary out."""
from __future__ import annotations

import logging
from typing import Optional

import typer


def daemon(once: bool = typer.Option(False, "--once", help="One scheduling pass, then exit (for cron and tests)."),
           worker_id: Optional[str] = typer.Option(None, "--worker-id",
                                                   help="A name for this worker in leases and logs (host and process id are added)."),
           max_seconds: Optional[float] = typer.Option(None, "--max-seconds", min=0.0,
                                                       help="Stop gracefully after this many seconds.")) -> None:
    """Poll every source on its schedule, analyse, alert, and post approved replies, until stopped.

    SIGTERM or Ctrl-C stops it after the unit of work in hand (a second one at once). On SQLite
    one daemon runs at a time; on PostgreSQL start as many as you like: they share the sources.
    Exit codes: 0 stopped cleanly; 1 (--once) some work failed; 2 settings; 4 another daemon
    runs on this SQLite database; 5 database unavailable.
    """
    from monitor import logs
    from monitor.cli import console, service
    from monitor.daemon.runner import Daemon
    from monitor.outbox import readable_worker

    with service() as monitor:
        worker = Daemon(monitor, worker_name=worker_id)
        logging.getLogger("monitor.daemon").info(
            logs.start_line(logs.version(), monitor.db, monitor.settings.sources, readable_worker(worker.worker)))
        report = worker.run(once=once, max_seconds=max_seconds)
        console.print(f"daemon {readable_worker(worker.worker)} stopped ({report.stopped_by}): {report.passes} pass(es), "
                      f"{report.polls} poll(s), {report.new_posts} new post(s), {report.sent} reply(ies) sent, "
                      f"{report.alerts} alert(s), {report.poll_errors} failed poll(s), {report.problems} other problem(s)")
        if once and (report.problems or report.poll_errors):
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `monitor daemon` to the main command line."""
    app.command("daemon")(daemon)
