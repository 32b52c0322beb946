"""The review page in a real Chromium against the real service process.

A reviewer signs in, filters and pages the queue, opens a laundering case, judges its steps,
submits a correction, and the review shows up through the API and in the audit trail. The
failure paths are real too: a key without the review scope, a key revoked mid-review, a case
reviewed meanwhile by someone else, and the server going down under a half-written review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e import conftest as e2e
from tests.e2e.review_support import (
    INSTALL_HINT,
    SCREENSHOTS,
    cli_key,
    launch,
    seed_chains,
)
from tests.service.api_support import bundle_records

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # make test installs it; a missing one must fail loudly, not skip
    sync_playwright = None

TIMEOUT = httpx.Timeout(120.0)
NO_SCOPE = "This key cannot review cases: it lacks the review scope"


@dataclass
class Review:
    """The running service, its keys and the cases the seed chains opened."""

    server: e2e.Server
    reviewer_id: str
    reviewer: str
    validator: str
    cases: dict[str, str]  # chain id -> case id

    def api(self, scope: str) -> httpx.Client:
        """An API client authenticated with a key holding `scope`."""
        return httpx.Client(
            base_url=self.server.url, headers=self.server.auth(scope), timeout=TIMEOUT
        )

    def case(self, case_id: str) -> dict:
        """The case as GET /v1/cases/{id} returns it."""
        with self.api("review") as client:
            r = client.get(f"/v1/cases/{case_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def open_case_ids(self, **filters: Any) -> list[str]:
        """Ids of the open cases matching `filters`, newest first."""
        with self.api("review") as client:
            r = client.get("/v1/cases", params={"status": "open", "limit": 500, **filters})
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["cases"]]


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Review]:
    """The service on SQLite with real GSM8K-derived and domain chains posted to it."""
    tmp = tmp_path_factory.mktemp("review")
    server = e2e.Server(database_url=f"sqlite:///{tmp / 'faithgate.db'}", data_dir=tmp / "data")
    server.start()
    try:
        reviewer_id, reviewer = cli_key(server, "clinician", "review")
        _, validator = cli_key(server, "app", "validate")
        chains = seed_chains()
        r = httpx.post(
            f"{server.url}/v1/validate/batch",
            json={"chains": chains},
            headers={"Authorization": f"Bearer {validator}"},
            timeout=TIMEOUT,
        )
        assert r.status_code == 200, r.text
        cases = {
            c["id"]: rec["case_id"]
            for c, rec in zip(chains, r.json()["records"], strict=True)
            if rec["case_id"]
        }
        yield Review(server, reviewer_id, reviewer, validator, cases)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the whole module."""
    if sync_playwright is None:
        pytest.fail(f"the playwright package is not installed: {INSTALL_HINT}", pytrace=False)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, review: Review) -> Iterator[Any]:
    """A fresh tab (its own sessionStorage) at 1280x800; fails on script errors or CSP refusals."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=review.server.url
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield tab
    context.close()
    assert errors == [], f"errors on the page: {errors}"


def sign_in(page: Any, key: str, path: str = "/review") -> None:
    """Open `path` and sign in with `key` through the form."""
    page.goto(path)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def draft_of(page: Any, case_id: str) -> dict | None:
    """The draft the page keeps in sessionStorage for a case."""
    raw = page.evaluate("id => sessionStorage.getItem('faithgate.review.draft.' + id)", case_id)
    return None if raw is None else json.loads(raw)


def no_horizontal_overflow(page: Any) -> bool:
    """True when nothing on the page is wider than the viewport."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# --- sign-in ----------------------------------------------------------------------------------
def test_a_key_without_the_review_scope_is_refused(page, review: Review) -> None:
    sign_in(page, review.validator)
    expect(page.locator("#signin-error")).to_contain_text(NO_SCOPE)
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('faithgate.review.key')") is None
    page.get_by_label("API key").fill("fg_not_a_real_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("not accepted")
    expect(page.locator("#app")).to_be_hidden()


# --- the queue --------------------------------------------------------------------------------
def test_sign_in_filter_and_page_the_queue(page, review: Review) -> None:
    sign_in(page, review.reviewer)
    expect(page.locator("#who")).to_have_text("Signed in as clinician")
    total = len(review.open_case_ids())
    expect(page.locator("#counts")).to_have_text(f"Cases 1–{total} of {total}")
    expect(page.locator("#backlog")).to_have_text(f"Backlog: {total} open")
    expect(page.locator("#queue-rows tr")).to_have_count(total)
    assert page.evaluate("sessionStorage.getItem('faithgate.review.key')") == review.reviewer
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "review-queue.png")

    # Filters go through the URL (shareable) and reach the API.
    page.get_by_label("Laundering").select_option("yes")
    page.get_by_label("Domain").fill("math")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"laundering=yes.*domain=math|domain=math.*laundering=yes"))
    laundering_math = review.open_case_ids(laundering="true", domain="math")
    assert 0 < len(laundering_math) < total
    expect(page.locator("#queue-rows tr")).to_have_count(len(laundering_math))
    rows = page.locator("#queue-rows tr")
    assert [rows.nth(i).get_attribute("data-case-id") for i in range(rows.count())] == (
        laundering_math
    )
    expect(page.get_by_label("Laundering")).to_have_value("yes")  # the form echoes the URL
    page.goto("/review?domain=medical&status=all")
    expect(page.locator("#queue-rows tr")).to_have_count(1)
    expect(page.locator("#queue-rows")).to_contain_text("type 2 diabetes")
    page.goto("/review?model=qwen2.5-0.5b&adapter=clinic-v2&status=all")
    expect(page.locator("#queue-rows tr")).to_have_count(1)
    page.goto("/review?since=2000-01-01&until=2000-12-31")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#backlog")).to_have_text("Backlog: 0 open")

    # Paging: five a page, newest first; the next page continues where the first stopped.
    page.goto("/review?limit=5")
    expect(page.locator("#counts")).to_have_text(f"Cases 1–5 of {total}")
    page.get_by_role("link", name="Older cases").click()
    expect(page.locator("#counts")).to_have_text(f"Cases 6–10 of {total}")
    rows = page.locator("#queue-rows tr")
    assert rows.first.get_attribute("data-case-id") == review.open_case_ids()[5]

    # Keyboard: j/k move the selection, letters do nothing while typing, o opens.
    page.goto("/review")
    expect(page.locator("#queue-rows tr.selected")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    second = page.locator("#queue-rows tr").nth(1).get_attribute("data-case-id")
    expect(page.locator("#queue-rows tr.selected")).to_have_attribute("data-case-id", second)
    page.get_by_label("Model").fill("jj")
    expect(page.locator("#queue-rows tr.selected")).to_have_attribute("data-case-id", second)
    page.locator("#queue-rows tr.selected a").focus()
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/cases/{second}")
    page.keyboard.press("u")  # back to the queue; Enter opens the row that has the focus
    page.wait_for_url("**/review")
    third = page.locator("#queue-rows tr").nth(2)
    third_id = third.get_attribute("data-case-id")
    third.locator("a").focus()
    expect(third).to_have_class(re.compile("selected"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/cases/{third_id}")


# --- judging a laundering case ----------------------------------------------------------------
def test_review_a_laundering_case_end_to_end(page, review: Review) -> None:
    natalia = review.cases["gsm8k-0-res"]
    sign_in(page, review.reviewer, "/review?domain=math")
    page.locator(f"#queue-rows tr[data-case-id='{natalia}'] a").click()
    page.wait_for_url(re.compile(rf"/review/cases/{natalia}\?domain=math$"))

    # What faithgate found: statuses in words, evidence beside its step, both answers, why.
    steps = page.locator("#steps > li")
    expect(steps).to_have_count(2)
    expect(steps.nth(0).locator(".step-head")).to_contain_text("verified")
    expect(steps.nth(1).locator(".step-head")).to_contain_text("error")
    expect(steps.nth(1).locator(".evidence")).to_contain_text(re.compile(r"= 720 — computes to 72"))
    expect(page.locator("#stated")).to_have_text("72")
    expect(page.locator("#derived")).to_have_text("720")
    expect(page.locator("#laundering-badge")).to_contain_text("laundering")
    expect(page.locator("#laundering-reasons")).to_contain_text("72")
    expect(page.locator("#question")).to_contain_text("Natalia sold clips")
    original = page.get_by_label("Corrected reasoning").input_value()
    assert original.splitlines()[-1] == "#### 72" and "720" in original

    # The judgement: agree with step 2's error, disagree with step 1, fix the reasoning.
    step1 = page.get_by_role("group", name="Your judgement of step 1")
    step2 = page.get_by_role("group", name="Your judgement of step 2")
    step2.get_by_role("radio", name=re.compile("^Agree")).check()
    step1.get_by_label("Disagree").check()
    step1.get_by_label("It is").select_option("unchecked")
    page.get_by_label("unfaithful").check()
    page.get_by_role("group", name="Is the answer laundered").get_by_label("yes").check()
    page.get_by_label("Corrected reasoning").fill(original.replace("720", "72"))
    page.get_by_label("Comment").fill("The sum is 72; the stated 72 was pasted over 720.")
    page.screenshot(path=SCREENSHOTS / "review-case.png", full_page=True)
    assert draft_of(page, natalia)["comment"].startswith("The sum is 72")

    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: natalia not in url and "/review/cases/" in url)
    expect(page.locator("#status")).to_have_text(f"Your review of case {natalia} was saved.")
    assert draft_of(page, natalia) is None

    case = review.case(natalia)
    assert case["status"] == "reviewed"
    [got] = case["reviews"]
    assert got["verdict"] == "unfaithful" and got["laundering"] is True
    assert got["step_judgements"] == [
        {"index": 0, "agree": False, "status": "unchecked"},
        {"index": 1, "agree": True},
    ]
    assert got["wrong_steps"] == [1]
    assert got["corrected_reasoning"][-2:] == [
        original.splitlines()[-2].replace("720", "72"),
        "#### 72",
    ]
    assert got["comment"] == "The sum is 72; the stated 72 was pasted over 720."
    assert got["key_id"] == review.reviewer_id

    with review.api("audit:read") as client:
        bundle = client.get("/v1/audit/export")
    assert bundle.status_code == 200
    reviewed = [r for r in bundle_records(bundle.content) if r["event"] == "case.reviewed"]
    audited = [r for r in reviewed if json.loads(r["payload"])["data"]["case_id"] == natalia]
    assert len(audited) == 1 and audited[0]["key_id"] == review.reviewer_id
    assert json.loads(audited[0]["payload"])["data"]["review"]["comment"] == got["comment"]


def test_case_text_is_shown_as_text_never_run(page, review: Review) -> None:
    hostile = review.cases["hostile"]
    sign_in(page, review.reviewer, f"/review/cases/{hostile}")
    expect(page.locator("#question")).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(page.locator("#question img, #question script")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    response = page.request.get(f"/review/cases/{hostile}")
    assert "script-src 'self'" in response.headers["content-security-policy"]


# --- failure paths ----------------------------------------------------------------------------
def _start_review(page: Any, comment: str) -> None:
    page.get_by_label("unfaithful").check()
    page.get_by_label("Comment").fill(comment)


def test_a_case_reviewed_meanwhile_is_a_plain_conflict_and_the_draft_stays(
    page, review: Review
) -> None:
    case_id = review.cases["pizza"]
    sign_in(page, review.reviewer, f"/review/cases/{case_id}?domain=medical")
    expect(page.locator("#steps > li")).to_have_count(1)
    _start_review(page, "The reason given is not a reason.")
    with review.api("review") as client:  # someone else, through the API
        r = client.post(f"/v1/cases/{case_id}/review", json={"verdict": "faithful"})
    assert r.status_code == 200
    page.get_by_role("button", name="Submit review").click()
    expect(page.locator("#alert")).to_contain_text("reviewed by someone else meanwhile")
    expect(page.get_by_label("Comment")).to_have_value("The reason given is not a reason.")
    expect(page.get_by_label("unfaithful")).to_be_checked()
    assert page.url.endswith(f"/review/cases/{case_id}?domain=medical")

    # Reloading shows their review and keeps ours; submitting now overturns theirs on purpose.
    page.get_by_role("button", name="Reload the case").click()
    expect(page.locator("#reviews li")).to_have_count(1)
    expect(page.get_by_label("Comment")).to_have_value("The reason given is not a reason.")
    page.get_by_role("button", name="Submit review").click()
    page.wait_for_url(lambda url: case_id not in url)
    assert [r["verdict"] for r in review.case(case_id)["reviews"]] == ["faithful", "unfaithful"]


def test_a_key_revoked_mid_review_goes_back_to_sign_in_with_the_draft(page, review: Review) -> None:
    temp_id, temp = cli_key(review.server, "temp-reviewer", "review")
    case_id = review.cases["dti"]
    sign_in(page, temp, f"/review/cases/{case_id}")
    expect(page.locator("#steps > li")).to_have_count(1)
    _start_review(page, "DTI 47 % is above the 43 % limit.")
    with review.api("admin") as client:
        assert client.delete(f"/v1/keys/{temp_id}").status_code == 204
    page.get_by_role("button", name="Submit review").click()
    expect(page.locator("#signin-error")).to_contain_text("no longer accepted")
    expect(page.get_by_label("API key")).to_be_focused()
    expect(page.get_by_label("Comment")).to_have_value("DTI 47 % is above the 43 % limit.")
    assert draft_of(page, case_id)["comment"] == "DTI 47 % is above the 43 % limit."

    page.get_by_label("API key").fill(review.reviewer)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#status")).to_contain_text("Signed in again")
    page.get_by_role("button", name="Submit review").click()
    page.wait_for_url(lambda url: case_id not in url)
    [got] = review.case(case_id)["reviews"]
    assert got["key_id"] == review.reviewer_id and got["comment"].startswith("DTI 47 %")


def test_the_page_fits_at_200_percent_zoom(browser, review: Review) -> None:
    # 200 % zoom of a 1280x800 screen: a 640x400 CSS viewport at device scale 2.
    context = browser.new_context(
        viewport={"width": 640, "height": 400},
        device_scale_factor=2,
        base_url=review.server.url,
    )
    page = context.new_page()
    try:
        sign_in(page, review.reviewer)
        expect(page.locator("#queue-rows tr").first).to_be_visible()
        assert no_horizontal_overflow(page)
        page.locator("#queue-rows tr a").first.click()
        expect(page.locator("#steps > li").first).to_be_visible()
        assert no_horizontal_overflow(page)
        # Every form control has a label a screen reader can read.
        unlabelled = page.evaluate(
            """Array.from(document.querySelectorAll('input, select, textarea'))
                 .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length))
                 .map(e => e.name || e.id)"""
        )
        assert unlabelled == []
        # Keyboard focus is visible: tabbing lands on controls that draw an outline.
        for _ in range(4):
            page.keyboard.press("Tab")
            outline = page.evaluate(
                """(() => { const s = getComputedStyle(document.activeElement);
                           return [document.activeElement.tagName, s.outlineStyle,
                                   parseFloat(s.outlineWidth)]; })()"""
            )
            assert outline[0] != "BODY" and outline[1] != "none" and outline[2] >= 2, outline
    finally:
        context.close()


def test_a_submit_while_the_server_is_down_keeps_the_review(
    page, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = review.cases["gsm8k-2-ans"]
    sign_in(page, review.reviewer, f"/review/cases/{case_id}")
    expect(page.locator("#steps > li").first).to_be_visible()
    _start_review(page, "Written while the server was down.")
    port = review.server.port
    review.server.stop()
    try:
        page.get_by_role("button", name="Submit review").click()
        expect(page.locator("#alert")).to_have_text(
            "The server could not be reached; your review is kept, try again."
        )
        expect(page.get_by_label("Comment")).to_have_value("Written while the server was down.")
        expect(page.get_by_label("unfaithful")).to_be_checked()
        assert draft_of(page, case_id)["comment"] == "Written while the server was down."
    finally:
        # The same port again, so that the open tab (its origin) reaches the new process.
        monkeypatch.setattr(e2e, "free_port", lambda: port)
        review.server.start()
    page.get_by_role("button", name="Submit review").click()
    page.wait_for_url(lambda url: case_id not in url)
    assert review.case(case_id)["reviews"][0]["comment"] == "Written while the server was down."
