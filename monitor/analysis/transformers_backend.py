"""The transformers backend: any Hugging Face sequence classifier mapped to neg/neu/pos.

For teams with a GPU or a bigger CPU. `[analysis] model` is a Hub id or a local folder; it is
always loaded with `local_files_only=True`: nothing is downloaded at run time, so a Hub id must
already be in the local Hugging Face cache (fetch it once with `hf download ID`). The anger score
and everything else (risk words, reach, stars) come from the same code as the embedded
backend, so only the sentiment model changes.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from monitor.analysis.base import Analysis, PostView
from monitor.analysis.language import detect_many
from monitor.analysis.lexicon import RiskLexicon
from monitor.analysis.severity import SeverityRules, build_analysis
from monitor.analysis.text import clean

DEFAULT_MODEL = "cardiffnlp/twitter-xlm-roberta-base-sentiment-multilingual"
_NAMED = {
    "negative": "negative", "neg": "negative", "bad": "negative", "1 star": "negative", "2 stars": "negative",
    "very negative": "negative",
    "neutral": "neutral", "neu": "neutral", "3 stars": "neutral", "mixed": "neutral",
    "positive": "positive", "pos": "positive", "good": "positive", "4 stars": "positive", "5 stars": "positive",
    "very positive": "positive",
}
_INDEXED = re.compile(r"^label_(\d+)$")


class TransformersModelError(Exception):
    """The configured model cannot be loaded or its labels cannot be mapped."""


def label_mapping(id2label: dict[int, str]) -> dict[str, str]:
    """Model label -> negative/neutral/positive.

    Named labels are matched by name; LABEL_0..LABEL_2 are read as negative/neutral/positive
    (the convention of sentiment models trained with the Trainer), LABEL_0..1 as neg/pos.
    """
    labels = [id2label[i] for i in sorted(id2label)]
    mapping: dict[str, str] = {}
    for label in labels:
        name = label.strip().lower()
        if name in _NAMED:
            mapping[label] = _NAMED[name]
    if len(mapping) == len(labels) and mapping:
        return mapping
    indexed = [_INDEXED.match(label.strip().lower()) for label in labels]
    if all(indexed):
        order = {3: ("negative", "neutral", "positive"), 2: ("negative", "positive"),
                 5: ("negative", "negative", "neutral", "positive", "positive")}.get(len(labels))
        if order:
            return {label: order[int(m.group(1))] for label, m in zip(labels, indexed)}
    raise TransformersModelError(
        f"cannot map the model's labels {labels} to negative/neutral/positive "
        "(expected names such as 'negative'/'neutral'/'positive' or LABEL_0..LABEL_2)")


class TransformersAnalyser:
    """A transformers text-classification pipeline with batching and truncation."""

    def __init__(self, model: Optional[str] = None, *, flag_threshold: float = 0.5,
                 languages: Sequence[str] = ("pl", "ru", "en", "uk", "de"), batch_size: int = 32,
                 device: Optional[str] = None, max_length: int = 512,
                 lexicon: Optional[RiskLexicon] = None, rules: Optional[SeverityRules] = None,
                 anger: bool = True):
        self.model_name = model or DEFAULT_MODEL
        try:
            from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        except ImportError:
            raise TransformersModelError(
                "the transformers backend needs the optional packages: pip install 'reply-monitor[transformers]'") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=True)
            network = AutoModelForSequenceClassification.from_pretrained(self.model_name, local_files_only=True)
            network.eval()
            self.pipeline = pipeline("text-classification", model=network, tokenizer=tokenizer,
                                     device=device if device is not None else -1)
        except Exception as exc:  # transformers raises OSError/ValueError/... for a bad id or folder
            raise TransformersModelError(
                f"cannot load model {self.model_name!r} from disk ({type(exc).__name__}: {exc}); "
                "give a local folder or download the model once with `hf download ID`") from None
        self.mapping = label_mapping(dict(self.pipeline.model.config.id2label))
        self.max_length = min(max_length, getattr(self.pipeline.tokenizer, "model_max_length", max_length) or max_length)
        self.batch_size = batch_size
        self.flag_threshold = flag_threshold
        self.languages = tuple(languages)
        self.lexicon = lexicon or RiskLexicon.load()
        self.rules = rules
        self._anger = None
        if anger:
            try:
                from monitor.analysis.embedded import EmbeddedAnalyser

                self._anger = EmbeddedAnalyser(flag_threshold=flag_threshold, lexicon=self.lexicon)
            except Exception:  # the shipped heads are optional here: sentiment still works
                self._anger = None
        self.version = f"transformers:{self.model_name}"

    def sentiment(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """negative/neutral/positive probabilities for each text (one batched pipeline call)."""
        if not texts:
            return []
        outputs = self.pipeline(list(texts), batch_size=self.batch_size, truncation=True,
                                max_length=self.max_length, top_k=None)
        results = []
        for output in outputs:
            scores = {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
            for item in output:
                scores[self.mapping[item["label"]]] += float(item["score"])
            results.append(scores)
        return results

    def assess(self, posts: Sequence[PostView]) -> list[Analysis]:
        posts = list(posts)
        cleaned = [clean(post.text) or "." for post in posts]
        languages = detect_many(cleaned, [post.language for post in posts], self.languages)
        sentiments = self.sentiment(cleaned)
        angers = self._anger.score(cleaned)[1] if self._anger is not None else None
        results = []
        for i, post in enumerate(posts):
            scores = dict(sentiments[i])
            if angers is not None:
                scores["anger"] = float(angers[i])
            results.append(build_analysis(
                post, language=languages[i], scores=scores,
                matches=self.lexicon.find(cleaned[i], already_clean=True),
                flag_threshold=self.flag_threshold, model_version=self.version, rules=self.rules,
            ))
        return results

