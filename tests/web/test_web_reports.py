"""Dashboard, decisions CSV, sources and audit log pages on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

from sqlmodel import select

from web_helpers import draft_text, form_post


def test_dashboard_shows_queue_figures_charts_and_breaches(client_for, monitor):
    anna = client_for("anna")
    form_post(anna, monitor.seeded["late"], "approve", text=draft_text(monitor, monitor.seeded["late"]))
    page = anna.get("/dashboard").text
    open_now = len(monitor.queue())
    assert f'id="queue-size">{open_now}<' in page
    assert page.count("<svg") >= 2 and "<polyline" in page and "<rect" in page
    assert "legal threat" in page                                   # flagged per day by main reason, in words
    assert 'id="breaches"' in page                                  # seeded posts waited past their due time
    assert f'href="/queue?post={monitor.seeded["formula"]}"' in page  # the oldest waiting post


def test_decisions_csv_export_is_complete_and_spreadsheet_safe(client_for, monitor):
    anna = client_for("anna")
    form_post(anna, monitor.seeded["formula"], "approve", text="=SUM(A1) thanks, checking your order")
    form_post(anna, monitor.seeded["praise"], "reject", reason="no answer needed")
    response = anna.get("/decisions.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["action"] for r in rows] == ["approve", "reject"]
    assert rows[0]["final_text"] == "'=SUM(A1) thanks, checking your order"
    assert rows[0]["author"].startswith("'=HYPERLINK")
    assert rows[1]["reason"] == "no answer needed" and rows[1]["actor"] == "anna"
    assert anna.get("/decisions.csv?since=2000-01-01&until=2000-01-02").text.count("\n") == 1


def test_sources_page_shows_health(client_for, monitor):
    from models import Source, utcnow
    from datetime import timedelta
    with monitor.db.session() as session:
        source = session.exec(select(Source)).one()
        source.last_poll_at = utcnow()
        source.last_error = "token expired <b>now</b>"
        source.needs_reauth = True
        source.rate_limited_until = utcnow() + timedelta(minutes=15)
        session.add(source)
    page = client_for("olek").get("/sources").text
    assert "shop-facebook" in page and "needs re-authorisation" in page
    assert "token expired &lt;b&gt;now&lt;/b&gt;" in page


def test_sources_page_counts_quarantine_and_names_a_failing_stream(client_for, monitor):
    from connectors.base import Unreadable
    from models import Source, SourceStream
    from monitor import quarantine
    with monitor.db.session() as session:
        source = session.exec(select(Source)).one()
        quarantine.hold(session, source, "comments", [Unreadable("no <i>created_time</i>", {"id": "1"}, "1"),
                                                      Unreadable("no created_time", {"id": "2"}, "2")])
        stream = session.exec(select(SourceStream).where(SourceStream.stream == "comments")).first() \
            or SourceStream(source_id=source.id, stream="comments")
        stream.last_error, stream.error_count = "graph said <b>no</b>", 2
        session.add(stream)
    page = client_for("olek").get("/sources").text
    assert "2 unreadable" in page and "stream failing: comments" in page
    assert "comments: graph said &lt;b&gt;no&lt;/b&gt;" in page


def test_audit_log_filters_by_actor_action_post_and_date(client_for, monitor):
    anna, bob = client_for("anna"), client_for("bob")
    form_post(anna, monitor.seeded["praise"], "reject", reason="fine as is")
    form_post(bob, monitor.seeded["question"], "escalate", to="logistics")

    def table(query: str) -> str:
        page = anna.get("/audit?" + query).text
        return page[page.index('id="audit"'):page.index("</table>")]

    assert "decision.escalate" in table("actor=bob") and "decision.reject" not in table("actor=bob")
    both = table("action=decision.")
    assert "decision.escalate" in both and "decision.reject" in both and "user.add" not in both
    one = table(f"post_id={monitor.seeded['praise']}")
    assert "decision.reject" in one and "decision.escalate" not in one
    assert "No events match" in table("date_from=2000-01-01&date_to=2000-01-02")
    assert "decision.reject" in table("date_from=2000-01-01")
    page = anna.get("/audit?date_from=yesterday&post_id=abc").text
    assert "Ignored what could not be read" in page
