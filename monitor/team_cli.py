"""The team inbox on the command line: `assign`, `note`, `tag`, `close`, `search`. The same
`Monitor` calls as the web app's buttons, so both leave the same audit events."""
from __future__ import annotations


import typer
from rich.markup import escape

ID = typer.Argument(..., min=1, max=2**63 - 1)


def assign(post_id: int = ID,
           to: str = typer.Option("me", "--to", help="me, a colleague's user name, or a team (legal, management, "
                                                     "customer_service, logistics).")) -> None:
    """Give a post to someone: yourself (you also take it, so colleagues see you are on it), a
    colleague, or a team."""
    from monitor.cli import actor, console, service
    with service() as monitor:
        post = monitor.assign(post_id, actor(monitor), to)
        console.print(f"post {post_id} is assigned to {escape(post.assigned_to or '')}")


def note(post_id: int = ID, text: str = typer.Argument(..., help="The note (internal: never posted).")) -> None:
    """Leave an internal note on a post for colleagues; it is kept in the audit log, never posted."""
    from monitor.cli import actor, console, service
    with service() as monitor:
        monitor.note(post_id, actor(monitor), text)
        console.print(f"noted on post {post_id}")


def tag(post_id: int = ID, tags: list[str] = typer.Argument(None, help="Tags to add, e.g. shipping praise."),
        remove: list[str] = typer.Option([], "--remove", help="A tag to take off (repeatable).")) -> None:
    """Tag a post (shipping, praise, ...); the queue filters by tag."""
    from monitor.cli import actor, console, service
    with service() as monitor:
        now = monitor.tag(post_id, actor(monitor), tuple(tags or ()), tuple(remove))
        console.print(f"post {post_id} tags: {escape(' '.join(now)) or '(none)'}")


def close(post_ids: list[int] = typer.Argument(..., help="One or more post ids."),
          reason: str = typer.Option(..., "--reason", help="Why no reply is needed (recorded), e.g. spam.")) -> None:
    """Close posts that need no reply (spam, praise, "do not reply"); nothing is posted."""
    from monitor.cli import actor, console, errors, service
    with service() as monitor:
        report = monitor.close_posts(post_ids, actor(monitor), reason)
        if report.closed:
            console.print(f"closed without a reply: {', '.join(map(str, report.closed))}")
        for post_id, why in report.refused.items():
            errors.print(f"post {post_id} stays: {escape(why)}")
        if report.refused:
            raise typer.Exit(1)


def search(words: str = typer.Argument(..., help="Words in the post's text or the author's name."),
           status: str = typer.Option("all", help="open, approved, posted, rejected, escalated, or all."),
           limit: int = typer.Option(50, min=1, max=500),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Find posts by words in their text or author (every word must match, as a prefix)."""
    from monitor.cli import emit_json, errors, print_queue, service
    from monitor.search import words as split_words
    if not split_words(words):
        errors.print("[red]error:[/red] give at least one word to search for")
        raise typer.Exit(2)
    with service() as monitor:
        items = monitor.search(words, status=None if status == "all" else status, limit=limit)
        if as_json:
            emit_json([item.as_dict() for item in items])
        else:
            print_queue(items)


def register(app: typer.Typer) -> None:
    for command in (assign, note, tag, close, search):
        app.command()(command)
