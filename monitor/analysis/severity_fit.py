"""Fit the severity rule on labelled rows, for a stated operating point (`monitor model fit-severity`).

The rule stays the readable one of `severity.toml` (every reason a weight, severity =
1 - prod(1 - weight), flagged at the threshold); what is fitted are its numbers: where plain
negativity, anger and the worst sentence start to count and how much, how much a positive tone
damps risk words, and the weights of the weak lexicon reasons (verdicts, sarcasm, angry tags,
swearing, insults, warnings). Strong reasons (legal threats, authorities, fraud, health, data
leaks) keep their hand-set weights: they must flag alone however rare they are in public data.

Operating point (issue 10): flag as many negative posts as possible, short ones included, while
flagging at most `others_max` of the neutral and positive ones. Each file counts the same (a
mean over files), so one big file does not decide for all. Fitted on the calibration split
(never the held-out one); stars and reach are not in this data and keep their hand-set numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from monitor.analysis.lexicon import Match

FITTED_CODES = ("verdict", "sarcasm", "angry_tags", "profanity", "insult", "boycott")


@dataclass
class Evidence:
    """What the severity rule reads, one row per post, as arrays."""

    negative: np.ndarray
    positive: np.ndarray
    anger: np.ndarray
    worst: np.ndarray             # p(negative) of the most negative sentence, 0 when none
    fixed: np.ndarray             # log(1 - weight) summed over strong lexicon reasons (before damping)
    codes: np.ndarray             # (N, len(FITTED_CODES)) 1 where the weak reason is present
    fixed_weights: list           # per row: weights of strong reasons (damped by tone in `severity`)
    truth: np.ndarray             # 0 negative, 1 neutral, 2 positive
    short: np.ndarray
    files: np.ndarray

    @classmethod
    def build(cls, scores: Sequence[dict], matches: Sequence[Sequence[Match]], truth, short, files) -> "Evidence":
        n = len(scores)
        codes = np.zeros((n, len(FITTED_CODES)), np.float32)
        fixed_weights = []
        for i, found in enumerate(matches):
            strong = []
            for match in found:
                if match.code in FITTED_CODES:
                    codes[i, FITTED_CODES.index(match.code)] = 1.0
                else:
                    strong.append(match.weight)
            fixed_weights.append(strong)
        get = lambda key: np.array([s.get(key, 0.0) for s in scores], np.float64)  # noqa: E731
        return cls(get("negative"), get("positive"), get("anger"), get("negative_sentence"), np.zeros(n), codes,
                   fixed_weights, np.asarray(truth), np.asarray(short, bool), np.asarray(files))


@dataclass
class Params:
    negative: tuple = (0.4, 0.9, 0.65)          # zero_at, full_at, weight
    anger: tuple = (0.25, 0.9, 0.6)
    negative_sentence: tuple = (0.6, 0.95, 0.55)
    positive_damping: float = 0.7
    weights: dict = field(default_factory=lambda: {"verdict": 0.25, "sarcasm": 0.35, "angry_tags": 0.3,
                                                   "profanity": 0.2, "insult": 0.45, "boycott": 0.35})


def _ramp(x: np.ndarray, zero_at: float, full_at: float) -> np.ndarray:
    return np.clip((x - zero_at) / max(full_at - zero_at, 1e-6), 0.0, 1.0)


def severity(ev: Evidence, p: Params) -> np.ndarray:
    """The rule of `severity.assess_evidence`, vectorised (no reach, no stars)."""
    z, f, w = p.negative
    neg = np.where(ev.negative >= z, w * _ramp(ev.negative, z, f), 0.0)
    z, f, w = p.anger
    ang = np.where(ev.anger >= z, w * _ramp(ev.anger, z, f), 0.0)
    z, f, w = p.negative_sentence
    shown = (ev.worst >= z) & (ev.worst > ev.negative)
    sent = np.where(shown, w * _ramp(ev.worst, z, f), 0.0)
    positive = np.where(shown, ev.positive * (1.0 - ev.worst), ev.positive)
    damp = 1.0 - p.positive_damping * positive
    log_keep = np.log1p(-np.clip(neg, 0, 0.999)) + np.log1p(-np.clip(ang, 0, 0.999)) + np.log1p(-np.clip(sent, 0, 0.999))
    weights = np.array([p.weights[code] for code in FITTED_CODES])
    for k in range(len(FITTED_CODES)):
        log_keep += ev.codes[:, k] * np.log1p(-np.clip(weights[k] * damp, 0, 0.999))
    for i, strong in enumerate(ev.fixed_weights):
        for weight in strong:
            log_keep[i] += np.log1p(-min(0.999, weight * damp[i]))
    return 1.0 - np.exp(log_keep)


def operating_point(ev: Evidence, flagged: np.ndarray, file_weights: Optional[dict] = None) -> dict:
    """Mean over files (each file the same weight, unless `file_weights` says otherwise) and worst file
    of the three flag rates."""
    rates = {"negative": [], "short_negative": [], "others": []}
    weights = {"negative": [], "short_negative": [], "others": []}
    for name in np.unique(ev.files):
        in_file = ev.files == name
        for key, mask in (("negative", in_file & (ev.truth == 0)),
                          ("short_negative", in_file & (ev.truth == 0) & ev.short),
                          ("others", in_file & (ev.truth != 0))):
            if mask.sum() >= 20 or (file_weights and name in file_weights and mask.sum() >= 3):
                rates[key].append(float(flagged[mask].mean()))
                weights[key].append(float((file_weights or {}).get(name, 1.0)))
    out = {}
    for key, values in rates.items():
        out[key] = float(np.average(values, weights=weights[key])) if values else 0.0
        out[f"{key}_worst"] = (min(values) if key != "others" else max(values)) if values else 0.0
    return out


def objective(ev: Evidence, p: Params, threshold: float, others_max: float,
              file_weights: Optional[dict] = None) -> tuple[float, dict]:
    figures = operating_point(ev, severity(ev, p) >= threshold, file_weights)
    penalty = max(0.0, figures["others"] - others_max) * 20
    value = 0.5 * figures["negative"] + 0.5 * figures["short_negative"] + 0.1 * figures["negative_worst"] - penalty
    return value, figures


def fit(ev: Evidence, *, threshold: float = 0.5, others_max: float = 0.04, rounds: int = 3,
        start: Optional[Params] = None, log=lambda _: None, file_weights: Optional[dict] = None,
        objective_fn=None) -> tuple[Params, dict]:
    """Coordinate search over the rule's numbers; each round tries a grid for one number at a time."""
    p = start or Params()
    score_of = objective_fn or (lambda params: objective(ev, params, threshold, others_max, file_weights))
    best, figures = score_of(p)
    grids = {
        "negative.0": np.arange(0.30, 0.80, 0.025), "negative.1": np.arange(0.60, 1.0, 0.025),
        "negative.2": np.arange(0.40, 0.96, 0.02),
        "anger.0": np.arange(0.15, 0.80, 0.025), "anger.1": np.arange(0.50, 1.0, 0.025),
        "anger.2": np.arange(0.20, 0.96, 0.02),
        "negative_sentence.0": np.arange(0.50, 0.95, 0.025), "negative_sentence.1": np.arange(0.70, 1.0, 0.025),
        "negative_sentence.2": np.arange(0.20, 0.90, 0.02),
        "positive_damping": np.arange(0.0, 1.01, 0.05),
        **{f"w.{code}": np.arange(0.0, 0.61, 0.025) for code in FITTED_CODES},
    }

    def with_value(params: Params, name: str, value: float) -> Params:
        new = Params(params.negative, params.anger, params.negative_sentence, params.positive_damping,
                     dict(params.weights))
        if name.startswith("w."):
            new.weights[name[2:]] = float(value)
        elif name == "positive_damping":
            new.positive_damping = float(value)
        else:
            group, index = name.split(".")
            values = list(getattr(new, group))
            values[int(index)] = float(value)
            if values[0] < values[1]:
                setattr(new, group, tuple(values))
        return new

    for round_ in range(rounds):
        for name, grid in grids.items():
            for value in grid:
                candidate = with_value(p, name, value)
                score, found = score_of(candidate)
                if score > best + 1e-9:
                    best, figures, p = score, found, candidate
        log(f"round {round_ + 1}: objective {best:.4f}; " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    return p, figures


def as_toml(p: Params) -> str:
    """The fitted numbers in the layout of severity.toml (comments are kept by hand)."""
    lines = []
    for group in ("negative", "negative_sentence", "anger"):
        zero_at, full_at, weight = getattr(p, group)
        lines += [f"[{group}]", f"show_from = {zero_at:.3f}", f"zero_at = {zero_at:.3f}", f"full_at = {full_at:.3f}",
                  f"weight = {weight:.3f}", ""]
    lines += ["[signals]", f"positive_damping = {p.positive_damping:.2f}", "",
              "# risk_signals.toml weights"] + [f"# {code} = {p.weights[code]:.3f}" for code in FITTED_CODES]
    return "\n".join(lines)


def calibration_evidence(data_dir, *, heads=None, cache_dir=None, split: str = "calibration",
                         sample: Optional[int] = None, log=lambda _: None) -> Evidence:
    """The evidence of every labelled calibration row of the files the model trained on."""
    from monitor.analysis.corpus import load_corpus, load_recipe, sample_per_file
    from monitor.analysis.embedded import EmbeddedAnalyser
    from monitor.analysis.evaluation import SHORT_CHARS, assess_rows
    from monitor.analysis.text import clean

    analyser = EmbeddedAnalyser(heads=heads)
    corpus = load_corpus(data_dir, load_recipe())
    trained_on = set(analyser.heads.meta.get("trained_on", {}))
    rows = [row for row in corpus.rows if row.split == split and row.sentiment is not None and row.file in trained_on]
    rows = sample_per_file(rows, sample)
    log(f"severity: {len(rows)} {split} rows of {len({r.file for r in rows})} files")
    analyses = assess_rows(analyser, corpus, rows, data_dir, cache_dir, log)
    matches = [analyser.lexicon.find(row.text) for row in rows]
    return Evidence.build([a.scores for a in analyses], matches, [row.sentiment for row in rows],
                          [len(clean(row.text)) <= SHORT_CHARS for row in rows], [row.file for row in rows])


def params_from_rules(rules, lexicon) -> Params:
    """The numbers a SeverityRules (plus the lexicon's weights) holds, as fit parameters."""
    def triple(name: str, default: tuple) -> tuple:
        section = rules.section(name)
        return (section.get("zero_at", default[0]), section.get("full_at", default[1]), section.get("weight", default[2]))

    defaults = Params()
    overrides = rules.section("signal_weights")
    weights = {signal.code: float(overrides.get(signal.code, signal.weight))
               for signal in lexicon.signals if signal.code in FITTED_CODES}
    return Params(triple("negative", defaults.negative), triple("anger", defaults.anger),
                  triple("negative_sentence", defaults.negative_sentence),
                  rules.section("signals").get("positive_damping", defaults.positive_damping),
                  {**defaults.weights, **weights})


def rules_with(rules, p: Params):
    """A copy of `rules` carrying the fitted numbers (lexicon weights as [signal_weights])."""
    from monitor.analysis.severity import SeverityRules

    raw = {name: dict(body) if isinstance(body, dict) else body for name, body in rules.raw.items()}
    for name in ("negative", "anger", "negative_sentence"):
        zero_at, full_at, weight = getattr(p, name)
        raw.setdefault(name, {}).update(show_from=round(zero_at, 4), zero_at=round(zero_at, 4),
                                        full_at=round(full_at, 4), weight=round(weight, 4))
    raw.setdefault("signals", {})["positive_damping"] = round(p.positive_damping, 4)
    raw["signal_weights"] = {code: round(weight, 4) for code, weight in p.weights.items()}
    return SeverityRules(raw)


SHOP = "the shop's own posts"


def shop_evidence(labelled, lexicon) -> Evidence:
    """Labelled shop posts as evidence: should be flagged -> 'negative', should not -> 'others'."""
    from monitor.analysis.evaluation import SHORT_CHARS

    return Evidence.build([p.scores for p in labelled], [lexicon.find(p.text) for p in labelled],
                          [0 if p.should_flag else 1 for p in labelled],
                          [len(p.text) <= SHORT_CHARS for p in labelled], [SHOP] * len(labelled))


def adapt(public: Evidence, shop: Evidence, start: Params, *, others_max: float = 0.05,
          full_weight_at: int = 200, threshold: float = 0.5, log=lambda _: None) -> tuple[Params, dict]:
    """Refit the severity numbers for the shop's labelled posts, the public calibration rows as prior.

    The shop's labels set its own balance: on its posts the fit maximises the share of "should be
    flagged" posts caught minus the share of the others flagged (Youden's J). On the public rows
    it keeps the public objective and its operating point. The shop's part weighs
    0.5 * min(1, labels / full_weight_at): a few labels move the flag a little.
    """
    share = 0.5 * min(1.0, len(shop.truth) / full_weight_at)
    should = shop.truth == 0

    def score_of(params: Params) -> tuple[float, dict]:
        public_value, figures = objective(public, params, threshold, others_max)
        flagged = severity(shop, params) >= threshold
        caught = float(flagged[should].mean()) if should.any() else 0.0
        false_alarms = float(flagged[~should].mean()) if (~should).any() else 0.0
        figures = {**figures, "shop_caught": caught, "shop_false_alarms": false_alarms}
        return (1 - share) * public_value + share * (caught - false_alarms), figures

    return fit(public, rounds=2, start=start, objective_fn=score_of, log=log)
