"""More new items between two polls than `page_size x max_pages`: the run stops at the page limit,
records where to go on from, and the following runs collect the rest, with nothing skipped and
nothing collected twice; a break-off or a refused resume point loses nothing either."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.connectors.conftest import PLATFORMS, Collector, seed

MAX_PAGES = 2    # with the fake's two items per page: four items per listing and run
BURST = 11       # between two polls: more than three runs' worth

# Requests of a resuming run that pass before the break-off: the first resumed page is stored.
FIRST_RESUMED_PAGE = {"x": 1, "facebook": 2, "instagram": 2, "reddit": 2, "google_reviews": 1, "allegro": 1,
                      "vk": 2, "youtube": 1, "trustpilot": 1}
# A resume point the platform no longer accepts (Reddit answers an empty listing for it).
REFUSED = {"x": "gone", "facebook": "bogus", "instagram": "bogus", "reddit": "t1_zzzzzzz",
           "google_reviews": "bogus", "allegro": "bogus", "vk": "bogus", "youtube": "bogus", "trustpilot": "bogus"}


class CountingCollector(Collector):
    """Also counts how often each item was handed over, to show that nothing comes twice."""

    def __init__(self, connector):
        super().__init__(connector)
        self.handed: Counter[str] = Counter()
        self.bookmarks: list[str] = []

    def run(self):
        new = []
        for page in self.connector.collect(self.bookmark):
            for item in page.items:
                self.handed[item.external_id] += 1
                if item.external_id not in self.items:
                    new.append(item)
                self.items[item.external_id] = item
            if page.bookmark is not None:
                self.bookmark = page.bookmark
                self.bookmarks.append(page.bookmark)
        return new


def resuming(bookmark: str) -> bool:
    """Whether some stream of the bookmark still has to be walked back to its old floor."""
    return any(isinstance(v, dict) and ("resume" in v or "until" in v) for v in json.loads(bookmark).values())


def settle(collector: CountingCollector, limit: int = 8) -> list:
    """Poll until no stream has a walk back pending; returns the items new to the store."""
    new = []
    for _ in range(limit):
        new.extend(collector.run())
        if not resuming(collector.bookmark):
            return new
    raise AssertionError(f"still resuming after {limit} runs: the walk back does not advance")


def after_first_poll(fake, connect, platform):
    seed(fake, platform, 3, start=200, tag="old")
    collector = CountingCollector(connect(platform, max_pages=MAX_PAGES))
    collector.run()
    assert not resuming(collector.bookmark)
    collector.handed.clear()
    burst = seed(fake, platform, BURST, start=60, tag="burst")
    return collector, burst


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_burst_beyond_the_page_limit_is_collected_over_the_next_runs(fake, connect, platform):
    collector, burst = after_first_poll(fake, connect, platform)

    first = collector.run()

    assert 0 < len(first) < BURST                    # stopped at the page limit...
    newest = max(first, key=lambda i: i.created_at)
    assert newest.external_id == burst[-1]           # ...after storing the newest,
    assert resuming(collector.bookmark)              # and said where to go on from
    rest = settle(collector)

    assert sorted(i.external_id for i in first + rest) == sorted(burst)   # nothing skipped
    assert all(count == 1 for count in collector.handed.values()), collector.handed  # nothing twice
    assert len(collector.bookmarks) >= 3             # it took several runs, each ending with a bookmark
    assert settle(collector) == []                   # finalised to the new top
    later = seed(fake, platform, 2, start=5, tag="later")
    assert sorted(i.external_id for i in settle(collector)) == sorted(later)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_bookmark_keeps_the_old_floor_while_resuming(fake, connect, platform):
    collector, _ = after_first_poll(fake, connect, platform)
    before = json.loads(collector.bookmark)

    collector.run()

    after = json.loads(collector.bookmark)
    for stream, value in after.items():
        if isinstance(value, dict) and "resume" in value:
            # Backwards compatible: a reader that ignores "resume" walks to the old floor again.
            # (What a stream keeps beside its mark, YouTube's reply counts of the threads it read,
            # is not the floor.)
            assert {k: v for k, v in value.items() if k not in ("resume", "reply_counts")} == \
                {k: v for k, v in before[stream].items() if k != "reply_counts"}
            assert value["resume"]["after"] and value["resume"]["top"]["recent"]
        elif isinstance(value, dict) and "until" in value:
            assert value["since"] == before[stream] and int(value["top"]) > int(value["until"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_break_off_while_resuming_keeps_the_resume_point_and_loses_nothing(fake, connect, platform):
    collector, burst = after_first_poll(fake, connect, platform)
    collector.run()
    pending = collector.bookmark
    stored = set(collector.items)
    fake.fail_next(platform, "truncated", after=FIRST_RESUMED_PAGE[platform], on="read")

    with pytest.raises(Exception) as raised:
        collector.run()
    fake.clear_failures()

    assert type(raised.value).__module__ == "connectors.base"
    assert set(collector.items) > stored             # the first resumed page was stored...
    assert collector.bookmark == pending             # ...and the resume point did not move
    settle(collector)
    assert set(burst) <= set(collector.items)
    assert settle(collector) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_resume_point_the_platform_refuses_walks_from_the_newest_again(fake, connect, platform, caplog):
    collector, burst = after_first_poll(fake, connect, platform)
    collector.run()
    marks = json.loads(collector.bookmark)
    for value in marks.values():
        if isinstance(value, dict) and "resume" in value:
            value["resume"]["after"] = {key: REFUSED[platform] for key in value["resume"]["after"]}
        elif isinstance(value, dict) and "until" in value:
            value["until"] = REFUSED[platform]
    collector.bookmark = json.dumps(marks)

    settle(collector)

    assert "from the newest again" in caplog.text
    assert set(burst) <= set(collector.items)        # re-collected, not skipped
    assert settle(collector) == []


@pytest.mark.parametrize("platform", ["facebook", "reddit", "google_reviews", "allegro", "vk", "youtube", "trustpilot"])
def test_brand_replies_inside_the_overlap_window_do_not_stall_the_walk(fake, connect, platform):
    from tests.connectors.conftest import target_of
    collector, burst = after_first_poll(fake, connect, platform)
    settle(collector)
    # The brand answers many of them at once: its replies fill the newest pages.
    for external_id in burst[:8]:
        collector.connector.reply(target_of(collector.items[external_id]), f"Thank you, we are on it ({external_id}).")
    customers = seed(fake, platform, 3, start=2, tag="after the replies")

    new = settle(collector)

    assert sorted(i.external_id for i in new) == sorted(customers)
    assert not any("we are on it" in i.text for i in collector.items.values())
    assert settle(collector) == []
