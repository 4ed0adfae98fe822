"""The outbox page: approved replies the platform refused or the machine could not check, and the
three things a person does with them (send again, record as found, withdraw). Stuck replies are
made by the real posting code against the fake Facebook page; the actions are the service's, so
they write the same audit events as `monitor outbox retry/resolve/cancel`."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from monitor import cli
from monitor.decisions import Actor
from models import Role
from web_helpers import SOURCE, csrf_of, draft_text, events, open_post, post_of, posted

ANNA = Actor(name="anna", role=Role.approver)


def approve(monitor, key: str, text: str | None = None, override: str | None = None) -> int:
    post_id = monitor.seeded[key]
    monitor.approve(post_id, ANNA, text=text or draft_text(monitor, post_id), override_reason=override)
    return post_id


def outbox_id_of(monitor, post_id: int) -> int:
    return monitor.show(post_id).outbox["id"]


def make_failed(monitor, key: str = "damaged", **approval) -> int:
    """Approve a reply, then post it through a Facebook connector whose reply limit is now shorter
    than the text: the real connector refuses it for sure (PostRejected) and the reply is `failed`."""
    post_id = approve(monitor, key, **approval)
    connector = monitor.connector(SOURCE)
    connector.max_reply_length = 20
    try:
        report = monitor.post_approved()
    finally:
        del connector.max_reply_length
    outbox_id = outbox_id_of(monitor, post_id)
    assert report.failed == [outbox_id], vars(report)
    return outbox_id


def make_needs_person(monitor, fake, key: str = "question") -> int:
    """The platform answers the reply with a 502 (it may have been posted: `uncertain`), then the
    check for an earlier reply fails too: a person must look (`needs_person`)."""
    post_id = approve(monitor, key)
    fake.fail_next("facebook", "server_error", on="write")
    report = monitor.post_approved()
    outbox_id = outbox_id_of(monitor, post_id)
    assert report.uncertain == [outbox_id], vars(report)
    fake.fail_next("facebook", "server_error", on="read")
    report = monitor.post_approved()
    assert report.needs_person == [outbox_id], vars(report)
    return outbox_id


def outbox_form(client, outbox_id: int, action: str, **fields):
    token = csrf_of(client.get("/outbox").text)
    return client.post(f"/outbox/{outbox_id}/{action}", data={"csrf_token": token, **fields}, follow_redirects=False)


def state_of(monitor, outbox_id: int) -> str:
    [row] = [row for row in monitor.outbox() if row["id"] == outbox_id]
    return row["state"]


def test_the_outbox_lists_a_failed_reply_with_its_error_and_filters_by_state(client_for, monitor, fake):
    failed = make_failed(monitor)
    sent_post = approve(monitor, "late")
    assert len(monitor.post_approved().sent) == 1
    anna = client_for("anna")
    page = anna.get("/outbox").text
    assert 'href="/outbox" aria-current="page"' in page
    row = re.search(rf'<tr id="reply-{failed}" class="bad stuck">(.*?)</tr>', page, re.S).group(1)
    assert "state-failed" in row and "Facebook allows 20" in row
    assert draft_text(monitor, monitor.seeded["damaged"]) in row
    assert f'id="actions-{failed}"' in page
    sent = outbox_id_of(monitor, sent_post)
    assert f'id="reply-{sent}" class=""' in page and fake.replies("facebook")[0]["id"] in page

    only_failed = anna.get("/outbox?state=failed&state=bogus").text
    assert f'id="reply-{failed}"' in only_failed and f'id="reply-{sent}"' not in only_failed
    only_sent = anna.get("/outbox?state=sent").text
    assert f'id="reply-{failed}"' not in only_sent and f'id="reply-{sent}"' in only_sent


def test_retry_sends_a_failed_reply_again_with_the_clis_audit_event(client_for, monitor, fake, tmp_path, database_url):
    web_reply = make_failed(monitor, "damaged")
    cli_reply = make_failed(monitor, "late")
    anna = client_for("anna")
    response = outbox_form(anna, web_reply, "retry", q="state=failed", checked="1")
    assert response.status_code == 303 and response.headers["location"] == f"/outbox?state=failed#reply-{web_reply}"
    assert state_of(monitor, web_reply) == "pending"
    assert "will be sent again" in anna.get(response.headers["location"]).text

    result = CliRunner().invoke(cli.app, ["--settings", str(tmp_path / "settings.toml"), "--as", "carl",
                                          "outbox", "retry", str(cli_reply)], env={"MONITOR_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    web_event, cli_event = events(monitor, "outbox.retry")
    assert (web_event.actor, web_event.details["outbox_id"]) == ("anna", web_reply)
    assert (cli_event.actor, cli_event.details["outbox_id"]) == ("carl", cli_reply)
    assert web_event.details.keys() == cli_event.details.keys() and web_event.details["was"] == "failed"

    report = monitor.post_approved()
    assert sorted(report.sent) == sorted([web_reply, cli_reply])
    assert post_of(monitor, monitor.seeded["damaged"]).status == "posted"
    assert (fake.seeded["damaged"][1], draft_text(monitor, monitor.seeded["damaged"])) in posted(fake)


def test_resolve_records_the_found_reply_and_never_sends_it(client_for, monitor, fake, tmp_path, database_url):
    web_reply = make_needs_person(monitor, fake, "question")
    cli_reply = make_failed(monitor, "damaged")
    anna = client_for("anna")
    page = anna.get("/outbox?state=needs_person").text
    assert f'id="actions-{web_reply}"' in page and "could not check the platform" in page
    assert outbox_form(anna, web_reply, "resolve", reply_id="  ").status_code == 409
    response = outbox_form(anna, web_reply, "resolve", reply_id="123_456")
    assert response.status_code == 303
    assert state_of(monitor, web_reply) == "sent"
    assert post_of(monitor, monitor.seeded["question"]).status == "posted"

    result = CliRunner().invoke(cli.app, ["--settings", str(tmp_path / "settings.toml"), "--as", "carl", "outbox",
                                          "resolve", str(cli_reply), "--reply-id", "789"],
                                env={"MONITOR_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    web_event, cli_event = events(monitor, "outbox.resolved")
    assert (web_event.actor, web_event.details["reply_id"], web_event.details["was"]) == ("anna", "123_456", "needs_person")
    assert (cli_event.actor, cli_event.details["reply_id"]) == ("carl", "789")
    assert web_event.details.keys() == cli_event.details.keys()
    before = len(fake.replies("facebook"))
    assert monitor.post_approved().sent == []
    assert len(fake.replies("facebook")) == before
    # a settled reply cannot be settled again
    response = outbox_form(anna, web_reply, "retry")
    assert response.status_code == 409 and "is sent" in response.text


def test_cancel_withdraws_the_reply_and_opens_the_post_again(client_for, monitor, tmp_path, database_url):
    web_reply = make_failed(monitor, "damaged")
    cli_reply = make_failed(monitor, "late")
    anna = client_for("anna")
    assert outbox_form(anna, web_reply, "cancel", reason=" ").status_code == 409
    assert state_of(monitor, web_reply) == "failed"
    response = outbox_form(anna, web_reply, "cancel", reason="the customer deleted the comment")
    assert response.status_code == 303
    assert state_of(monitor, web_reply) == "cancelled"
    assert post_of(monitor, monitor.seeded["damaged"]).status == "open"

    result = CliRunner().invoke(cli.app, ["--settings", str(tmp_path / "settings.toml"), "--as", "carl", "outbox",
                                          "cancel", str(cli_reply), "--reason", "answered by phone"],
                                env={"MONITOR_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    web_event, cli_event = events(monitor, "outbox.cancel")
    assert (web_event.actor, web_event.details["reason"]) == ("anna", "the customer deleted the comment")
    assert (cli_event.actor, cli_event.details["reason"]) == ("carl", "answered by phone")
    assert web_event.details.keys() == cli_event.details.keys()
    # the post is back in the queue for a new decision
    assert 'id="approve-button"' in open_post(anna, monitor.seeded["damaged"])


def test_an_agent_sees_the_outbox_but_cannot_settle_a_reply(client_for, monitor):
    failed = make_failed(monitor)
    agent = client_for("olek")
    page = agent.get("/outbox").text
    assert f'id="reply-{failed}"' in page and f'id="actions-{failed}"' not in page
    assert "needs the approver role" in page
    for action, fields in (("retry", {}), ("resolve", {"reply_id": "1"}), ("cancel", {"reason": "no"})):
        response = outbox_form(agent, failed, action, **fields)
        assert response.status_code == 403, action
        assert "olek is agent" in response.text
    assert state_of(monitor, failed) == "failed"
    assert events(monitor, "outbox.retry") == events(monitor, "outbox.resolved") == events(monitor, "outbox.cancel") == []


def test_outbox_posts_without_the_csrf_token_are_refused(client_for, monitor):
    failed = make_failed(monitor)
    anna = client_for("anna")
    for action, fields in (("retry", {}), ("resolve", {"reply_id": "1"}), ("cancel", {"reason": "no"})):
        assert anna.post(f"/outbox/{failed}/{action}", data=fields).status_code == 403
        assert anna.post(f"/outbox/{failed}/{action}", data={"csrf_token": "forged", **fields}).status_code == 403
    assert state_of(monitor, failed) == "failed"
    # and without a session at all: nothing changes either
    assert client_for().post(f"/outbox/{failed}/retry", data={}).status_code in (401, 403)
    assert state_of(monitor, failed) == "failed"
    assert client_for().get("/outbox", follow_redirects=False).status_code == 303


def test_reply_text_is_escaped_on_the_outbox_page(client_for, monitor):
    text = "Sorry! <script>alert('x')</script><img src=x onerror=alert(1)> & we fix it"
    failed = make_failed(monitor, "xss", text=text, override="testing markup")
    page = client_for("anna").get("/outbox").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; we fix it" in page
    assert f'id="reply-{failed}"' in page


def test_the_queue_shows_a_stuck_reply_its_error_and_a_count_of_replies_needing_a_person(client_for, monitor, fake):
    failed = make_failed(monitor, "damaged")
    anna = client_for("anna")
    page = anna.get("/queue").text
    assert 'id="needs-person-banner"' in page and "1 approved reply needs a person" in page
    assert 'href="/outbox?state=failed&amp;state=needs_person"' in page
    detail = anna.get(f"/queue?status=approved&post={monitor.seeded['damaged']}").text
    assert 'id="outbox-state">failed<' in detail and "Facebook allows 20" in detail
    assert "reply failed: the reply has" in detail     # the list row says it too
    link = re.search(r'<a href="([^"]+)" id="outbox-link"', detail).group(1)
    assert link == f"/outbox?state=uncertain&amp;state=failed&amp;state=needs_person#reply-{failed}"
    assert f'id="reply-{failed}"' in anna.get(link.replace("&amp;", "&")).text

    assert outbox_form(anna, failed, "retry").status_code == 303
    assert 'id="needs-person-banner"' not in anna.get("/queue").text


def test_an_uncertain_reply_can_only_be_recorded_as_found(client_for, monitor, fake):
    """`uncertain` is the machine's to check next run; sending it again could post it twice."""
    post_id = approve(monitor, "damaged")
    fake.fail_next("facebook", "lost_response", on="write")   # posted, but the answer never came
    report = monitor.post_approved()
    uncertain = outbox_id_of(monitor, post_id)
    assert report.uncertain == [uncertain], vars(report)
    anna = client_for("anna")
    actions = re.search(rf'<tr class="outbox-actions bad" id="actions-{uncertain}">(.*?)</tr>',
                        anna.get("/outbox").text, re.S).group(1)
    assert "/resolve" in actions and "/retry" not in actions and "/cancel" not in actions
    response = outbox_form(anna, uncertain, "retry")
    assert response.status_code == 409 and "is uncertain" in response.text
    reply_id = fake.replies("facebook")[-1]["id"]
    assert outbox_form(anna, uncertain, "resolve", reply_id=reply_id).status_code == 303
    assert state_of(monitor, uncertain) == "sent" and len(fake.replies("facebook")) == 1
