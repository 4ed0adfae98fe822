"""Commands for running it for real: `forget`, `backup`, `restore`, `doctor`, `service print`.
Options in, `Monitor` (or the module named) does the work, a table or a line out."""
from __future__ import annotations

import typer
from rich.markup import escape


def forget(author: str = typer.Option(..., "--author", help="The person's handle on the platform (with or without @)."),
           platform: str = typer.Option(..., "--platform", help="x, facebook, instagram, reddit, google_reviews, ..."),
           yes: bool = typer.Option(False, "--yes", help="Do not ask (scripts).")) -> None:
    """Erase one person's data (GDPR): their posts' texts, drafts, decisions' texts and audit texts.

    Who decided what and when stays; the platform id stays so the post is never collected again.
    Admins only; audited with a digest of the handle, never the handle itself.
    """
    from monitor.cli import actor, console, service
    with service() as monitor:
        if not yes and not typer.confirm(f"Erase every stored text of {author} on {platform}? This cannot be undone",
                                         default=False):
            console.print("nothing erased")
            raise typer.Exit(1)
        report = monitor.forget(platform, author, actor(monitor))
        console.print(f"erased {len(report.posts)} post(s) of {escape(author)} on {escape(platform)}"
                      + (f"; withdrew {len(report.withdrawn)} unsent repl(ies)" if report.withdrawn else ""))


def backup(path: str = typer.Argument(..., help="The backup file to write (must not exist)."),
           overwrite: bool = typer.Option(False, "--overwrite")) -> None:
    """A consistent copy of the database while everything keeps running (SQLite online backup;
    PostgreSQL: pg_dump of the monitor's schema)."""
    from monitor.cli import console, service
    with service() as monitor:
        report = monitor.backup(path, overwrite=overwrite)
        console.print(f"backup written: {escape(report.path)} ({report.size_bytes} bytes, schema {report.revision}, "
                      f"{report.how})")


def restore(path: str = typer.Argument(..., help="A file written by `monitor backup`."),
            yes: bool = typer.Option(False, "--yes", help="Do not ask (scripts).")) -> None:
    """Replace the database with a backup, then upgrade its schema. Stop the daemon first."""
    from monitor.cli import console, service
    with service(init=False) as monitor:
        if not yes and not typer.confirm(f"Replace everything in {monitor.db!r} with {path}?", default=False):
            console.print("nothing restored")
            raise typer.Exit(1)
        report = monitor.restore(path)
        console.print(f"restored {escape(report.path)} (schema {report.revision}, upgraded to the current one)")


def doctor(as_json: bool = typer.Option(False, "--json")) -> None:
    """Check that it is ready to run unattended: settings, database and schema, model files, each
    source's credentials (one cheap call; token expiry where the platform tells it), alert
    channels (nothing is sent), clock and time zone. Exit code 1 when something fails."""
    from rich.table import Table

    from monitor.cli import console, emit_json, service
    from monitor.doctor import failed
    with service(init=False) as monitor:
        checks = monitor.doctor()
        if as_json:
            emit_json([c.as_dict() for c in checks])
        else:
            table = Table(title="monitor doctor")
            for name in ("check", "status", "detail"):
                table.add_column(name, overflow="fold")
            colour = {"ok": "green", "warn": "yellow", "fail": "red", "n/a": "dim"}
            for check in checks:
                table.add_row(escape(check.area), f"[{colour[check.status]}]{check.status}[/]", escape(check.detail))
            console.print(table)
        if failed(checks):
            raise typer.Exit(1)


service_app = typer.Typer(help="Run it as a system service (systemd).", no_args_is_help=True)


@service_app.command("print")
def service_print(unit: str = typer.Option("all", "--unit", help="daemon, serve, env (the secrets file's form) or all."),
                  user: str = typer.Option("monitor", "--user", help="The system user the services run as."),
                  workdir: str = typer.Option("/var/lib/reply-monitor", "--workdir", help="Data folder (the SQLite database, keys); the only place they may write."),
                  settings: str = typer.Option("/etc/reply-monitor/settings.toml", "--settings-file"),
                  env_file: str = typer.Option("/etc/reply-monitor/monitor.env", "--env-file", help="Secrets, KEY=value a line (chmod 600).")) -> None:
    """Print the systemd units for `monitor daemon` and `monitor serve`, filled in for this
    installation; save them under /etc/systemd/system/ (see README "Running it for real")."""
    from monitor import systemd
    install = systemd.Install(user=user, group=user, workdir=workdir, settings=settings, env_file=env_file)
    chosen = list(systemd.NAMES) + ["env"] if unit == "all" else [unit]
    for name in chosen:
        if name == "env":
            typer.echo(f"# ---- {env_file}\n{systemd.env_example()}")
        elif name in systemd.NAMES:
            typer.echo(f"# ---- /etc/systemd/system/{systemd.NAMES[name]}\n{systemd.render(name, install)}")
        else:
            typer.echo(f"error: --unit must be daemon, serve, env or all (got {name!r})", err=True)
            raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add the operations commands to the main command line."""
    app.command("forget")(forget)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("doctor")(doctor)
    app.add_typer(service_app, name="service")
