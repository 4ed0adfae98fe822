"""`monitor model ...`: rebuild the embedded heads and print how good they are.

The lead mounts `app` as `monitor model`. Commands only parse options and call
`training.train` / `evaluation.evaluate`; problems with the input become one clear line and
exit code 2.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Optional

import typer


app = typer.Typer(help="Train and evaluate the flagging model (embedded heads).", no_args_is_help=True,
                  add_completion=False)


def _fail(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _shipped_dir() -> Path:
    return Path(str(resources.files("monitor.analysis").joinpath("data")))


def _cache(no_cache: bool, cache: Optional[Path]) -> Optional[Path]:
    from monitor.analysis.training import default_cache_dir

    return None if no_cache else (cache or default_cache_dir())


@app.command("train")
def train_command(
    data: Path = typer.Option(..., "--data", help="Folder of *.csv / *.csv.gz (columns text,label,lang[,orig_label])."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where heads.npz goes (default: the shipped model's folder)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Encoding cache (default ~/.cache/reply-monitor)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Encode everything again, keep nothing."),
    ngrams: bool = typer.Option(True, "--ngrams/--no-ngrams", help="Blend a character n-gram model into sentiment "
                                "(shipped; --no-ngrams: the embedding head alone)."),
    from_decisions: bool = typer.Option(False, "--from-decisions",
                                        help="Adapt the severity to the shop's own labels and decisions "
                                             "(same as `monitor model adapt`; needs --out)."),
    keep_heads: Optional[Path] = typer.Option(None, "--keep-heads",
                                              help="A heads.npz (or folder) whose two heads are kept as they are; "
                                                   "only operating points and the n-gram blend are fitted again."),
    calibration_sample: Optional[int] = typer.Option(None, "--calibration-sample", min=1,
                                                     help="Fit on at most N calibration rows per file."),
) -> None:
    """Rebuild the sentiment and anger heads from DATA (fixed seeds: same data, same heads)."""
    from monitor.analysis.corpus import CorpusError
    from monitor.analysis.embedded import HEADS_FILE, Heads, ModelFileError
    from monitor.analysis.training import train

    if from_decisions:
        if out is None:
            _fail("--from-decisions needs --out DIR (the shop's model folder)")
        _adapt(data, out, cache, calibration_sample or 400)
        return
    try:
        kept = None
        if keep_heads is not None:
            kept = Heads.load(keep_heads / HEADS_FILE if keep_heads.is_dir() else keep_heads)
        report = train(data, out or _shipped_dir(), cache_dir=_cache(no_cache, cache), log=typer.echo,
                       ngrams=ngrams, keep_heads=kept, calibration_sample=calibration_sample)
    except ModelFileError as exc:
        _fail(str(exc))
    except CorpusError as exc:
        _fail(str(exc))
    except (ValueError, OSError) as exc:
        _fail(f"training failed: {exc}")
    typer.echo(f"wrote {report.out} ({report.version}) in {report.seconds:.0f}s")


@app.command("adapt")
def adapt_command(
    data: Path = typer.Option(..., "--data", help="The public data the model was trained on (the prior)."),
    out: Path = typer.Option(..., "--out", help="Folder for the shop's model (heads.npz + severity.toml); "
                                                "point [analysis] heads_path at it."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Encoding cache (default ~/.cache/reply-monitor)."),
    sample: Optional[int] = typer.Option(400, "--sample", min=1, help="At most N public calibration rows per file."),
) -> None:
    """Adapt the severity to the shop's own decisions and labels (also: `model train --from-decisions`)."""
    _adapt(data, out, cache, sample)


def _adapt(data: Path, out: Path, cache: Optional[Path], sample: Optional[int]) -> None:
    import shutil

    from monitor.analysis.corpus import CorpusError
    from monitor.analysis import severity_fit
    from monitor.analysis.embedded import HEADS_FILE, Heads, ModelFileError
    from monitor.analysis.lexicon import RiskLexicon
    from monitor.analysis.severity import SeverityRules, default_rules
    from monitor.cli import service

    with service() as monitor:
        labelled = monitor.labelled_posts()
        heads_path = monitor.settings.analysis.heads_path
    if len(labelled) < 10 or len({p.should_flag for p in labelled}) < 2:
        _fail(f"{len(labelled)} labelled posts: need at least 10, of both kinds (monitor label ID --missed|--wrong-flag)")
    try:
        source = Path(heads_path).expanduser() if heads_path else _shipped_dir()
        heads_file = source / HEADS_FILE if source.is_dir() else source
        heads = Heads.load(heads_file)
        rules_file = heads_file.parent / "severity.toml"
        rules = SeverityRules.from_toml(rules_file.read_text("utf-8")) if rules_file.is_file() else default_rules()
        public = severity_fit.calibration_evidence(data, heads=heads, cache_dir=_cache(False, cache), sample=sample,
                                                   log=lambda line: typer.echo(line, err=True))
    except (CorpusError, ModelFileError, OSError, ValueError) as exc:
        _fail(str(exc))
    lexicon = RiskLexicon.load()
    start = severity_fit.params_from_rules(rules, lexicon)
    shop = severity_fit.shop_evidence(labelled, lexicon)
    params, _ = severity_fit.adapt(public, shop, start, log=lambda line: typer.echo(line, err=True))
    before = severity_fit.severity(shop, start) >= 0.5
    after = severity_fit.severity(shop, params) >= 0.5
    out.mkdir(parents=True, exist_ok=True)
    if heads_file.resolve() != (out / HEADS_FILE).resolve():
        shutil.copyfile(heads_file, out / HEADS_FILE)
    (out / "severity.toml").write_text(
        "# The severity rule adapted to this shop's decisions by `monitor model adapt` "
        f"({len(labelled)} labelled posts, public calibration rows as the prior).\n"
        + severity_fit.rules_with(rules, params).to_toml(), encoding="utf-8")
    should = shop.truth == 0
    typer.echo(f"{len(labelled)} labelled posts ({int(should.sum())} should be flagged); on them "
               f"(the rows it was fitted on): caught {before[should].mean():.0%} -> {after[should].mean():.0%}, "
               f"false alarms {before[~should].mean():.0%} -> {after[~should].mean():.0%}")
    typer.echo(f"wrote {out}/severity.toml and {out}/{HEADS_FILE}; set [analysis] heads_path = \"{out}\"")


def _eval_decisions(as_json: bool) -> None:
    from monitor.cli import service
    from monitor.labels import figures

    with service() as monitor:
        labelled = monitor.labelled_posts()
    result = figures(labelled)
    by_kind: dict = {}
    for post in labelled:
        by_kind[post.kind if post.source == "label" else post.kind.split(":")[0]] = \
            by_kind.get(post.kind if post.source == "label" else post.kind.split(":")[0], 0) + 1
    result["kinds"] = by_kind
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if not labelled:
        typer.echo("no labelled posts yet: monitor label ID --missed|--wrong-flag|--complaint|--not-complaint|--spam, "
                   "or reject posts as 'not a complaint' / 'spam'")
        return
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    typer.echo(f"the shop's labelled posts: {result['labelled']} ({result['should_flag']} should be flagged, "
               f"{result['should_not_flag']} should not); " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
    typer.echo(f"  flag caught {pct(result['recall'])} of those that should be flagged; "
               f"flagged {pct(result['false_alarm_rate'])} of those that should not")
    if result["missed"]:
        typer.echo("  missed: " + " ".join(map(str, result["missed"])))
    if result["wrong_flags"]:
        typer.echo("  wrong flags: " + " ".join(map(str, result["wrong_flags"])))


@app.command("simulate-shop")
def simulate_shop_command(
    data: Path = typer.Option(..., "--data", help="The public data folder."),
    shop: list[str] = typer.Option(..., "--shop", help="A file whose held-out rows play the shop (repeatable)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Encoding cache (default ~/.cache/reply-monitor)."),
    sample: int = typer.Option(600, "--sample", min=100, help="The shop's posts: at most N held-out rows."),
    should_flag: str = typer.Option("negative", "--should-flag",
                                    help="Labels the shop wants flagged, comma-separated (e.g. negative,neutral)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """How many labelled decisions it takes to lift the flag on a (simulated) shop's later posts."""
    from monitor.analysis.corpus import CorpusError
    from monitor.analysis.simulate_shop import simulate

    results = []
    try:
        for name in shop:
            results.append(simulate(data, name, sample=sample, cache_dir=_cache(False, cache),
                                    should_flag=tuple(x.strip() for x in should_flag.split(",") if x.strip()),
                                    log=lambda line: typer.echo(line, err=True)))
    except (CorpusError, ValueError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    for result in results:
        typer.echo(f"{result['shop']}: later posts {result['test_posts']} ({result['should_flag_in_test']} "
                   f"{'/'.join(result['should_flag'])}: should be flagged)")
        typer.echo(f"  {'decisions':>9}  {'caught':>7} {'short':>7} {'false alarms':>12}   public neg / others")
        for step in result["steps"]:
            typer.echo(f"  {step['decisions']:>9}  {_pct(step['caught'])}  {_pct(step['caught_short'])}  "
                       f"{_pct(step['false_alarms']):>12}   {_pct(step['public_negative'])} / {_pct(step['public_others'])}")


@app.command("eval")
def eval_command(
    data: Optional[Path] = typer.Option(None, "--data", help="Folder of *.csv / *.csv.gz (columns text,label,lang[,orig_label])."),
    split: str = typer.Option("auto", "--split",
                              help="auto (default: held-out rows of files the model trained on, every row of "
                                   "the others), heldout, calibration, train, or all rows."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    model: Optional[Path] = typer.Option(None, "--model", help="A heads.npz (or its folder) instead of the shipped one."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Encoding cache (default ~/.cache/reply-monitor)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the encoding cache."),
    flag_threshold: Optional[float] = typer.Option(None, "--flag-threshold", min=0.0, max=1.0,
                                                   help="Severity at which a post counts as flagged "
                                                        "(default: [analysis] flag_threshold)."),
    sample: Optional[int] = typer.Option(None, "--sample", min=1,
                                         help="Score at most N rows per file (a fixed hash sample; the output says so)."),
    from_decisions: bool = typer.Option(False, "--from-decisions",
                                        help="The flag on the shop's own labelled posts (labels and decisions) instead."),
) -> None:
    """The flag rate per true label (all posts and <= 80 characters), sentiment and anger figures,
    per language and per file, with the worst file beside the average.

    Rows labelled other than negative/neutral/positive count only for the anger head.
    """
    from monitor.analysis.corpus import SPLITS, CorpusError
    from monitor.analysis.embedded import HEADS_FILE, Heads, ModelFileError
    from monitor.analysis.evaluation import evaluate

    if from_decisions:
        _eval_decisions(as_json)
        return
    if data is None:
        _fail("--data DIR is needed (or --from-decisions)")
    if split not in ("auto", *SPLITS):
        _fail(f"--split must be one of auto, {', '.join(SPLITS)} (got {split!r})")
    if flag_threshold is None:
        from monitor.settings import Settings

        flag_threshold = Settings().analysis.flag_threshold
    try:
        heads = None
        if model is not None:
            heads = Heads.load(model / HEADS_FILE if model.is_dir() else model)
        result = evaluate(data, split=split, heads=heads, cache_dir=_cache(no_cache, cache),
                          flag_threshold=flag_threshold, log=lambda line: typer.echo(line, err=True), sample=sample)
    except (CorpusError, ModelFileError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    typer.echo(render(result))


@app.command("fit-severity")
def fit_severity_command(
    data: Path = typer.Option(..., "--data", help="The folder the model was trained on (its calibration split is used)."),
    model: Optional[Path] = typer.Option(None, "--model", help="A heads.npz (or its folder) instead of the shipped one."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Encoding cache (default ~/.cache/reply-monitor)."),
    others_max: float = typer.Option(0.04, "--others-max", min=0.0, max=1.0,
                                     help="Largest share of neutral/positive posts the flag may catch (mean over files)."),
    sample: Optional[int] = typer.Option(400, "--sample", min=1, help="At most N calibration rows per file."),
) -> None:
    """Fit the numbers of severity.toml on the calibration split for the operating point; print them."""
    from monitor.analysis.corpus import CorpusError
    from monitor.analysis.embedded import HEADS_FILE, Heads, ModelFileError
    from monitor.analysis.severity_fit import as_toml, calibration_evidence, fit

    try:
        heads = Heads.load(model / HEADS_FILE if model is not None and model.is_dir() else model)
        evidence = calibration_evidence(data, heads=heads, cache_dir=_cache(False, cache), sample=sample,
                                        log=lambda line: typer.echo(line, err=True))
    except (CorpusError, ModelFileError) as exc:
        _fail(str(exc))
    if not len(evidence.truth):
        _fail(f"no calibration rows of the files this model trained on in {data}")
    params, figures = fit(evidence, others_max=others_max, log=lambda line: typer.echo(line, err=True))
    typer.echo(as_toml(params))
    typer.echo("# calibration figures (mean over files / worst file): "
               + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))


def _line(name: str, figures: dict, head_only: Optional[float] = None) -> str:
    line = (f"  {name:<38} {figures['n']:>6}  {figures['macro_f1']:.3f}      "
            f"{figures['precision']['negative']:.3f}   {figures['recall']['negative']:.3f}")
    return line if head_only is None else f"{line}   {head_only:.3f}"


def _pct(value: Optional[float]) -> str:
    return "     -" if value is None else f"{value:6.1%}"


def _flag_line(name: str, figures: dict) -> str:
    a, s = figures["all"], figures["short"]
    return (f"  {name:<38} {a['negative']['n']:>6} {_pct(a['negative']['flagged'])} {_pct(a['others']['flagged'])}"
            f"   {s['negative']['n']:>6} {_pct(s['negative']['flagged'])} {_pct(s['others']['flagged'])}"
            f"   {_pct(a['neutral']['flagged'])} {_pct(a['positive']['flagged'])}")


def _worst_line(label: str, worst: Optional[dict], average: Optional[float]) -> str:
    if not worst:
        return f"  {label:<44} average {_pct(average)}   worst: -"
    return f"  {label:<44} average {_pct(average)}   worst {_pct(worst['value'])}  ({worst['name']}, {worst['rows']} rows)"


def render(result: dict) -> str:
    """The eval figures as a few aligned tables: what was scored first, then the flag, then the heads."""
    lines = [f"model {result['model_version']}  data {result['data']}  split {result['split']}  "
             f"flag = severity >= {result.get('flag_threshold', 0.5)}"]
    scored = result.get("scored") or {}
    if scored:
        lines += ["", "rows scored (text only: no reach, no stars)"]
        lines += [f"  {name:<38} {entry['rows']:>6} of {entry['of']:>6}  {entry['slice']}"
                  for name, entry in scored.items()]
        partial = [name for name, entry in scored.items() if entry["rows"] < entry["of"]]
        if partial:
            lines.append(f"  NOTE: {len(partial)} file(s) scored on a slice only, not on every row (see above)")
    if result.get("overall") is None and not result.get("abuse"):
        lines.append("no rows labelled negative/neutral/positive or angry/calm in this split")
        return "\n".join(lines)
    flag = result.get("flag") or {}
    if flag.get("all"):
        header = (f"  {'':<38} {'neg':>6} {'neg%':>6} {'other%':>6}   {'short':>6} {'neg%':>6} {'other%':>6}"
                  f"   {'neu%':>6} {'pos%':>6}")
        lines += ["", "share flagged by true label (neg% = negative posts flagged, other% = neutral and positive "
                  "flagged; short = <= 80 characters)", "by language", header]
        lines += [_flag_line(lang, figures) for lang, figures in flag["languages"].items()]
        lines += ["by file", header]
        lines += [_flag_line(name, figures) for name, figures in flag["files"].items()]
        lines += [_flag_line("all rows", flag["all"])]
        worst, overall = result.get("worst", {}), flag["all"]
        for group in ("files", "languages"):
            lines += ["", f"worst of the {group} beside the average (>= 30 rows of the class)",
                      _worst_line("negative posts flagged", worst.get(f"flag_negative_{group}"),
                                  overall["all"]["negative"]["flagged"]),
                      _worst_line("short negative posts flagged", worst.get(f"flag_negative_short_{group}"),
                                  overall["short"]["negative"]["flagged"]),
                      _worst_line("others flagged (highest)", worst.get(f"flag_others_{group}"),
                                  overall["all"]["others"]["flagged"])]
    if result.get("overall") is not None:
        head_only = result.get("head_only_macro_f1") or {}
        header = f"  {'':<38} {'rows':>6}  macro-F1   neg-P   neg-R" + ("   head-only F1" if head_only else "")
        lines += ["", "sentiment"]
        if head_only:
            lines.append("embedding head blended with the character n-gram model (last column: the head alone)")
        lines += ["by language", header]
        lines += [_line(lang, figures, head_only.get(lang)) for lang, figures in result["languages"].items()]
        lines += ["by file" + ("  (* = not trained on)" if result.get("not_trained_on") else ""), header]
        for name, figures in result["files"].items():
            lines.append(_line(name + (" *" if name in result.get("not_trained_on", []) else ""), figures,
                               head_only.get(name)))
        lines += [_line("all rows", result["overall"], head_only.get("all"))]
        confusion = result["overall"]["confusion"]
        labels = result["overall"]["labels"]
        lines += ["", "confusion (rows: true, columns: predicted)",
                  "  " + " " * 10 + "".join(f"{label:>10}" for label in labels)]
        lines += ["  " + f"{label:<10}" + "".join(f"{n:>10}" for n in row) for label, row in zip(labels, confusion)]
    if result.get("flag_rate"):
        lines += ["", "share flagged (text only, no reach or stars): "
                  + ", ".join(f"{label} {rate:.1%}" for label, rate in result["flag_rate"].items())]
    if result.get("abuse"):
        lines += ["", "anger/abuse head (threshold 0.5)",
                  f"  {'':<38} {'rows':>6} {'angry':>6}  macro-F1   prec    recall"]
        rows = list(result["abuse"].items()) + [("all rows", result["abuse_all"])]
        lines += [f"  {name:<38} {f['n']:>6} {f.get('angry', 0):>6}  {f['macro_f1']:.3f}      {f['precision']:.3f}   "
                  f"{f['recall']:.3f}" for name, f in rows]
    if result.get("targets"):
        lines += ["", "issue 10 targets"]
        lines += [f"  {name:<38} {t['value'] if t['value'] is not None else '-':>8}  {t['target']:<8} "
                  f"{'met' if t['met'] else 'NOT MET'}" for name, t in result["targets"].items()]
    return "\n".join(lines)


if __name__ == "__main__":  # `python -m monitor.analysis.cli ...` works before `monitor model` is mounted
    app()
