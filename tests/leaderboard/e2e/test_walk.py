"""The walk: ``make run``'s platform in one Chromium, as a visitor, a student and a teacher.

The dev server runs as ``make run`` runs it (its web server and its real Celery worker, SQLite
and the filesystem queue under a var directory of its own), without the baselines.

- A visitor: home, the ImageNet story, challenge (with its starting kit), leaderboard, charts,
  robustness board, a baseline's submission page where the board has baselines, the export
  help, the API docs and the login page; and the board's notice while a baseline trains (from
  a training record in the platform's var directory), gone once the record is.
- A student: signs up, creates a team, checks a small CNN for free, uploads it, and watches the
  submission page turn to "scored" by itself; the leaderboard row links to that page and shows
  the errors as the submission page does, as percentages with two decimals.
- A teacher: logs in with the account the banner prints, creates a titled edition of the demo
  challenge and reaches its host page (and the pages it links to: settings, people...); the
  title names the edition in the home page's pills, the headings and the breadcrumbs.

Every page visited is checked with axe-core's WCAG 2.0 and 2.1 A and AA rules, tabbed through
(each control it reaches shows a focus ring; the first is "Skip to content", which moves the
focus to the main content), and photographed whole under var/walk/ (CI keeps them). Any
violation fails the test, which prints the rule, the page and the element.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from django.test import override_settings
from torch import nn

from leaderboard.baseline_progress import progress_clear, progress_update

from .accessibility import describe, violations
from .make_run import Platform, make_run

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "var" / "walk"
CHROMIUM = Path("/usr/bin/chromium")
PERCENT = re.compile(r"\d{1,3}\.\d{2}%")
DASH = "\N{EN DASH}"  # an empty cell
TAB_STOPS = 40  # per page: the header, the skip link and well into the content
SCORED_TIMEOUT_MS = 150_000
# Widgets that are not our markup; the rest of their page is checked.
THIRD_PARTY = {
    "#swagger-ui": "Swagger UI's own widget (drf-spectacular-sidecar), drawn by its script: "
    "its nested controls and colours are the library's; the page around it (its language, "
    "title and landmark) is ours and checked",
}
EDITION_TITLE = "Deep learning, spring term"
# Each status the submission page shows in place goes to sessionStorage, which outlives a page
# load: the test tells a page that updated itself from one that was loaded again.
STATUS_WATCH = """
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("submission-status");
  if (!box) return;
  new MutationObserver(() => {
    sessionStorage.setItem("walk-status " + location.pathname, box.dataset.status);
  }).observe(box, { attributes: true, attributeFilter: ["data-status"] });
});
"""
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow !== "none";
  const name = (e.getAttribute("aria-label") || e.innerText || e.value || "").trim();
  const again = window.walkSeen.has(e);
  window.walkSeen.add(e);
  return {
    ring: outline || shadow,
    shown: e.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }),
    what: e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + ' "' + name.slice(0, 40) + '"',
    skip: e.classList.contains("skip-link"),
    again: again,
  };
}"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed"),
]


class Shots:
    """Full-page screenshots under var/walk/, numbered in the order of the walk."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    def take(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


class Person:
    """One browser context: a visitor, a student or a teacher. ``visit`` checks the page open."""

    def __init__(self, browser, platform: Platform, *, role: str, shots: Shots, problems: list):
        self.base = platform.url
        self.role = role
        self.shots = shots
        self.problems = problems
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(STATUS_WATCH)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.page.on("pageerror", lambda error: self.note(f"script error: {error}"))
        self.page.on("response", self._response)
        self.page.on("request", self._request)

    def note(self, problem: str) -> None:
        self.problems.append(f"{self.role} on {self.path}: {problem}")

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    def _response(self, response) -> None:
        if response.request.is_navigation_request() and response.status >= 400:
            self.note(f"{response.url} answered {response.status}")

    def _request(self, request) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.note(f"a request leaves the site: {request.url}")

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def follow(self, selector: str) -> None:
        """Click a link or button and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()

    def visit(self, name: str, *, exclude: tuple[str, ...] = ()) -> None:
        """Photograph the page, run axe on it, and tab through it (unless a widget is not ours)."""
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[data-figure]'))"
            ".every(d => d.hidden || d.dataset.rendered === 'true')"
        )
        self.shots.take(page, f"{self.role}-{name}")
        found = violations(page, exclude=exclude)
        if found:
            self.problems.append(describe(found, url=f"{self.role}-{name} {page.url}"))
        if not exclude:
            self._tab_through(name)

    def _tab_through(self, name: str) -> None:
        page = self.page
        # A page that puts the focus in its form (autofocus) starts there, past the skip link.
        autofocus = page.evaluate("document.activeElement !== document.body")
        page.evaluate("window.walkSeen = new Set()")
        for count in range(TAB_STOPS):
            page.keyboard.press("Tab")
            stop = page.evaluate(FOCUSED)
            if stop is None or stop["again"]:
                break  # past the last control, or round again
            if not (stop["ring"] and stop["shown"]):
                self.note(f"{name}: no visible focus ring on {stop['what']}")
            if count == 0 and not autofocus and not stop["skip"]:
                self.note(f"{name}: the first Tab reaches {stop['what']}, not 'Skip to content'")
        if page.locator("a.skip-link").count():
            page.focus("a.skip-link")
            page.keyboard.press("Enter")
            if page.evaluate("document.activeElement.id") != "main":
                self.note(f"{name}: 'Skip to content' does not move the focus to the content")
            # The address without #main again: a form posted from here would carry it on.
            page.evaluate("history.replaceState(null, '', location.pathname + location.search)")

    def log_in(self, username: str, password: str) -> None:
        self.follow(".site-header a[href='/accounts/login/']")
        self.page.fill("input[name=login]", username)
        self.page.fill("input[name=password]", password)
        self.follow("main button[type=submit]")
        assert self.page.locator(".site-header .who").inner_text() == username


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def small_cnn_onnx(path: Path, *, channels: int, height: int, width: int, classes: int) -> Path:
    """A small CNN of our own (random weights), exported to ONNX as a participant would."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(8 * 16, classes),
    ).eval()
    torch.onnx.export(
        model,
        (torch.zeros(1, channels, height, width),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17,
    )
    return path


def error_cells(page, selector: str) -> dict[str, str]:
    """{metric key: cell text} for the board's metric columns, read in ``selector``'s row."""
    keys = page.eval_on_selector_all(
        "table.leaderboard th[data-metric]", "ths => ths.map(th => th.dataset.metric)"
    )
    return {key: page.inner_text(f"{selector} td.{key}").strip() for key in keys}


def test_a_visitor_a_student_and_a_teacher_walk_through_make_run(browser, tmp_path):
    shots = Shots(SHOTS)
    problems: list[str] = []
    skipped: list[str] = []
    with make_run(tmp_path / "var") as platform:
        edition = walk_as_visitor(browser, platform, shots, problems, skipped)
        visitor_sees_training(
            browser, platform, shots, problems, var=tmp_path / "var", edition=edition
        )
        student, submission = student_submits(browser, platform, shots, problems, edition, tmp_path)
        walk_as_teacher(browser, platform, shots, problems)  # while the worker scores
        student_sees_it_scored(student, edition=edition, submission=submission)
    for reason in skipped:
        warnings.warn(reason, stacklevel=1)
    assert not problems, "\n".join(problems)


def walk_as_visitor(browser, platform, shots, problems, skipped) -> str:
    """Returns the demo edition's address (/c/<challenge>/<edition>/)."""
    visitor = Person(browser, platform, role="visitor", shots=shots, problems=problems)
    page = visitor.page
    visitor.goto("/")
    visitor.visit("home")
    edition = page.get_attribute("main a.pill", "href")
    challenge = page.get_attribute("main .card h2 a", "href")
    assert edition.startswith(challenge)
    visitor.follow("#imagenet-link a")
    visitor.visit("imagenet-reported")
    visitor.goto("/")
    visitor.follow(f"main .card h2 a[href='{challenge}']")
    visitor.visit("challenge")  # the history chart and the starting kit
    visitor.follow(f"main a[href='{edition}']")
    visitor.visit("leaderboard")
    visitor.follow(f"main a[href='{edition}charts/']")
    visitor.visit("charts")
    visitor.goto(edition)
    visitor.follow(f"main a[href='{edition}robustness/']")
    visitor.visit("robustness")
    visitor.goto(edition)
    baselines = page.locator("table.leaderboard tr.baseline a[href^='/submissions/']")
    if baselines.count():
        visitor.follow("table.leaderboard tr.baseline a[href^='/submissions/']")
        visitor.visit("baseline-submission")
    else:
        skipped.append(
            "walk: no baseline's submission page visited: the dev server runs with "
            "--no-baselines here (their scoring would hold the one worker for minutes), "
            "so the board has no baselines"
        )
    visitor.follow("footer a[href='/docs/export/']")
    visitor.visit("export-help")
    visitor.goto("/api/docs/")
    page.wait_for_selector("#swagger-ui .information-container")
    visitor.visit("api-docs", exclude=tuple(THIRD_PARTY))
    visitor.goto("/")
    visitor.follow(".site-header a[href='/accounts/login/']")
    visitor.visit("login")
    return edition


def visitor_sees_training(browser, platform, shots, problems, *, var: Path, edition: str) -> None:
    """The board says which network trains, at which epoch, and the time left, from the record a
    training run keeps under the platform's var directory (written here by the trainer's own
    function: this walk starts the platform without training)."""
    challenge_slug, edition_slug = edition.strip("/").split("/")[1:3]
    with sqlite3.connect(var / "db.sqlite3") as db:
        (edition_id,) = db.execute(
            "SELECT e.id FROM leaderboard_edition e JOIN leaderboard_challenge c"
            " ON c.id = e.challenge_id WHERE c.slug = ? AND e.slug = ?",
            (challenge_slug, edition_slug),
        ).fetchone()
    with override_settings(VAR_DIR=var):
        # One and a half epochs of 15 in 90 s: 13.5 epochs left at 60 s each.
        progress_update(
            edition_id=edition_id,
            arch="lenet5",
            method_name="LeNet-5",
            done=1.5,
            epochs=15,
            seconds=90.0,
        )
        try:
            visitor = Person(browser, platform, role="visitor", shots=shots, problems=problems)
            visitor.goto(edition)
            notice = visitor.page.locator("#baseline-notice").inner_text()
            assert "LeNet-5" in notice and "epoch 2 of 15" in notice, notice
            assert "about 14 min left" in notice, notice
            visitor.visit("leaderboard-training")
        finally:
            progress_clear(edition_id=edition_id)
    visitor.goto(edition)
    assert visitor.page.locator("#baseline-notice").count() == 0  # gone once training ends


def student_submits(
    browser, platform, shots, problems, edition: str, tmp_path: Path
) -> tuple[Person, str]:
    """Up to the upload; returns the student, whose page is the new submission's (its path)."""
    student = Person(browser, platform, role="student", shots=shots, problems=problems)
    page = student.page
    student.goto("/accounts/login/")
    student.follow("main a[href='/accounts/signup/']")
    student.visit("signup")
    page.fill("input[name=username]", "walker")
    page.fill("input[name=email]", "walker@example.org")
    page.fill("input[name=password1]", "a-long-walk-in-2026")
    page.fill("input[name=password2]", "a-long-walk-in-2026")
    student.follow("main button[type=submit]")
    assert page.inner_text(".site-header .who") == "walker"

    student.goto(edition)
    student.follow(f"main a[href='{edition}team/']")
    student.visit("team")
    page.fill("#id_name", "Walkers")
    student.follow("main form[action$='/team/create/'] button[type=submit]")
    assert "Walkers" in page.inner_text("main h1")
    student.visit("team-created")

    student.goto(edition)
    student.follow(f"main a[href='{edition}submit/']")
    student.visit("submit")
    times = "\N{MULTIPLICATION SIGN}"
    spec = rf"Input (\d+){times}(\d+){times}(\d+), (\d+) classes"
    spec = re.search(spec, page.inner_text("main"))
    channels, height, width, classes = (int(x) for x in spec.groups())
    model = small_cnn_onnx(
        tmp_path / "walk-cnn.onnx", channels=channels, height=height, width=width, classes=classes
    )

    # The free check first: the file loads and gives the expected shape.
    page.set_input_files("input[name=file]", str(model))
    student.follow("#check-button")
    page.wait_for_selector("#model-check[data-status=done]", timeout=120_000)
    assert page.inner_text("#check-status") == "Would be scored"
    student.visit("model-check")

    student.goto(f"{edition}submit/")
    page.set_input_files("input[name=file]", str(model))
    page.fill("input[name=method_name]", "Walk CNN")
    student.follow("#submit-form button[type=submit]")
    assert student.path == "/me/submissions/"
    student.follow("main tr[data-id] td a[href^='/submissions/']")
    submission = student.path
    status = page.get_attribute("#submission-status", "data-status")
    assert status in ("queued", "running"), f"already {status} when first opened"
    return student, submission


def student_sees_it_scored(student: Person, *, edition: str, submission: str) -> None:
    page = student.page
    # Nobody reloads: the page polls, shows "Scored" in place, then shows the errors.
    page.wait_for_selector("#submission-status[data-status=scored]", timeout=SCORED_TIMEOUT_MS)
    page.wait_for_selector("tr[data-part=public] td[data-metric]")
    # "What the network sees" comes a little after the score: the page says it is being
    # computed, waits for it and loads once more. Photograph the page with it.
    page.wait_for_function(
        "document.readyState === 'complete' && document.getElementById('insights') !== null"
        " && document.getElementById('insights-pending') === null",
        timeout=SCORED_TIMEOUT_MS,
    )
    seen = page.evaluate(f"sessionStorage.getItem('walk-status {submission}')")
    assert seen == "scored", f"the page did not turn to scored in place (last seen {seen!r})"
    student.visit("own-submission")
    on_page = {
        cell.get_attribute("data-metric"): cell.inner_text().strip()
        for cell in page.query_selector_all("tr[data-part=public] td[data-metric]")
    }

    student.follow(f"main .crumbs a[href='{edition}']")
    row = f"table.leaderboard tr[data-submission='{submission.split('/')[-2]}']"
    assert "Walkers" in page.inner_text(row)
    on_board = error_cells(page, row)
    assert on_board and all(on_board[key] == on_page[key] for key in on_board), (on_board, on_page)
    assert all(PERCENT.fullmatch(text) or text == DASH for text in on_board.values()), on_board
    assert PERCENT.fullmatch(next(iter(on_board.values())))  # the ranking metric, scored
    student.visit("leaderboard-with-entry")
    student.follow(f"main a[href='{edition}charts/']")
    student.visit("charts-with-entry")  # drawn by Plotly this time: the mode bar by keyboard
    student.goto(edition)
    student.follow(f"{row} a[href='{submission}']")
    assert student.path == submission

    student.follow(".site-header a[href='/me/submissions/']")
    mine = {
        cell.get_attribute("class").split()[-1]: cell.inner_text().strip()
        for cell in page.query_selector_all("main tr[data-id] td.num")
    }
    assert mine and all(mine[key] == on_board[key] for key in mine), (mine, on_board)
    student.visit("my-submissions")
    student.follow(".site-header a[href='/me/tokens/']")
    student.visit("tokens")


def walk_as_teacher(browser, platform, shots, problems) -> None:
    teacher = Person(browser, platform, role="teacher", shots=shots, problems=problems)
    page = teacher.page
    teacher.goto("/")
    teacher.log_in(platform.username, platform.password)
    teacher.follow("#host-challenge")
    teacher.visit("new-challenge")
    teacher.goto("/")
    challenge = page.get_attribute("main .card h2 a", "href")
    teacher.follow(f"main .card h2 a[href='{challenge}']")
    teacher.follow("main a[href^='/host/editions/new/']")
    teacher.visit("new-edition")
    now = dt.datetime.now(dt.UTC)
    page.fill("input[name=title]", EDITION_TITLE)
    page.fill("input[name=slug]", "spring")
    page.fill("input[name=opens_at]", (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=closes_at]", (now + dt.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"))
    teacher.follow("main form button[type=submit]")
    host = f"{challenge}spring/host/"
    assert teacher.path == host, page.inner_text("main")[:2000]
    assert EDITION_TITLE in page.inner_text("main h1")
    assert EDITION_TITLE in page.inner_text("main .crumbs")
    teacher.visit("host")
    pages = page.eval_on_selector_all(
        f"main a[href^='{host}'][href$='/']", "links => links.map(a => a.getAttribute('href'))"
    )
    for path in dict.fromkeys(pages):  # settings, people, grades, announcements...
        teacher.goto(path)
        teacher.visit("host-" + path.removeprefix(host).strip("/").replace("/", "-"))

    teacher.follow(".site-header a.brand")
    pills = page.eval_on_selector_all("main a.pill", "pills => pills.map(p => p.innerText)")
    assert EDITION_TITLE in pills, pills
    teacher.follow(f"main a.pill[href='{challenge}spring/']")
    assert EDITION_TITLE in page.inner_text("main h1")
    assert EDITION_TITLE in page.inner_text("main .crumbs")
    teacher.visit("titled-leaderboard")
