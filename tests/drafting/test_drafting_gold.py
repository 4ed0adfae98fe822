"""The gold file references rows of ../shared/data and never copies them."""
from pathlib import Path

import pytest

from monitor.drafting.gold import GoldError, load_gold, read_labels, row_key

GOLD = Path(__file__).parent / "data" / "gold.csv"
SHARED = next((p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
              Path("../shared/data"))


def test_gold_file_has_a_hundred_complaints_per_language_and_no_text():
    rows = read_labels(GOLD)
    for language in ("en", "pl", "ru"):
        assert sum(1 for r in rows if r.lang == language and r.reply_due) >= 100
    assert "text" not in GOLD.read_text("utf-8").splitlines()[0]
    assert all(len(r.key) == 12 for r in rows)


def test_loader_joins_texts_and_names_a_missing_row(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("text,label,lang\nparcel never came,negative,en\n", encoding="utf-8")
    gold = tmp_path / "gold.csv"
    gold.write_text("file,key,lang,topic,strategy,reply_due\n"
                    f"x,{row_key('parcel never came')},en,delivery_late,four_step,yes\n", encoding="utf-8")
    assert load_gold(gold, data)[0].text == "parcel never came"
    gold.write_text("file,key,lang,topic,strategy,reply_due\nx,000000000000,en,other,four_step,yes\n", encoding="utf-8")
    with pytest.raises(GoldError, match="x:000000000000"):
        load_gold(gold, data)
    gold.write_text("file,key,lang,topic,strategy,reply_due\nx,000000000000,en,other,shout,yes\n", encoding="utf-8")
    with pytest.raises(GoldError, match="unknown strategy"):
        load_gold(gold, data)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not there")
def test_every_gold_row_is_found_in_the_shared_data():
    assert len(load_gold(GOLD, SHARED)) == len(read_labels(GOLD))
