"""`monitor model eval`: how good the shipped (or a given) model is, on rows it never saw.

What people see is the flag (severity >= threshold), so that is measured first: the share of
posts flagged per true label, over all rows and over short posts (<= 80 characters) apart, per
language and per file, with the worst file beside the average. Then sentiment (macro-F1,
negative precision/recall, confusion) and the anger/abuse head (precision, recall).

Every row goes through the same `EmbeddedAnalyser.assess` as a polled post (text only: no
reach, no stars), with the encodings read from the per-file cache.

Which rows are scored is never silent: by default (`auto`) a file the model was trained on is
scored on its held-out slice, and a file it never trained on on every row; `scored` says which
slice of which file was used.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from monitor.analysis.base import Analysis, PostView
from monitor.analysis.corpus import SENTIMENT_LABELS, Row, load_corpus, load_recipe, sample_per_file
from monitor.analysis.embedded import EmbeddedAnalyser, Heads
from monitor.analysis.metrics import score
from monitor.analysis.text import clean
from monitor.analysis.training import Log, encoded_rows

SHORT_CHARS = 80
MIN_WORST = 30            # a file enters the worst case only with this many rows of the class
# Done-when targets of issue 10 (held-out split): the eval says whether they hold
TARGETS = {"flag_negative": 0.60, "flag_negative_short": 0.50, "flag_others_max": 0.05,
           "anger_recall": 0.60, "anger_precision": 0.50, "macro_f1_per_language": 0.72}


def choose_rows(rows: Sequence[Row], split: str, trained_on: set[str],
                sample: Optional[int] = None) -> tuple[list[Row], dict]:
    """The rows to score and, per file, which slice they are (`auto`: held-out if trained on, else all).

    `sample`: at most this many labelled rows per file (a fixed hash sample), said in `scored`.
    """
    chosen, scored = [], {}
    labelled = [row for row in rows if row.sentiment is not None or row.abuse is not None]
    wanted = None
    if sample:
        pool = [row for row in labelled
                if (split == "all") or (row.split == (("heldout" if row.file in trained_on else row.split)
                                                     if split == "auto" else split))]
        wanted = {id(row) for row in sample_per_file(pool, sample)}
    for row in labelled:
        if wanted is not None and id(row) not in wanted:
            continue
        if split == "auto":
            part = "heldout" if row.file in trained_on else "all"
        else:
            part = split
        if part == "all" or row.split == part:
            chosen.append(row)
            entry = scored.setdefault(row.file, {"rows": 0, "of": 0, "slice": part})
            entry["rows"] += 1
    for row in labelled:
        if row.file in scored:
            scored[row.file]["of"] += 1
    for name, entry in scored.items():
        entry["slice"] = {"all": "every row (never trained on)" if name not in trained_on else "every row",
                          "heldout": "held-out slice (never trained on)"}.get(entry["slice"], entry["slice"] + " slice")
        if sample:
            entry["slice"] += f", at most {sample} of them (hash sample)"
    return chosen, dict(sorted(scored.items()))


def flag_figures(truth: np.ndarray, flagged: np.ndarray, short: np.ndarray) -> dict:
    """Share flagged per true label (and 'others' = neutral + positive), all posts and short ones."""
    def rates(mask: np.ndarray) -> dict:
        out: dict = {"n": int(mask.sum())}
        for k, label in enumerate(SENTIMENT_LABELS):
            both = mask & (truth == k)
            out[label] = {"n": int(both.sum()), "flagged": round(float(flagged[both].mean()), 4) if both.any() else None}
        others = mask & (truth != 0)
        out["others"] = {"n": int(others.sum()),
                         "flagged": round(float(flagged[others].mean()), 4) if others.any() else None}
        return out

    everything = np.ones(len(truth), bool)
    return {"all": rates(everything), "short": rates(short)}


def anger_figures(truth: np.ndarray, predicted: np.ndarray) -> dict:
    figures = score(truth, predicted, ("calm", "angry")).as_dict()
    return {"n": figures["n"], "angry": int(truth.sum()), "macro_f1": figures["macro_f1"],
            "precision": figures["precision"]["angry"], "recall": figures["recall"]["angry"]}


def _worst(groups: dict, path: Sequence[str], count_path: Sequence[str], lowest: bool) -> Optional[dict]:
    """The group with the lowest (or highest) figure among those with enough rows."""
    best = None
    for name, figures in groups.items():
        value, count = figures, figures
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        for key in count_path:
            count = count.get(key) if isinstance(count, dict) else None
        if value is None or (count or 0) < MIN_WORST:
            continue
        if best is None or (value < best["value"] if lowest else value > best["value"]):
            best = {"name": name, "value": value, "rows": count}
    return best


def evaluate(data_dir: str | Path, *, split: str = "auto", heads: Optional[Heads] = None,
             cache_dir: Optional[Path] = None, flag_threshold: float = 0.5, log: Log = lambda _: None,
             analyser: Optional[EmbeddedAnalyser] = None, sample: Optional[int] = None) -> dict:
    analyser = analyser or EmbeddedAnalyser(heads=heads, flag_threshold=flag_threshold)
    heads = analyser.heads
    corpus = load_corpus(data_dir, load_recipe())
    trained_on = set(heads.meta.get("trained_on", {}))
    rows, scored = choose_rows(corpus.rows, split, trained_on, sample)
    result: dict = {"model_version": heads.version, "data": str(data_dir), "split": split,
                    "flag_threshold": analyser.flag_threshold, "scored": scored, "sample": sample,
                    "trained_on": sorted(trained_on), "not_trained_on": sorted(heads.meta.get("excluded", {})),
                    "languages": {}, "files": {}, "abuse": {}, "flag_rate": {}, "flag": {}, "worst": {}}
    if not rows:
        result["overall"] = None
        return result
    log(f"scoring {len(rows)} rows of {len(scored)} file(s) ...")
    analyses = assess_rows(analyser, corpus, rows, data_dir, cache_dir, log)
    sentiment_rows = [i for i, row in enumerate(rows) if row.sentiment is not None]
    abuse_rows = [i for i, row in enumerate(rows) if row.abuse is not None]
    result["overall"] = None
    if sentiment_rows:
        _sentiment_and_flag(result, [rows[i] for i in sentiment_rows], [analyses[i] for i in sentiment_rows],
                            analyser, corpus, data_dir, cache_dir, log)
    if abuse_rows:
        truth = np.array([rows[i].abuse for i in abuse_rows])
        angry = np.array([analyses[i].scores.get("anger", 0.0) >= 0.5 for i in abuse_rows]).astype(int)
        files = np.array([rows[i].file for i in abuse_rows])
        for name in sorted(set(files)):
            mask = files == name
            result["abuse"][name] = anger_figures(truth[mask], angry[mask])
        result["abuse_all"] = anger_figures(truth, angry)
        result["worst"]["anger_recall"] = _worst(result["abuse"], ["recall"], ["angry"], lowest=True)
        result["worst"]["anger_precision"] = _worst(result["abuse"], ["precision"], ["angry"], lowest=True)
    result["targets"] = check_targets(result)
    return result


def assess_rows(analyser: EmbeddedAnalyser, corpus, rows: Sequence[Row], data_dir, cache_dir,
                log: Log, batch: int = 2048) -> list[Analysis]:
    """The product's analysis of every row (text only), encodings from the cache."""
    encoded = encoded_rows(corpus, rows, data_dir, cache_dir, log)
    out: list[Analysis] = []
    for start in range(0, len(rows), batch):
        index = np.arange(start, min(start + batch, len(rows)))
        out += analyser.assess([PostView(text=rows[i].text) for i in index], encoded.subset(index))
    return out


def _sentiment_and_flag(result: dict, rows: list[Row], analyses: list[Analysis], analyser: EmbeddedAnalyser,
                        corpus, data_dir, cache_dir, log: Log) -> None:
    heads = analyser.heads
    predicted = np.array([SENTIMENT_LABELS.index(a.sentiment) for a in analyses])
    truth = np.array([row.sentiment for row in rows])
    langs = np.array([row.lang for row in rows])
    files = np.array([row.file for row in rows])
    short = np.array([len(clean(row.text)) <= SHORT_CHARS for row in rows])
    flagged = np.array([a.flagged for a in analyses])
    result["overall"] = score(truth, predicted, SENTIMENT_LABELS).as_dict()
    result["flag"]["all"] = flag_figures(truth, flagged, short)
    result["flag"]["languages"], result["flag"]["files"] = {}, {}
    blended = heads.ngrams is not None and heads.blend is not None
    head_only = None
    if blended:  # the embedding head alone, for comparison with the blend
        from monitor.analysis.training import encode_rows

        order = [heads.sentiment.classes.index(label) for label in SENTIMENT_LABELS]
        features = encode_rows(corpus, rows, data_dir, cache_dir, log)
        head_only = heads.sentiment.predict_proba(features)[:, order].argmax(axis=1)
        result["head_only_macro_f1"] = {"all": score(truth, head_only, SENTIMENT_LABELS).as_dict()["macro_f1"]}
    for group, column in (("languages", langs), ("files", files)):
        for name in sorted(set(column)):
            mask = column == name
            result[group][name] = score(truth[mask], predicted[mask], SENTIMENT_LABELS).as_dict()
            result["flag"][group][name] = flag_figures(truth[mask], flagged[mask], short[mask])
            if head_only is not None:
                result["head_only_macro_f1"][name] = score(truth[mask], head_only[mask],
                                                           SENTIMENT_LABELS).as_dict()["macro_f1"]
    for k, label in enumerate(SENTIMENT_LABELS):
        mask = truth == k
        if mask.any():
            result["flag_rate"][label] = round(float(flagged[mask].mean()), 4)
    worst = result["worst"]
    for group in ("files", "languages"):
        flags = result["flag"][group]
        worst[f"flag_negative_{group}"] = _worst(flags, ["all", "negative", "flagged"], ["all", "negative", "n"], True)
        worst[f"flag_negative_short_{group}"] = _worst(flags, ["short", "negative", "flagged"],
                                                       ["short", "negative", "n"], True)
        worst[f"flag_others_{group}"] = _worst(flags, ["all", "others", "flagged"], ["all", "others", "n"], False)
        worst[f"macro_f1_{group}"] = _worst(result[group], ["macro_f1"], ["n"], True)


def check_targets(result: dict) -> dict:
    """Each done-when target: the figure on the average and on the worst language, and whether both hold."""
    checks: dict = {}
    flag = result.get("flag", {}).get("all")
    if flag:
        checks["flag_negative"] = (flag["all"]["negative"]["flagged"], TARGETS["flag_negative"], ">=")
        checks["flag_negative_short"] = (flag["short"]["negative"]["flagged"], TARGETS["flag_negative_short"], ">=")
        checks["flag_others"] = (flag["all"]["others"]["flagged"], TARGETS["flag_others_max"], "<=")
        languages = [f["macro_f1"] for f in result["languages"].values() if f["n"] >= MIN_WORST]
        if languages:
            checks["macro_f1_worst_language"] = (min(languages), TARGETS["macro_f1_per_language"], ">=")
    if result.get("abuse_all"):
        checks["anger_recall"] = (result["abuse_all"]["recall"], TARGETS["anger_recall"], ">=")
        checks["anger_precision"] = (result["abuse_all"]["precision"], TARGETS["anger_precision"], ">=")
    out = {}
    for name, (value, target, sense) in checks.items():
        ok = value is not None and (value >= target if sense == ">=" else value <= target)
        out[name] = {"value": value, "target": f"{sense} {target}", "met": bool(ok)}
    return out
