"""The admin page that erases one person's data calls the same service as `monitor forget`:
admins only, confirmed, CSRF-protected, audited; the person's posts leave the queue."""
from __future__ import annotations

from web_helpers import csrf_of, post_of


def test_an_admin_erases_a_person_from_the_web(client_for, monitor):
    post_id = monitor.seeded["legal"]
    author = post_of(monitor, post_id).author_handle
    assert client_for("anna").get("/privacy").status_code == 403        # approvers cannot
    admin = client_for("root")
    page = admin.get("/privacy").text
    token = csrf_of(page)
    unconfirmed = admin.post("/privacy/forget", data={"csrf_token": token, "platform": "facebook", "author": author},
                             follow_redirects=True)
    assert "Nothing erased" in unconfirmed.text and post_of(monitor, post_id).text
    assert admin.post("/privacy/forget", data={"platform": "facebook", "author": author, "confirm": "erase"}
                      ).status_code == 403                               # no CSRF token, no erasure
    done = admin.post("/privacy/forget", data={"csrf_token": token, "platform": "facebook", "author": author,
                                               "confirm": "erase"}, follow_redirects=True)
    assert done.status_code == 200 and "Erased 1 post(s)" in done.text
    erased = post_of(monitor, post_id)
    assert erased.text == "" and erased.author_handle == "[erased]" and erased.status == "erased"
    assert author not in admin.get("/queue?status=all").text and author not in done.text
    assert "root" in done.text.split('id="erasures"')[1]                  # listed: who, when, how many
