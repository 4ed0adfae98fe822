"""`monitor drafts ...`: judge the drafts on real posts, measure topics, check a text by hand.

The commands only parse options and print; the work is in `evaluate.py`, `topics.py` and
`safety.py`. Problems with the input end with a one-line error and exit code 2.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Reply drafts: evaluate them on labelled posts and run the public-safety check.",
                  no_args_is_help=True, add_completion=False)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _settings(path: Optional[Path]):
    from monitor.settings import SettingsError, load_settings

    try:
        return load_settings(path)
    except SettingsError as exc:
        _fail(str(exc))


@app.command("eval")
def eval_command(
    data: Path = typer.Option(..., "--data", help="Folder with *.csv / *.csv.gz files (columns at least text,lang)."),
    gold: Optional[Path] = typer.Option(None, "--gold", help="Hand-labelled gold file (file,key,lang,topic,strategy,"
                                        "reply_due) whose rows are in --data: adds topic and strategy accuracy."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    show: int = typer.Option(0, "--show", min=0, max=1000, help="Print N sample pairs of post and draft."),
    per_file: int = typer.Option(100, "--per-file", min=1, max=100_000, help="Rows sampled from each file."),
    platform: str = typer.Option("", "--platform", help="Platform whose length limit applies (x, facebook, ...)."),
    labels: bool = typer.Option(False, "--labels", help="Use the files' sentiment labels instead of running the "
                                "analyser (faster; not the production path)."),
    exclude_gold: Optional[Path] = typer.Option(None, "--exclude-gold", help="Skip the rows of this gold file when "
                                                "sampling (to read drafts for posts nobody tuned on)."),
    settings_path: Optional[Path] = typer.Option(None, "--settings", help="settings.toml to use."),
) -> None:
    """Run the analyser, then the drafter, on sampled posts (or the gold rows) and print per language:
    drafts in the post's language and passing the check, topic confidence, drafts that restate the
    post, distinct sentences per 100 drafts, thanks on complaints, goodwill per topic; with --gold,
    topic, strategy and reply-due accuracy."""
    from monitor.drafting import build_drafter
    from monitor.drafting.evaluate import EvalInputError, evaluate_folder, evaluate_gold
    from monitor.drafting.gold import GoldError, load_gold
    from monitor.settings import SettingsError

    settings = _settings(settings_path)
    try:
        drafter = build_drafter(settings)
        analyser = None
        if not labels:
            from monitor.analysis import build_analyser

            analyser = build_analyser(settings)
        if gold is not None:
            report = evaluate_gold(load_gold(gold, data), drafter, show=show, platform=platform, analyser=analyser)
        else:
            skip = [row.text for row in load_gold(exclude_gold, data)] if exclude_gold else ()
            report = evaluate_folder(data, drafter, per_file=per_file, show=show, platform=platform, analyser=analyser,
                                     exclude=skip)
    except (EvalInputError, SettingsError, GoldError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    source = f"gold file {gold.name}" if gold else f"{per_file} rows sampled per file"
    typer.echo(f"files: {len(report.files)} ({source}; {'file labels' if labels else 'analyser, then drafter'})")
    typer.echo(f"{'lang':<6}{'posts':>6}{'drafts':>7}{'in lang':>8}{'passing':>8}{'restate':>8}{'sent/100':>9}"
               f"{'thank!':>7}{'conf.':>7}")
    for language, figures in sorted(report.languages.items()):
        row = figures.as_dict()
        typer.echo(f"{language:<6}{row['posts']:>6}{row['drafts']:>7}{row['in_language']:>8.1%}{row['passing']:>8.1%}"
                   f"{row['restating']:>8.1%}{row['distinct_sentences_per_100']:>9.1f}{row['thanks_on_complaint']:>7}"
                   f"{row['confident_topics']:>7.1%}")
        typer.echo(f"{'':<6}topic similarity: " + ", ".join(f"{k} {v}" for k, v in row["topic_confidence"].items()))
        typer.echo(f"{'':<6}topics: " + ", ".join(f"{topic} {count}" for topic, count in row["topics"].items()))
        typer.echo(f"{'':<6}strategies: " + ", ".join(f"{s} {n}" for s, n in row["strategies"].items()))
        typer.echo(f"{'':<6}goodwill: " + (", ".join(f"{t} {n}" for t, n in row["goodwill"].items()) or "none"))
        if row["findings"]:
            typer.echo(f"{'':<6}findings: " + ", ".join(f"{code} {n}" for code, n in row["findings"].items()))
        if "gold" in row:
            g = row["gold"]
            typer.echo(f"{'':<6}gold: topic {g['topic_accuracy']:.1%} (reply due: {g['topic_accuracy_reply_due']:.1%}), "
                       f"strategy {g['strategy_accuracy']:.1%}, reply due {g['reply_due_accuracy']:.1%}, "
                       f"wrong-topic facts {g['wrong_topic_facts']:.1%} of {g['rows']}")
            if g["confusions"]:
                typer.echo(f"{'':<6}confused: " + ", ".join(f"{k} {v}" for k, v in g["confusions"].items()))
    for number, (post, draft) in enumerate(report.samples, 1):
        typer.echo(f"\n--- {number} [{post.language}] topic={draft.topic} strategy={draft.strategy}")
        typer.echo(f"post:  {_one_line(post.text)}")
        typer.echo(f"draft: {_one_line(draft.text) or '(no reply suggested)'}")
        for finding in draft.findings:
            typer.echo(f"  ! {finding.code}: {finding.reason}")


@app.command("topics")
def topics_command(
    data: Path = typer.Option(..., "--data", help="CSV with columns text,lang,topic."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    errors: bool = typer.Option(False, "--errors", help="List the misclassified posts."),
) -> None:
    """Topic accuracy per language on a labelled file (write it separately from data/topics.toml)."""
    from monitor.drafting import _shared_classifier
    from monitor.drafting.topics import accuracy_by_language, read_labelled

    try:
        rows = read_labelled(data)
    except (OSError, ValueError, KeyError) as exc:
        _fail(f"{data}: {exc}")
    if not rows:
        _fail(f"{data}: no rows")
    report = accuracy_by_language(_shared_classifier(), rows)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for language, entry in sorted(report.items()):
        typer.echo(f"{language:<5} {entry['correct']:>4}/{entry['posts']:<4} accuracy {entry['accuracy']:.1%}")
        if errors:
            for text, expected, got in entry["errors"]:
                typer.echo(f"      expected {expected}, got {got}: {_one_line(text)}")


@app.command("learn")
def learn_command(
    accept: Optional[str] = typer.Option(None, "--accept", help="Accept the proposal with this id: its sentence joins "
                                         "the shop's phrasings ([drafting] phrases_dir/learned/<lang>.toml)."),
    slot: Optional[str] = typer.Option(None, "--slot", help="With --accept: the slot it goes to (default: the slot "
                                       "of the draft sentence it replaced)."),
    min_repeats: int = typer.Option(2, "--min", min=1, help="Edits a sentence must recur in to be proposed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Propose phrasebook variants per topic and language from approvers' recurring edits; a person accepts them."""
    from monitor.cli import actor, emit_json, service

    with service() as monitor:
        if accept:
            path = monitor.accept_proposal(actor(monitor), accept, slot=slot, min_repeats=min_repeats)
            typer.echo(f"accepted {accept}: added to {path}; new drafts may use it")
            return
        proposals = monitor.phrase_proposals(min_repeats=min_repeats)
    if as_json:
        emit_json(proposals)
        return
    if not proposals:
        typer.echo(f"no proposals: no sentence was added in {min_repeats} or more edits of the same topic and language")
    for p in proposals:
        typer.echo(f"{p['id']}  [{p['language']}/{p['topic'] or 'shared'} {p['slot']}] x{p['count']}: {p['sentence']}")
        for old in p["replaced"][:2]:
            typer.echo(f"          instead of: {old}")


@app.command("check")
def check_command(
    text: str = typer.Argument(..., help="The reply text to check."),
    platform: str = typer.Option("", "--platform"),
    lang: Optional[str] = typer.Option(None, "--lang", help="The post's language."),
    post: str = typer.Option("", "--post", help="The post's text (for echo checks)."),
    handle: str = typer.Option("", "--handle", help="The author's public handle."),
    settings_path: Optional[Path] = typer.Option(None, "--settings", help="settings.toml to use."),
) -> None:
    """Run the public-safety check on a text; exit 1 when something blocks it."""
    from monitor.drafting import build_safety_checker
    from monitor.drafting.base import SafetyContext

    checker = build_safety_checker(_settings(settings_path))
    findings = checker.check(text, SafetyContext(post_text=post, post_language=lang, platform=platform,
                                                 author_handle=handle))
    if not findings:
        typer.echo("ok: no findings")
        return
    for finding in findings:
        typer.echo(f"{finding.severity}: {finding.code}: {finding.reason}")
    if any(finding.severity == "block" for finding in findings):
        raise typer.Exit(code=1)


def _one_line(text: str, limit: int = 300) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
