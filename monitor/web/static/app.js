// Reply monitor: keyboard shortcuts for the queue screen. No inline scripts anywhere
// (the Content-Security-Policy forbids them); everything works without this file too.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function say(message) {
    var status = $("key-status");
    if (!status) { return; }
    status.textContent = message;
    window.clearTimeout(say.timer);
    say.timer = window.setTimeout(function () { status.textContent = ""; }, 2500);
  }

  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#queue-items a[data-post]"));
    if (!links.length) { return; }
    var at = links.findIndex(function (a) { return a.parentElement.classList.contains("selected"); });
    var target = at < 0 ? links[0] : links[at + step];
    if (target) { window.location.assign(target.href); } else { say(step > 0 ? "last post" : "first post"); }
  }

  function focusField(id, label) {
    var field = $(id);
    if (!field) { say(label); return; }
    field.focus();
    if (field.setSelectionRange && field.value !== undefined && field.tagName === "TEXTAREA") {
      field.setSelectionRange(field.value.length, field.value.length);
    }
  }

  function submitWith(buttonId, missing) {
    var button = $(buttonId);
    if (!button) { say(missing); return; }
    if (button.form.requestSubmit) { button.form.requestSubmit(button); } else { button.click(); }
  }

  // The selected post stays in view in a long list (j/k move the selection).
  var selected = document.querySelector("#queue-items .item.selected");
  if (selected && selected.scrollIntoView) { selected.scrollIntoView({ block: "nearest" }); }

  // Live length and safety check while a reply is edited: the server runs the same check as
  // approval (POST /posts/ID/check); nothing here decides anything.
  var editor = $("reply-text");
  var counter = $("char-count");
  var live = $("live-findings");
  var csrf = document.querySelector("#approve-form input[name=csrf_token]");
  function render(result) {
    if (counter) {
      counter.textContent = result.limit
        ? result.length + " / " + result.limit + (result.weighted ? " (X counts links as 23, emoji as 2)" : " characters")
        : result.length + " characters";
      counter.classList.toggle("over", !!result.limit && result.length > result.limit);
    }
    var override = $("override-box");
    if (override && !override.dataset.required) {
      // the reason field appears as soon as the check would stop the reply (and goes when it would not)
      override.hidden = !result.blocking;
    }
    if (!live) { return; }
    live.textContent = "";
    if (!result.findings.length) {
      var ok = document.createElement("p");
      ok.className = "ok small";
      ok.textContent = result.length ? "The safety check found nothing to worry about." : "";
      live.appendChild(ok);
      return;
    }
    var list = document.createElement("ul");
    list.className = "findings";
    list.id = "findings";
    result.findings.forEach(function (finding) {
      var item = document.createElement("li");
      item.className = "finding finding-" + (finding.severity || "block");
      item.textContent = finding.reason + (finding.evidence ? " \u201c" + finding.evidence + "\u201d" : "");
      list.appendChild(item);
    });
    live.appendChild(list);
  }
  function check() {
    if (!editor || !csrf) { return; }
    var body = new URLSearchParams();
    body.set("text", editor.value);
    body.set(csrf.name, csrf.value);
    window.fetch(editor.dataset.check, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result) { render(result); } })
      .catch(function () { /* offline: the check still runs when the form is sent */ });
  }
  if (editor && editor.dataset.check) {
    editor.addEventListener("input", function () {
      window.clearTimeout(check.timer);
      check.timer = window.setTimeout(check, 300);
    });
    check();
  }

  document.addEventListener("submit", function (event) {
    // One click, one decision: a double press must not send the form twice.
    var form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });

  document.addEventListener("keydown", function (event) {
    if (!document.body.classList.contains("queue-page")) { return; }
    var target = event.target;
    var typing = target && target.closest && target.closest("input, textarea, select");
    if (typing) {
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
        var primary = target.form.querySelector("[data-primary]") || target.form.querySelector("button[type=submit]");
        event.preventDefault();
        if (primary) { target.form.requestSubmit(primary); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": submitWith("approve-button", "approving needs the approver role"); break;
      case "e": focusField("reply-text", "nothing to edit here"); break;
      case "r": focusField("reject-reason", "rejecting needs the approver role"); break;
      case "x": focusField("escalate-reason", "nothing to escalate here"); break;
      case "/": focusField("search-q", "no search here"); break;
      case "?":
        var help = $("keys-help");
        if (help) { help.hidden = !help.hidden; }
        break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
})();
