"""`monitor model train/eval` through the Typer app, on small CSV files made here."""
import csv
import gzip
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from monitor.analysis.cli import app
from monitor.analysis.embedded import Heads

runner = CliRunner()

NEGATIVE = ["Terrible service, my order never arrived.", "Awful quality, broke after one day.",
            "Fatalna obsługa, paczka nie dotarła.", "Beznadziejny produkt, zepsuł się po tygodniu.",
            "Ужасный магазин, деньги не вернули.", "Отвратительное качество, всё сломалось."]
NEUTRAL = ["The parcel is at the post office.", "I ordered size M on Monday.",
           "Paczka jest w punkcie odbioru.", "Zamówiłem rozmiar M w poniedziałek.",
           "Посылка в пункте выдачи.", "Я заказал размер M в понедельник."]
POSITIVE = ["Great shop, fast delivery, thank you!", "Love it, excellent quality.",
            "Świetny sklep, szybka dostawa, dziękuję!", "Super jakość, polecam!",
            "Отличный магазин, быстрая доставка, спасибо!", "Прекрасное качество, рекомендую."]
LANGS = ["en", "en", "pl", "pl", "ru", "ru"]


def write_rows(path, rows, columns=("text", "label", "lang", "orig_label")):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    rows = []
    for variant in range(8):                       # small variations so the hash split has rows everywhere
        suffix = "" if variant == 0 else f" ({variant})"
        for label, texts in (("negative", NEGATIVE), ("neutral", NEUTRAL), ("positive", POSITIVE)):
            rows += [(text + suffix, label, lang, "") for text, lang in zip(texts, LANGS)]
    rows.append(("Meh, mixed feelings.", "mixed", "en", ""))        # skipped: not a polarity
    write_rows(folder / "shop_reviews.csv", rows)
    abuse = [(f"You are idiots {i}", "negative", "en", "hate-speech") for i in range(30)]
    abuse += [(f"Nice weather today {i}", "unknown", "en", "non-harmful") for i in range(30)]
    write_rows(folder / "pl_poleval2019_cyberbullying_tweets.csv.gz", abuse)
    return folder


@pytest.fixture(scope="module")
def trained(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--out", str(out), "--no-cache", "--no-ngrams"])
    assert result.exit_code == 0, result.output
    return out


def test_train_writes_heads_that_load(trained):
    heads = Heads.load(trained / "heads.npz")
    assert heads.sentiment.classes == ("negative", "neutral", "positive")
    assert heads.anger.classes == ("calm", "angry")
    assert set(heads.meta["trained_on"]) == {"shop_reviews", "pl_poleval2019_cyberbullying_tweets"}


def test_train_is_reproducible(data_dir, trained, tmp_path):
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--out", str(tmp_path), "--no-cache", "--no-ngrams"])
    assert result.exit_code == 0, result.output
    first, second = Heads.load(trained / "heads.npz"), Heads.load(tmp_path / "heads.npz")
    assert first.version == second.version
    assert np.array_equal(first.sentiment.w1, second.sentiment.w1)


def test_train_with_ngrams_blends_them_and_eval_shows_the_head_alone(data_dir, trained, tmp_path):
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--out", str(tmp_path), "--no-cache"])
    assert result.exit_code == 0, result.output
    blended, plain = Heads.load(tmp_path / "heads.npz"), Heads.load(trained / "heads.npz")
    assert plain.ngrams is None and "ngrams" not in plain.meta
    assert blended.ngrams is not None and 0.3 <= blended.blend.share <= 0.7
    assert np.array_equal(blended.sentiment.w1, plain.sentiment.w1) and blended.version != plain.version
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(tmp_path), "--split", "all",
                                 "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(figures["head_only_macro_f1"]) == {"all", "en", "pl", "ru", "shop_reviews"}
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(tmp_path), "--no-cache"])
    assert "head-only F1" in result.output


def test_eval_prints_per_language_and_file_figures(data_dir, trained):
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(trained), "--split", "all", "--no-cache"])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("by language", "by file", "shop_reviews", "macro-F1", "neg-P", "neg-R", "confusion",
                     "anger/abuse head", "pl_poleval2019_cyberbullying_tweets"):
        assert expected in out
    # once in the flag table, once in the sentiment table
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  ") and line.split()[0] in LANGS] \
        == ["en", "pl", "ru"] * 2


def test_eval_json_counts_only_polarity_rows_and_learns_the_easy_data(data_dir, trained):
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(trained), "--split", "all",
                                 "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout[result.stdout.index("{"):])
    assert figures["overall"]["n"] == 144                     # 8 x 18 rows; "mixed" and abuse-only rows skipped
    assert set(figures["languages"]) == {"en", "pl", "ru"}
    assert figures["files"]["shop_reviews"]["macro_f1"] > 0.8  # it saw these rows: a sanity check, not a score
    assert sum(map(sum, figures["overall"]["confusion"])) == 144
    assert figures["abuse"]["pl_poleval2019_cyberbullying_tweets"]["n"] == 60


def test_heldout_split_never_contains_training_rows(data_dir, trained):
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(trained), "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    heldout = json.loads(result.stdout[result.stdout.index("{"):])
    trained_counts = Heads.load(trained / "heads.npz").meta["counts"]["sentiment"]["train"]["shop_reviews"]
    assert heldout["overall"]["n"] + trained_counts <= 144


@pytest.mark.parametrize("setup,message", [
    (lambda d: None, "not found"),
    (lambda d: d.mkdir(), "no *.csv"),
    (lambda d: (d.mkdir(), (d / "x.csv").write_text("content,stars\nhi,5\n")), "missing column"),
    (lambda d: (d.mkdir(), (d / "x.csv.gz").write_bytes(b"not gzip")), "cannot be read"),
])
@pytest.mark.parametrize("command", ["train", "eval"])
def test_bad_data_is_a_clear_error_with_exit_code_2(tmp_path, setup, message, command):
    folder = tmp_path / "data"
    setup(folder)
    result = runner.invoke(app, [command, "--data", str(folder), "--no-cache"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_split_and_bad_model_exit_2(data_dir, tmp_path):
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--split", "everything"])
    assert result.exit_code == 2 and "--split" in result.output
    (tmp_path / "heads.npz").write_text("junk")
    result = runner.invoke(app, ["eval", "--data", str(data_dir), "--model", str(tmp_path)])
    assert result.exit_code == 2 and "cannot load the analysis heads" in result.output


def test_training_without_polarity_rows_fails_cleanly(tmp_path):
    write_rows(tmp_path / "only_mixed.csv", [("so so", "mixed", "en", "")] * 5)
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--no-cache"])
    assert result.exit_code == 2 and "negative/neutral/positive" in result.output


def eval_json(*args):
    result = runner.invoke(app, ["eval", *args, "--json", "--no-cache"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{"):])


def test_eval_scores_every_row_of_a_folder_the_model_never_trained_on(data_dir, trained, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    rows = [(text + f" [{i}]", label, lang, "") for i in range(5)
            for label, texts in (("negative", NEGATIVE), ("positive", POSITIVE)) for text, lang in zip(texts, LANGS)]
    write_rows(foreign / "other_shop.csv", rows)
    figures = eval_json("--data", str(foreign), "--model", str(trained))
    assert figures["scored"]["other_shop"] == {"rows": 60, "of": 60, "slice": "every row (never trained on)"}
    assert figures["overall"]["n"] == 60
    # asked for a slice, it says so
    result = runner.invoke(app, ["eval", "--data", str(foreign), "--model", str(trained), "--split", "heldout",
                                 "--no-cache"])
    assert "scored on a slice only" in result.output


def test_eval_reports_the_flag_per_true_label_short_posts_and_the_worst_file(data_dir, trained):
    figures = eval_json("--data", str(data_dir), "--model", str(trained), "--split", "all")
    flag = figures["flag"]
    assert set(flag["files"]) == {"shop_reviews"} and set(flag["languages"]) == {"en", "pl", "ru"}
    everything = flag["all"]
    assert everything["all"]["negative"]["n"] == 48 and everything["all"]["others"]["n"] == 96
    assert everything["short"]["n"] == 144                         # every test text is under 80 characters
    negative_flagged = everything["all"]["negative"]["flagged"]
    assert figures["flag_rate"]["negative"] == negative_flagged
    assert figures["worst"]["flag_negative_files"]["name"] == "shop_reviews"
    assert figures["abuse_all"]["n"] == 60 and figures["abuse_all"]["angry"] == 30
    assert figures["targets"]["flag_negative"]["value"] == negative_flagged
    assert figures["targets"]["flag_negative"]["met"] == (negative_flagged >= 0.6)


def test_train_can_keep_the_heads_and_refit_only_what_sits_on_top(data_dir, trained, tmp_path):
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--out", str(tmp_path), "--no-cache",
                                 "--keep-heads", str(trained)])
    assert result.exit_code == 0, result.output
    assert "head kept from" in result.output
    kept, original = Heads.load(tmp_path / "heads.npz"), Heads.load(trained / "heads.npz")
    assert np.array_equal(kept.sentiment.w1, original.sentiment.w1) and kept.ngrams is not None
    result = runner.invoke(app, ["train", "--data", str(data_dir), "--keep-heads", str(tmp_path / "nothing.npz")])
    assert result.exit_code == 2 and "cannot load the analysis heads" in result.output
