"""Drive the HTML editor report in Debian chromium through Playwright (sync API)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from report_fixtures import (
    ATTACKS,
    SEED_POS,
    SEED_RANKED,
    emoji_doc,
    injection_doc,
    large_doc,
    seed_doc,
)

from mtqa.core.result import DocumentResult, Suggestion
from mtqa.report import write_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
MISSING = (
    f"Debian chromium is required at {CHROMIUM} for the browser tests "
    "(apt-get install chromium); it was not found. These tests do not skip."
)


@dataclass
class Session:
    """A fresh page plus everything that would betray a problem."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        assert self.errors == [], f"console/page errors: {self.errors}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(MISSING, pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def session(browser: Browser) -> Iterator[Session]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    state = Session(page)

    def on_dialog(dialog: Dialog) -> None:
        state.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: state.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: state.errors.append(str(exc)))
    yield state
    context.close()


def open_report(session: Session, doc: DocumentResult, folder: Path) -> Path:
    path = write_report(doc, folder / "report.html")
    session.page.goto(path.resolve().as_uri())
    session.page.wait_for_selector("body[data-mtqa-ready='1']", state="attached")
    return path


def reload(page: Page) -> None:
    page.reload()
    page.wait_for_selector("body[data-mtqa-ready='1']", state="attached")


def export(page: Page, button: str) -> tuple[str, str]:
    """Click an export button; return (suggested filename, downloaded text)."""
    with page.expect_download() as info:
        page.click(f"#{button}")
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def active_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def pick(page: Page, pos: int) -> None:
    """Select a flag by clicking it in the side list."""
    page.click(f"#flag-list button[data-s='{pos}']")


def sentence_text(page: Page, pos: int) -> str:
    return str(page.eval_on_selector(f"#s-{pos}", "n => n.textContent"))


# ----------------------------------------------------------------------------- tests


def test_chromium_is_installed() -> None:
    assert CHROMIUM.exists(), MISSING


def test_flags_and_spans_visible(session: Session, tmp_path: Path) -> None:
    doc = seed_doc()
    open_report(session, doc, tmp_path)
    page = session.page
    expect(page.locator("#mtqa-doc .sent")).to_have_count(len(doc.sentences))
    expect(page.locator("#mtqa-doc .sent.flag")).to_have_count(8)
    expect(page.locator("#mtqa-doc .sent.flag-major")).to_have_count(3)
    spans = [sp.text for s in doc.sentences for sp in s.spans]
    expect(page.locator("mark.hl")).to_have_text(spans)
    expect(page.locator("mark.hl", has_text="passionate relationship")).to_be_visible()
    order = page.eval_on_selector_all("#flag-list button", "bs => bs.map(b => +b.dataset.s)")
    assert order == SEED_RANKED
    expect(page.locator("#c-flagged")).to_have_text("8")
    expect(page.locator("#c-major")).to_have_text("3")
    expect(page.locator("#c-reviewed")).to_have_text("0 / 8")
    expect(page.locator("#mtqa-signature")).to_have_text(doc.signature.format())
    ARTIFACTS.mkdir(exist_ok=True)
    page.keyboard.press("j")
    page.screenshot(path=str(ARTIFACTS / "report-fixture.png"), full_page=True)
    session.assert_clean()


def test_tooltip_on_hover_and_keyboard_focus(session: Session, tmp_path: Path) -> None:
    open_report(session, seed_doc(), tmp_path)
    page = session.page
    tip = page.locator("#mtqa-tip")
    page.hover("mark.hl >> text=passionate relationship")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("mistranslation")
    expect(tip).to_contain_text("Wrong word choice for diplomatic ties.")
    expect(tip).to_contain_text("Sentence score 0.22")
    expect(tip).to_contain_text("warmer relationship | closer relationship")
    page.hover("h1")
    expect(tip).to_be_hidden()

    page.locator("mark.hl").first.focus()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Unusual phrase for English news.")
    page.keyboard.press("Tab")
    expect(page.locator("mark.hl").nth(1)).to_be_focused()
    expect(tip).to_contain_text("Check this number against the source.")
    expect(page.locator("mark.hl").nth(1)).to_have_attribute("aria-describedby", "mtqa-tip")
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    session.assert_clean()


def test_keyboard_navigation_and_filters(session: Session, tmp_path: Path) -> None:
    open_report(session, seed_doc(), tmp_path)
    page = session.page
    page.keyboard.press("j")
    assert active_id(page) == f"s-{SEED_RANKED[0]}"
    expect(page.locator(f"#s-{SEED_RANKED[0]}")).to_have_class("sent flag flag-major current")
    expect(page.locator(f"#flag-list button[data-s='{SEED_RANKED[0]}']")).to_have_attribute(
        "aria-current", "true"
    )
    expect(page.locator("#mtqa-detail h2")).to_contain_text(f"Sentence {SEED_RANKED[0] + 1} ")
    for key, expected in [("j", 1), ("ArrowDown", 2), ("k", 1), ("ArrowUp", 0), ("k", 0)]:
        page.keyboard.press(key)
        assert active_id(page) == f"s-{SEED_RANKED[expected]}", key
    expect(page.locator(".sent.current")).to_have_count(1)

    page.select_option("#f-sev", "minor")
    expect(page.locator("#f-shown")).to_have_text("Showing 5 of 8")
    page.click("h1")
    page.keyboard.press("j")
    assert active_id(page) == f"s-{SEED_POS['trouble']}"
    page.select_option("#f-sev", "")
    page.select_option("#f-reason", "number")
    expect(page.locator("#flag-list li:visible")).to_have_count(1)
    page.click("h1")
    page.keyboard.press("ArrowDown")
    assert active_id(page) == f"s-{SEED_POS['116']}"
    session.assert_clean()


def test_review_workflow_export_and_persistence(session: Session, tmp_path: Path) -> None:
    doc = seed_doc()
    open_report(session, doc, tmp_path)
    page = session.page
    new_war = "In the war of attrition, a breakthrough can come once the losing side runs dry."

    pick(page, SEED_POS["hard ball"])
    page.get_by_role("button", name="Replace “hard ball demand” with “hardball demands”").click()
    assert "support the hardball demands." in sentence_text(page, SEED_POS["hard ball"])
    expect(page.locator(f"#s-{SEED_POS['hard ball']} mark")).to_have_count(0)

    page.keyboard.press("j")  # next in rank order after "hard ball" is the omission flag
    assert active_id(page) == f"s-{SEED_POS['omission']}"
    page.keyboard.press("d")
    expect(page.locator(f"#s-{SEED_POS['omission']}")).to_have_class(
        "sent flag flag-minor current st-dismissed"
    )

    pick(page, SEED_POS["game skills"])
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(f"#flag-list button[data-s='{SEED_POS['game skills']}'] .st")).to_have_text(
        "accepted"
    )

    pick(page, SEED_POS["war of loss"])
    page.keyboard.press("e")
    editable = page.locator(f"#s-{SEED_POS['war of loss']}")
    expect(editable).to_have_attribute("contenteditable", "plaintext-only")
    page.keyboard.press("Control+A")
    page.keyboard.type(new_war)
    page.keyboard.press("Enter")
    expect(editable).not_to_have_attribute("contenteditable", "plaintext-only")
    assert sentence_text(page, SEED_POS["war of loss"]) == new_war

    pick(page, SEED_POS["passionate"])
    page.get_by_role("button", name="with “closer relationship”").click()
    expect(page.locator("#c-reviewed")).to_have_text("5 / 8")

    expected = (
        doc.text.replace("hard ball demand", "hardball demands")
        .replace(doc.sentences[SEED_POS["war of loss"]].text, new_war)
        .replace("passionate relationship", "closer relationship")
    )
    name, text = export(page, "export-txt")
    assert name == "seed-article.corrected.txt"
    assert text == expected

    name, raw = export(page, "export-json")
    assert name == "seed-article.review.json"
    log = json.loads(raw)
    assert log["doc_hash"] == doc.doc_hash
    assert log["signature"]["text"] == doc.signature.format()
    reviews = {r["sentence"]: r for r in log["reviews"]}
    actions = {k: r["action"] for k, r in reviews.items()}
    assert actions == {
        SEED_POS["hard ball"]: "edited",
        SEED_POS["omission"]: "dismissed",
        SEED_POS["game skills"]: "accepted",
        SEED_POS["war of loss"]: "edited",
        SEED_POS["passionate"]: "edited",
    }
    war = reviews[SEED_POS["war of loss"]]
    assert war["before"] == doc.sentences[SEED_POS["war of loss"]].text
    assert war["after"] == new_war
    game = reviews[SEED_POS["game skills"]]
    assert game["before"] == game["after"] == doc.sentences[SEED_POS["game skills"]].text
    assert all(r["timestamp"].endswith("Z") for r in log["reviews"])
    assert log["pending"] == [SEED_POS["trouble"], SEED_POS["drys"], SEED_POS["116"]]
    assert log["counts"]["reviewed"] == 5
    assert any(e.get("suggestion") == "hardball demands" for e in log["events"])

    reload(page)
    expect(page.locator("#c-reviewed")).to_have_text("5 / 8")
    assert sentence_text(page, SEED_POS["war of loss"]) == new_war
    expect(page.locator(f"#s-{SEED_POS['omission']}")).to_have_class(
        "sent flag flag-minor st-dismissed"
    )
    expect(page.locator(f"#s-{SEED_POS['game skills']}")).to_have_class(
        "sent flag flag-major st-accepted"
    )
    assert export(page, "export-txt")[1] == expected

    pick(page, SEED_POS["hard ball"])
    page.keyboard.press("u")
    assert sentence_text(page, SEED_POS["hard ball"]) == doc.sentences[SEED_POS["hard ball"]].text
    expect(page.locator(f"#s-{SEED_POS['hard ball']} mark")).to_have_text("hard ball demand")
    reload(page)
    expect(page.locator("#c-reviewed")).to_have_text("4 / 8")
    expect(page.locator(f"#s-{SEED_POS['hard ball']} mark")).to_have_text("hard ball demand")
    session.assert_clean()


def test_edit_cancel_restores_sentence(session: Session, tmp_path: Path) -> None:
    doc = seed_doc()
    open_report(session, doc, tmp_path)
    page = session.page
    pos = SEED_POS["drys"]
    pick(page, pos)
    page.get_by_role("button", name="Edit").click()
    page.keyboard.type(" garbage")
    page.keyboard.press("Escape")
    assert sentence_text(page, pos) == doc.sentences[pos].text
    expect(page.locator(f"#s-{pos} mark")).to_have_text("drys up")
    expect(page.locator("#c-reviewed")).to_have_text("0 / 8")
    session.assert_clean()


def test_suggestions_use_utf16_offsets(session: Session, tmp_path: Path) -> None:
    doc = emoji_doc()
    open_report(session, doc, tmp_path)
    page = session.page
    pick(page, 0)
    page.get_by_role("button", name="with “three goals”").click()
    page.get_by_role("button", name="with “the”").click()
    fixed = "Fans 😀🎉 said the team scored three goals in the match."
    assert sentence_text(page, 0) == fixed
    _, text = export(page, "export-txt")
    assert text == doc.text.replace(doc.sentences[0].text, fixed)
    session.assert_clean()


def test_suggestions_say_why_on_hover(session: Session, tmp_path: Path) -> None:
    """Each "Use" button's title says who proposes the word and its gain over the original."""
    doc = emoji_doc()
    tree, the = doc.sentences[0].spans
    tree.suggested = [
        Suggestion("three goals", "reader", 2.25),
        Suggestion("two goals", "lm", -0.7),
    ]
    the.suggested = [Suggestion("the", "peers", support=3)]
    open_report(session, doc, tmp_path)
    page = session.page
    pick(page, 0)
    expect(page.get_by_role("button", name="with “three goals”")).to_have_attribute(
        "title",
        "Given the source, “three goals” is 9.5× as likely as “tree goals” here (gain +2.25 nats)",
    )
    expect(page.get_by_role("button", name="with “two goals”")).to_have_attribute(
        "title",
        "Reading the English alone, “two goals” is 0.5× as likely as “tree goals” here "
        "(gain -0.70 nats)",
    )
    expect(page.get_by_role("button", name="with “the”")).to_have_attribute(
        "title", "3 other translations write “the” here"
    )
    session.assert_clean()


def test_injection_document_is_inert(session: Session, tmp_path: Path) -> None:
    doc = injection_doc()
    open_report(session, doc, tmp_path)
    page = session.page
    assert page.evaluate("window.__pwned") is None
    body = page.locator("#mtqa-doc").inner_text()
    for attack in ATTACKS[:3]:
        assert attack in body
    assert "Comment <!-- open and ]]> and {{ 7*7 }} and ${x}" in body
    expect(page.locator("h1")).to_have_text(str(doc.doc_id))
    expect(page.locator("#mtqa-signature")).to_have_text(doc.signature.format())
    expect(page.locator(".warnings li")).to_have_text(doc.warnings[0])

    page.hover("mark.hl >> nth=0")
    expect(page.locator("#mtqa-tip")).to_contain_text("<script>window.__pwned=12</script> message")
    pick(page, 1)
    detail = page.locator("#mtqa-detail")
    expect(detail).to_contain_text("<svg onload=alert(16)>source</svg>")
    expect(detail).to_contain_text("</script><script>window.__pwned=17</script>")
    page.get_by_role("button", name='with “<b onmouseover="window.__pwned=13">bold</b>”').click()
    assert '<b onmouseover="window.__pwned=13">bold</b>' in sentence_text(page, 1)
    for tag in ("b", "img", "svg", "script"):
        expect(page.locator(f"#mtqa-doc {tag}, #mtqa-detail {tag}")).to_have_count(0)
    page.hover("#s-1")
    page.hover("mark.hl >> nth=-1")

    name, raw = export(page, "export-json")
    assert name == "script_window.__pwned_15_script.review.json"
    assert json.loads(raw)["reviews"][0]["after"].startswith("An image <b onmouseover=")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    session.assert_clean()


def test_print_stylesheet(session: Session, tmp_path: Path) -> None:
    open_report(session, seed_doc(), tmp_path)
    page = session.page
    page.emulate_media(media="print")
    expect(page.locator("aside.side")).to_be_hidden()
    expect(page.locator("#export-txt")).to_be_hidden()
    style = page.eval_on_selector(
        "mark.sev-major",
        "m => { const s = getComputedStyle(m); return [s.textDecorationLine, s.backgroundColor]; }",
    )
    assert style == ["underline", "rgba(0, 0, 0, 0)"]
    expect(page.locator("#mtqa-signature")).to_be_visible()


def test_large_document_stays_responsive(session: Session, tmp_path: Path) -> None:
    doc = large_doc()
    started = time.perf_counter()
    open_report(session, doc, tmp_path)
    load_s = time.perf_counter() - started
    assert load_s < 10, f"2,000-sentence report took {load_s:.1f}s to become ready"
    page = session.page
    page.evaluate("document.querySelectorAll('.sent, mark').forEach(n => { n.__orig = 1; })")
    step_ms = page.evaluate(
        """() => {
            const t = performance.now();
            for (let i = 0; i < 100; i += 1) {
              document.dispatchEvent(new KeyboardEvent('keydown', {key: 'j', bubbles: true}));
            }
            return performance.now() - t;
        }"""
    )
    assert step_ms < 3000, f"100 flag steps took {step_ms:.0f} ms"
    current = page.eval_on_selector(".sent.current", "n => +n.dataset.s")
    ranked = page.eval_on_selector_all("#flag-list button", "bs => bs.map(b => +b.dataset.s)")
    assert current == ranked[99]  # the first press selects ranked[0]
    page.keyboard.press("d")
    page.get_by_role("button", name="with “hardball”").click()
    untouched = page.evaluate(
        """() => [
            [...document.querySelectorAll('.sent')].filter(n => !n.__orig).length,
            [...document.querySelectorAll('mark')].filter(n => !n.__orig).length,
            document.querySelectorAll('mark').length,
        ]"""
    )
    assert untouched == [0, 0, 399]
    session.assert_clean()


@pytest.mark.model
def test_seed_result_screenshot(
    seed_result: DocumentResult, session: Session, tmp_path: Path
) -> None:
    open_report(session, seed_result, tmp_path)
    page = session.page
    expect(page.locator("#mtqa-doc .sent")).to_have_count(len(seed_result.sentences))
    expect(page.locator("#c-flagged")).to_have_text(str(len(seed_result.flagged)))
    if seed_result.flagged:
        page.keyboard.press("j")
        expect(page.locator(".sent.current")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-seed.png"), full_page=True)
    assert (ARTIFACTS / "report-seed.png").stat().st_size > 10_000
    session.assert_clean()
