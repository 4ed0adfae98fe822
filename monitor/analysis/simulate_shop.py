"""How many decisions it takes to lift the flag on a shop's own posts (`monitor model simulate-shop`).

A public file the model never trained on plays the shop: its held-out rows, in a fixed random
order, are the shop's posts; the first k carry the shop's labels (negative = "should have been
flagged"), as `monitor label` and the decisions would give them, and the severity is adapted with
`severity_fit.adapt` (public calibration rows as the prior). The flag is then measured on the
shop's later posts, which no adaptation saw.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from monitor.analysis import severity_fit
from monitor.analysis.corpus import load_corpus, load_recipe, sample_per_file
from monitor.analysis.embedded import EmbeddedAnalyser, Heads
from monitor.analysis.evaluation import SHORT_CHARS, assess_rows
from monitor.analysis.text import clean


def _take(ev: severity_fit.Evidence, index: np.ndarray) -> severity_fit.Evidence:
    return severity_fit.Evidence(ev.negative[index], ev.positive[index], ev.anger[index], ev.worst[index],
                                 ev.fixed[index], ev.codes[index], [ev.fixed_weights[i] for i in index],
                                 ev.truth[index], ev.short[index], ev.files[index])


def simulate(data_dir: str | Path, shop_file: str, *, steps: Sequence[int] = (0, 25, 50, 100, 200, 400),
             test_rows: int = 200, sample: Optional[int] = 600, cache_dir: Optional[Path] = None,
             heads: Optional[Heads] = None, should_flag: Sequence[str] = ("negative",),
             log=lambda _: None) -> dict:
    """`should_flag`: the true labels this shop wants flagged (a shop may, say, want 3-star reviews too)."""
    analyser = EmbeddedAnalyser(heads=heads)
    corpus = load_corpus(data_dir, load_recipe())
    rows = [row for row in corpus.rows if row.file == shop_file and row.sentiment is not None
            and (row.split == "heldout" or row.file not in analyser.heads.meta.get("trained_on", {}))]
    rows = sample_per_file(rows, sample)
    if len(rows) < test_rows + 20:
        raise ValueError(f"{shop_file}: {len(rows)} held-out rows, too few to simulate a shop")
    analyses = assess_rows(analyser, corpus, rows, data_dir, cache_dir, log)
    shop = severity_fit.Evidence.build(
        [a.scores for a in analyses], [analyser.lexicon.find(row.text) for row in rows],
        [0 if row.label in should_flag else 1 for row in rows], [len(clean(row.text)) <= SHORT_CHARS for row in rows],
        [severity_fit.SHOP] * len(rows))
    order = np.random.default_rng(5).permutation(len(rows))
    test, history = order[:test_rows], order[test_rows:]
    public = severity_fit.calibration_evidence(data_dir, heads=analyser.heads, cache_dir=cache_dir, sample=400, log=log)
    start = severity_fit.params_from_rules(analyser.rules or severity_fit_default_rules(), analyser.lexicon)
    future = _take(shop, test)
    out = {"shop": shop_file, "should_flag": list(should_flag), "test_posts": int(len(test)), "should_flag_in_test": int((future.truth == 0).sum()),
           "steps": []}
    for k in steps:
        k = min(k, len(history))
        params = start
        if k:
            params, _ = severity_fit.adapt(public, _take(shop, history[:k]), start)
        flagged = severity_fit.severity(future, params) >= 0.5
        should = future.truth == 0
        public_flag = severity_fit.operating_point(public, severity_fit.severity(public, params) >= 0.5)
        out["steps"].append({
            "decisions": k, "caught": round(float(flagged[should].mean()), 4),
            "caught_short": round(float(flagged[should & future.short].mean()), 4) if (should & future.short).any() else None,
            "false_alarms": round(float(flagged[~should].mean()), 4),
            "public_negative": round(public_flag["negative"], 4), "public_others": round(public_flag["others"], 4)})
        log(f"{k} decisions: {out['steps'][-1]}")
    return out


def severity_fit_default_rules():
    from monitor.analysis.severity import default_rules

    return default_rules()
