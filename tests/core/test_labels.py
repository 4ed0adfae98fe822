"""The shop's word on the flag: explicit labels, decisions that say the same, the posts the flag is
least sure about, and the table matching its migration."""
from __future__ import annotations

import pytest
from sqlmodel import select

from models import AuditEvent, Post
from monitor.decisions import Actor
from monitor.errors import Conflict, NotFound
from tests.core.support import item

ME = Actor("anna")


def ids(monitor) -> dict[str, int]:
    with monitor.db.session() as session:
        return {p.external_id: p.id for p in session.exec(select(Post))}


def test_labels_and_decisions_become_evidence(monitor, platform):
    platform.items = [item(1, "I am angry, parcel lost"), item(2, "where is my refund"), item(3, "buy cheap pills"),
                      item(4, "I am angry but it is a joke"), item(5, "thanks, all good")]
    monitor.poll()
    monitor.process()
    post = ids(monitor)
    monitor.label(post["p4"], "wrong_flag", ME, note="joking")
    monitor.reject(post["p3"], ME, "spam")                               # a decision that says: no complaint
    monitor.approve(post["p2"], ME, text="We are checking your refund.")  # answered, though not flagged
    monitor.label(post["p1"], "complaint", ME)
    labelled = {p.post_id: p for p in monitor.labelled_posts()}
    assert set(labelled) == {post["p1"], post["p2"], post["p3"], post["p4"]}
    assert (labelled[post["p4"]].should_flag, labelled[post["p4"]].flagged) == (False, True)
    assert (labelled[post["p3"]].should_flag, labelled[post["p3"]].source) == (False, "decision")
    assert (labelled[post["p2"]].should_flag, labelled[post["p2"]].kind) == (True, "approved unflagged post")
    monitor.label(post["p2"], "not_complaint", ME)                       # an explicit label wins over a decision
    assert {p.post_id: p.should_flag for p in monitor.labelled_posts()}[post["p2"]] is False
    with monitor.db.session() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "label")).all()


def test_bad_labels_are_refused(monitor, platform):
    platform.items = [item(1, "hello")]
    monitor.poll()
    monitor.process()
    with pytest.raises(Conflict, match="unknown label"):
        monitor.label(ids(monitor)["p1"], "meh", ME)
    with pytest.raises(NotFound):
        monitor.label(999, "missed", ME)


def test_uncertain_posts_are_those_nearest_the_threshold_and_unlabelled(monitor, platform):
    platform.items = [item(1, "I am angry"), item(2, "hello"), item(3, "fine")]
    monitor.poll()
    monitor.process()
    post = ids(monitor)
    with monitor.db.session() as session:
        for external_id, severity in (("p1", 0.9), ("p2", 0.47), ("p3", 0.05)):
            row = session.get(Post, post[external_id])
            row.severity = severity
            session.add(row)
    assert [p.id for p in monitor.uncertain_posts(2)] == [post["p2"], post["p1"]]
    monitor.label(post["p2"], "not_complaint", ME)
    assert post["p2"] not in [p.id for p in monitor.uncertain_posts(5)]


def test_label_table_matches_its_migration(monitor):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with monitor.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert not [d for d in diff if "flaglabel" in repr(d)]
