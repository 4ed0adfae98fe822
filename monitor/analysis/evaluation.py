"""`monitor model eval`: how good the shipped (or a given) model is, on rows it never saw.

Sentiment figures (macro-F1, negative precision/recall, confusion) per language and per file;
anger/abuse figures for files that label it; and how often the final flag fires per true
label, which is what people actually see.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from monitor.analysis.base import PostView
from monitor.analysis.corpus import SENTIMENT_LABELS, load_corpus, load_recipe
from monitor.analysis.embedded import Heads
from monitor.analysis.lexicon import RiskLexicon
from monitor.analysis.metrics import score
from monitor.analysis.severity import build_analysis
from monitor.analysis.text import clean
from monitor.analysis.training import Log, encode_rows


def evaluate(data_dir: str | Path, *, split: str = "heldout", heads: Optional[Heads] = None,
             cache_dir: Optional[Path] = None, flag_threshold: float = 0.5, log: Log = lambda _: None) -> dict:
    heads = heads or Heads.load()
    recipe = load_recipe()
    corpus = load_corpus(data_dir, recipe)
    rows = corpus.select(split)
    sentiment_rows = [row for row in rows if row.sentiment is not None]
    abuse_rows = [row for row in rows if row.abuse is not None]
    result: dict = {"model_version": heads.version, "data": str(data_dir), "split": split,
                    "trained_on": sorted(heads.meta.get("trained_on", {})),
                    "not_trained_on": sorted(heads.meta.get("excluded", {})),
                    "languages": {}, "files": {}, "abuse": {}, "flag_rate": {}}
    if not sentiment_rows and not abuse_rows:
        result["overall"] = None
        return result
    if sentiment_rows:
        features = encode_rows(corpus, sentiment_rows, data_dir, cache_dir, log)
        order = [heads.sentiment.classes.index(label) for label in SENTIMENT_LABELS]
        probs = heads.sentiment_proba(features, [clean(row.text) for row in sentiment_rows])[:, order]
        predicted = probs.argmax(axis=1)
        head_only = heads.sentiment.predict_proba(features)[:, order].argmax(axis=1)
        truth = np.array([row.sentiment for row in sentiment_rows])
        langs = np.array([row.lang for row in sentiment_rows])
        files = np.array([row.file for row in sentiment_rows])
        result["overall"] = score(truth, predicted, SENTIMENT_LABELS).as_dict()
        blended = heads.ngrams is not None and heads.blend is not None
        if blended:  # the embedding head alone, for comparison with the blend
            result["head_only_macro_f1"] = {"all": score(truth, head_only, SENTIMENT_LABELS).as_dict()["macro_f1"]}
        for group, column in (("languages", langs), ("files", files)):
            for name in sorted(set(column)):
                mask = column == name
                result[group][name] = score(truth[mask], predicted[mask], SENTIMENT_LABELS).as_dict()
                if blended:
                    result["head_only_macro_f1"][name] = score(truth[mask], head_only[mask],
                                                               SENTIMENT_LABELS).as_dict()["macro_f1"]
        anger = heads.anger.predict_proba(features)[:, 1]
        lexicon = RiskLexicon.load()
        flagged = np.array([
            build_analysis(PostView(text=row.text), language=row.lang,
                           scores={"negative": p[0], "neutral": p[1], "positive": p[2], "anger": a},
                           matches=lexicon.find(row.text), flag_threshold=flag_threshold,
                           model_version=heads.version).flagged
            for row, p, a in zip(sentiment_rows, probs, anger)
        ])
        for k, label in enumerate(SENTIMENT_LABELS):
            mask = truth == k
            if mask.any():
                result["flag_rate"][label] = round(float(flagged[mask].mean()), 4)
    else:
        result["overall"] = None
    if abuse_rows:
        features = encode_rows(corpus, abuse_rows, data_dir, cache_dir, log)
        angry = (heads.anger.predict_proba(features)[:, 1] >= 0.5).astype(int)
        truth = np.array([row.abuse for row in abuse_rows])
        files = np.array([row.file for row in abuse_rows])
        for name in sorted(set(files)):
            mask = files == name
            figures = score(truth[mask], angry[mask], ("calm", "angry")).as_dict()
            result["abuse"][name] = {"n": figures["n"], "macro_f1": figures["macro_f1"],
                                     "precision": figures["precision"]["angry"], "recall": figures["recall"]["angry"]}
    return result
