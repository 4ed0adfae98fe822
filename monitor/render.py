"""Terminal rendering of one post's detail (rich). Untrusted text is escaped, never interpreted."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from monitor.queue import PostDetail


def print_detail(console: Console, detail: PostDetail) -> None:
    post = detail.post
    head = (f"#{post['id']} {post['platform']} {post['kind']} by {escape(post['author_handle'])} "
            f"(reach {post['author_reach']}) · {post['language'] or '?'} · status {post['status']}"
            + (f" · due {post['due_at'][:16].replace('T', ' ')} UTC" if post.get("due_at") else ""))
    for earlier in detail.thread:
        console.print(f"  [dim]{escape(earlier['author_handle'])}: {escape(earlier['text'][:300])}[/dim]")
    for answered in detail.context:        # what this post answers: the shop's own post, the parent comment
        who = "your post" if answered["own"] else escape(answered["who"])
        console.print(f"  [cyan]{who}:[/cyan] {escape(answered['text'][:300])}")
    if post.get("tags") or post.get("assigned_to"):
        console.print(" ".join(([f"assigned to {escape(post['assigned_to'])}"] if post.get("assigned_to") else [])
                               + [f"#{escape(t)}" for t in (post.get("tags") or "").split()]))
    if post.get("changed_at"):
        console.print(f"[yellow]changed on the platform at {post['changed_at'][:16].replace('T', ' ')} UTC, "
                      "after a decision[/yellow]")
    console.print(Panel(escape(post["text"]), title=head, title_align="left"))
    if post.get("url"):
        console.print(f"link: {escape(post['url'])}")
    if detail.assessment:
        a = detail.assessment
        console.print(f"[bold]why:[/bold] severity {a['severity']:.2f}{' · FLAGGED' if a['flagged'] else ''} · "
                      f"{a['sentiment']} · model {escape(a['model_version'])}")
        for flag in a["flags"]:
            console.print(f"  - {escape(flag.get('reason', flag.get('code', '')))}")
    if detail.draft:
        d = detail.draft
        console.print(f"[bold]draft {d['id']}[/bold] (topic {d['topic'] or '?'}, strategy {d['strategy'] or '?'}"
                      + (f", escalate to {d['escalate_to']}" if d.get("escalate_to") else "")
                      + (f", goodwill: {escape(d['goodwill'])}" if d.get("goodwill") else "") + "):")
        console.print(Panel(escape(d["text"]) if d["text"] else "[dim](no public reply recommended)[/dim]"))
        for note in d.get("notes") or []:
            console.print(f"  note: {escape(note)}")
        findings = d.get("findings") or []
        console.print("[bold]safety:[/bold] " + ("[green]no findings[/green]" if not findings else ""))
        for f in findings:
            console.print(f"  [red]{escape(f['code'])}[/red]: {escape(f['reason'])}")
        if post["status"] in ("open", "escalated"):
            console.print(f"approve it: monitor approve {post['id']} --draft {d['id']}   (or --edit / --text \"...\")")
    for decision in detail.decisions:
        console.print(f"[bold]{decision['action']}[/bold] by {escape(decision['actor'])} at {decision['created_at'][:16]}"
                      + (f": {escape(decision['reason'])}" if decision.get("reason") else "")
                      + (f" (override: {escape(decision['override_reason'])})" if decision.get("override_reason") else ""))
    if detail.outbox:
        o = detail.outbox
        console.print(f"[bold]reply:[/bold] {o['state']}" + (f", platform id {escape(o['external_reply_id'])}" if o.get("external_reply_id") else "")
                      + (f", last error: {escape(o['last_error'])}" if o.get("last_error") else ""))
        if o["state"] in ("failed", "needs_person", "uncertain"):
            console.print(f"  a person decides: monitor outbox retry {o['id']} | resolve {o['id']} --reply-id ID | cancel {o['id']} --reason ...")
