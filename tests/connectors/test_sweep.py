"""More page posts / media within `lookback_days` than `page_size x max_pages`: the runs sweep on
through the listing from where the last one stopped, so the new comments under every one of them
(and Facebook visitor posts further down the feed) are collected, none twice, and a break-off
half-way through the sweep loses nothing."""
from __future__ import annotations

import json

import pytest

from monitor.fakes.state import Item, utc
from tests.connectors.test_resume import CountingCollector, resuming, settle

MAX_PAGES = 2     # with the fake's two items per page: four posts / media per run
CONTAINERS = 11   # three runs' worth and more


def containers(fake, platform: str, count: int = CONTAINERS) -> list[str]:
    """Page posts (visitor posts, collected themselves) or media, hours apart, the newest last."""
    ids = []
    for n in range(count):
        minutes_ago = 3000 - 60 * n
        if platform == "facebook":
            ids.append(fake.add_post("facebook", f"Visitor post {n} about DemoShop", kind="mention",
                                     author=f"visitor{n}", minutes_ago=minutes_ago))
            continue
        state = fake.state
        with state.lock:
            media_id = str(18000000000000000 + state.next_number())
            state.add(Item(id=media_id, platform="instagram", kind="ig_media", text=f"Media {n}",
                           author=state.brand.instagram_username, author_id=state.brand.instagram_user_id,
                           created=utc(minutes_ago), root=media_id, by_brand=True))
        ids.append(media_id)
    return ids


def comment_on_each(fake, platform: str, parents: list[str], start: float, tag: str) -> list[str]:
    """One new comment under each, a minute apart, oldest parent first (the newest comment lands
    on the newest post, as when people answer the latest news)."""
    return [fake.add_post(platform, f"@DemoShop {tag} {n}: where is my parcel?", kind="comment",
                          author=f"customer{n}", parent=parent, minutes_ago=start - n)
            for n, parent in enumerate(parents)]


def swept(fake, connect, platform):
    parents = containers(fake, platform)
    collector = CountingCollector(connect(platform, max_pages=MAX_PAGES))
    settle(collector)                                 # the first sweep reads every post once
    collector.handed.clear()
    return collector, parents


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_the_first_sweep_collects_visitor_posts_beyond_the_page_limit(fake, connect, platform, caplog):
    parents = containers(fake, platform)
    collector = CountingCollector(connect(platform, max_pages=MAX_PAGES))

    collector.run()

    assert resuming(collector.bookmark)
    assert "listing within the look-back window" in caplog.text       # the cap is logged
    settle(collector)
    if platform == "facebook":
        assert set(parents) <= set(collector.items)
        assert all(collector.handed[p] == 1 for p in parents)


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_new_comments_under_more_posts_than_one_run_reads_are_all_collected(fake, connect, platform):
    collector, parents = swept(fake, connect, platform)
    comments = comment_on_each(fake, platform, parents, start=30, tag="burst")

    first = collector.run()

    assert 0 < len(first) < CONTAINERS and resuming(collector.bookmark)
    rest = settle(collector)
    assert sorted(i.external_id for i in first + rest) == sorted(comments)    # nothing skipped
    assert all(collector.handed[c] == 1 for c in comments), collector.handed  # nothing twice
    assert len(collector.bookmarks) >= 3
    assert settle(collector) == []                                            # finalised
    # Afterwards a new comment under the oldest post is found like any other.
    later = comment_on_each(fake, platform, parents[:1], start=5, tag="later")
    assert [i.external_id for i in settle(collector)] == later


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_break_off_during_the_resumed_sweep_loses_nothing(fake, connect, platform):
    collector, parents = swept(fake, connect, platform)
    comments = comment_on_each(fake, platform, parents, start=30, tag="burst")
    collector.run()
    pending, stored = collector.bookmark, set(collector.items)
    # Two listing pages and the first post's comments pass; the next post's comments break off.
    fake.fail_next(platform, "truncated", after=3, on="read")

    with pytest.raises(Exception) as raised:
        collector.run()
    fake.clear_failures()

    assert type(raised.value).__module__ == "connectors.base"
    assert set(collector.items) > stored               # what was read before is stored...
    assert collector.bookmark == pending               # ...and the bookmark did not move
    settle(collector)
    assert set(comments) <= set(collector.items)
    assert settle(collector) == []


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_a_refused_listing_cursor_sweeps_from_the_newest_again(fake, connect, platform, caplog):
    collector, parents = swept(fake, connect, platform)
    comments = comment_on_each(fake, platform, parents, start=30, tag="burst")
    collector.run()
    marks = json.loads(collector.bookmark)
    assert marks["comments"]["resume"]["outer"]
    marks["comments"]["resume"]["outer"] = "bogus"
    collector.bookmark = json.dumps(marks)

    settle(collector)

    assert "listing (" in caplog.text and "from the newest again" in caplog.text
    assert set(comments) <= set(collector.items)
    assert settle(collector) == []


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_a_bookmark_stored_before_sweeping_existed_is_read(fake, connect, platform):
    collector, parents = swept(fake, connect, platform)
    marks = json.loads(collector.bookmark)
    assert not resuming(collector.bookmark) and "outer" not in json.dumps(marks)   # plain floors
    comments = comment_on_each(fake, platform, parents, start=30, tag="burst")

    settle(collector)

    assert set(comments) <= set(collector.items)


def test_comments_of_media_resumed_from_an_earlier_poll_keep_their_link(fake, connect):
    collector, parents = swept(fake, connect, "instagram")
    # The newest media gets more comments than one run reads: its walk resumes in a later run,
    # while that run sweeps on further down the media list, where the media is not listed.
    comments = comment_on_each(fake, "instagram", [parents[-1]] * (2 * MAX_PAGES + 3), start=40, tag="flood")
    comments += comment_on_each(fake, "instagram", parents, start=30, tag="burst")

    items = collector.run() + settle(collector)

    assert sorted(i.external_id for i in items) == sorted(comments)
    links = {i.external_id: i.url for i in items}
    assert all(url and url.startswith("https://www.instagram.com/p/") for url in links.values()), links
