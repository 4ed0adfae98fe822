"""`monitor serve` and `monitor users ...`: the web app's commands, added to the main CLI by
`register(app)`. Like every command they parse options and call the service; nothing more."""
from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

users_app = typer.Typer(help="People who sign in to the web app (agent, approver, admin).", no_args_is_help=True)


def serve(host: Optional[str] = typer.Option(None, "--host", help="Listen on this address (default: web.host in settings.toml)."),
          port: Optional[int] = typer.Option(None, "--port", min=1, max=65535, help="Port (default: web.port in settings.toml)."),
          ) -> None:
    """Start the approval web app (sign in with a user made by `monitor users add`)."""
    import uvicorn

    from monitor.cli import console, service
    from monitor.web.app import create_app

    with service() as monitor:
        app = create_app(monitor)
        host = host or monitor.settings.web.host
        port = port or monitor.settings.web.port
        with monitor.db.session() as session:
            from monitor.users import list_users
            if not any(u.active for u in list_users(session)):
                console.print("[yellow]no users yet:[/yellow] create one with "
                              "[bold]monitor users add NAME --role admin[/bold]")
        if not is_loopback(host) and not monitor.settings.web.secure_cookies:
            from monitor.cli import errors
            errors.print(f"[bold red]WARNING: serving on {escape(host)} (beyond this machine) without [web] "
                         "secure_cookies = true.[/bold red] Session cookies and passwords travel in clear text "
                         "unless an HTTPS proxy is in front; put one there and set secure_cookies = true.")
        console.print(f"serving on http://{host}:{port}/  (Ctrl+C stops)")
        uvicorn.run(app, host=host, port=port, log_level=monitor.settings.app.log_level.lower(),
                    server_header=False, **monitor.settings.web.server_options())


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise typer.BadParameter("no password on standard input", param_hint="--password-stdin")
        return value
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Repeat the password", hide_input=True)
    if first != second:
        from monitor.cli import errors
        errors.print("[red]error:[/red] the two passwords differ; nothing was changed")
        raise typer.Exit(2)
    return first


def _operator(monitor) -> str:
    from monitor.cli import actor
    return actor(monitor).name


@users_app.command("add")
def users_add(name: str = typer.Argument(..., help="User name to sign in with."),
              role: str = typer.Option("agent", "--role", help="agent, approver or admin."),
              password_stdin: bool = typer.Option(False, "--password-stdin",
                                                  help="Read the password from the first line of standard input.")
              ) -> None:
    """Create a user; asks for the password twice (or reads it with --password-stdin)."""
    from monitor.cli import console, service
    from monitor.users import add_user, check_new_password

    if role not in ("agent", "approver", "admin"):
        _bad_role(role)
    password = _read_password(password_stdin)
    with service() as monitor:
        check_new_password(password)
        with monitor.db.session() as session:
            user = add_user(session, name, password, role, actor=_operator(monitor))
        console.print(f"added {escape(user.username)} ({user.role})")


def _bad_role(role: str) -> None:
    from monitor.cli import errors
    errors.print(f"[red]error:[/red] unknown role {escape(role)!r}; use agent, approver or admin")
    raise typer.Exit(2)


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """Everyone who can sign in (and who was disabled)."""
    from monitor.cli import console, emit_json, service
    from monitor.users import list_users

    with service() as monitor:
        with monitor.db.session() as session:
            rows = [{"username": u.username, "role": u.role, "active": u.active,
                     "created_at": u.created_at.isoformat()} for u in list_users(session)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("no users yet: monitor users add NAME --role admin")
        return
    table = Table(title="Users")
    for column in ("user", "role", "active", "created"):
        table.add_column(column)
    for row in rows:
        table.add_row(escape(row["username"]), row["role"], "yes" if row["active"] else "[red]disabled[/red]",
                      row["created_at"][:16].replace("T", " "))
    console.print(table)


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Stop a user from signing in; their open sessions end at once."""
    _set_active(name, False)


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Let a disabled user sign in again."""
    _set_active(name, True)


def _set_active(name: str, active: bool) -> None:
    from monitor.cli import console, service
    from monitor.users import set_active

    with service() as monitor:
        with monitor.db.session() as session:
            set_active(session, name, active, actor=_operator(monitor))
        console.print(f"{escape(name)} is {'enabled' if active else 'disabled'}")


@users_app.command("password")
def users_password(name: str, password_stdin: bool = typer.Option(False, "--password-stdin")) -> None:
    """Set a new password (signs the user out everywhere)."""
    from monitor.cli import console, service
    from monitor.users import set_password

    password = _read_password(password_stdin)
    with service() as monitor:
        with monitor.db.session() as session:
            set_password(session, name, password, actor=_operator(monitor))
        console.print(f"new password set for {escape(name)}")


def register(app: typer.Typer) -> None:
    """Add `serve` and the `users` group to the main `monitor` command."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
