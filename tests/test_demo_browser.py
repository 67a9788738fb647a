"""The demo page in headless Chromium: an Arabic request asked, accepted and relayed by clicks,
on Telegram, and once more from a phone on Signal, answered with typed numbers.

Needs Debian's ``chromium`` (``.ci/run`` installs it); Playwright drives it through the
driver bundled in its wheel, and no browser is ever downloaded. Without Chromium only this
test is skipped. ``DEMO_SCREENSHOT=docs/demo.png`` also saves the page as the README shows it.
"""

from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, async_playwright

from demo.seed import COORDINATOR, LOTSEN, REFUGEE
from handlers import asking_views
from handlers import request_views as rv
from tests.demo_site import ready, running_demo, seeded_copy
from tests.scenario import label, t

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MATTER = "رسالة من Jobcenter لا أفهمها"
QUESTION = "شكرا، متى نلتقي؟"
ANSWER = "Morgen um 10 Uhr am Jobcenter"
MARKUP = "<b>fett</b> <img src=x onerror=alert(1)>"


def key(phone: Locator, text: str) -> Locator:
    """The newest inline button on this phone whose label contains ``text``."""
    return phone.locator(".key", has_text=text).last


async def type_text(phone: Locator, text: str) -> None:
    box = phone.locator(".composer .entry")
    await box.fill(text)
    await box.press("Enter")


#: Arabic-Indic digits, as an Arabic keyboard types them.
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def type_number(phone: Locator, choice: str) -> None:
    """On a Signal phone: read the newest numbered list that offers ``choice`` and type its
    number, in Arabic-Indic digits."""
    listed = phone.locator(".msg.in .text", has_text=choice).last
    await listed.wait_for()
    text = await listed.inner_text()
    found = re.search(rf"(?m)^(\d+)\. {re.escape(choice)}$", text)
    assert found is not None, (choice, text)
    await type_text(phone, found.group(1).translate(ARABIC_DIGITS))


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; without it, this test is skipped and says why."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package for this test")
    return CHROMIUM


async def test_arabic_request_accepted_and_relayed_in_the_browser(
    tmp_path: Path, chromium: Path
) -> None:
    ar = "ar"
    db = await seeded_copy(tmp_path)
    async with running_demo(db) as demo, async_playwright() as pw:
        await demo.until(ready)
        browser = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 860})
            page.set_default_timeout(15_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
            await page.goto(demo.url)
            amal = page.locator(f"#phone-{REFUGEE.id}")
            yusuf = page.locator(f"#phone-{LOTSEN[0].person.id}")
            sabine = page.locator(f"#phone-{COORDINATOR.id}")

            # The refugee asks for a Lotse, all by taps and a little typing.
            await amal.get_by_role("button", name="START").click()
            await key(amal, "العربية").click()
            await key(amal, label(ar, "✅ I agree")).click()
            await key(amal, label(ar, "🤝 I need a Lotse")).click()
            await key(amal, rv.topic_label(t(ar), "jobcenter")).click()
            await amal.locator(".key", has_text=label(ar, "✖️ Stop asking")).last.wait_for()
            await type_text(amal, MATTER)
            await key(amal, label(ar, "Continue ➡️")).click()
            await key(amal, "Altstadt").click()
            await key(amal, label(ar, "🤷 Flexible / no fixed date")).click()  # then no place
            await amal.locator('.key[data-data="ask:name:telegram"]').wait_for()
            await type_text(amal, "Amal")
            await key(amal, label(ar, "✅ Send request")).click()
            sent = unescape(asking_views.sent(t(ar)).text)[:30]
            await amal.locator(".msg", has_text=sent).wait_for()

            # The Arabic-speaking Lotse accepts the offer on the second phone.
            offer = yusuf.locator(".msg", has_text=MATTER).last
            await offer.locator(".key", has_text=label(ar, "✅ Accept")).click()
            await yusuf.locator(".msg", has_text="Amal").last.wait_for()
            await amal.locator(".msg.in", has_text="Yusuf").last.wait_for()

            # Messages go through the bot, both ways.
            await type_text(amal, QUESTION)
            relayed = yusuf.locator(".msg.in", has_text=QUESTION).last
            await relayed.wait_for()
            await relayed.locator(".reply").click()
            await type_text(yusuf, ANSWER)
            await amal.locator(".msg.in", has_text=ANSWER).wait_for()
            await _screenshot(page)

            # A person's text is shown as text, never as markup.
            await type_text(amal, MARKUP)
            await yusuf.locator(".msg.in", has_text=MARKUP).wait_for()
            assert await yusuf.locator(".msg .text img").count() == 0

            # Arabic chats run right to left, German ones left to right.
            assert await amal.locator(".chat").get_attribute("dir") == "rtl"
            assert await yusuf.locator(".chat").get_attribute("dir") == "rtl"
            assert await sabine.locator(".chat").get_attribute("dir") == "ltr"
            bubble = amal.locator(".msg.in .text", has_text=sent).last
            assert await bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
            assert problems == []
        finally:
            await browser.close()


async def _screenshot(page: Page) -> None:
    """Save the page for the README when asked to (DEMO_SCREENSHOT=path)."""
    target = os.environ.get("DEMO_SCREENSHOT")
    if target:
        await page.wait_for_timeout(300)  # let the last message scroll into view
        await page.screenshot(path=target)


async def test_a_signal_refugee_and_a_telegram_lotse_on_one_case_in_the_browser(
    tmp_path: Path, chromium: Path
) -> None:
    """A person added on Signal asks for a Lotse by typing the numbers of the lists; the
    Lotse on Telegram accepts with a tap; their messages cross over."""
    ar = "ar"
    db = await seeded_copy(tmp_path)
    async with running_demo(db) as demo, async_playwright() as pw:
        await demo.until(ready)
        browser = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 860})
            page.set_default_timeout(15_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
            await page.goto(demo.url)
            await page.locator("#new-name").fill("Hamid")
            await page.locator("#new-language").select_option(ar)
            await page.locator("#new-messenger").select_option("signal")
            await page.get_by_role("button", name="Add person").click()
            hamid = page.locator('.phone[data-messenger="signal"]', has_text="Hamid")
            yusuf = page.locator(f"#phone-{LOTSEN[0].person.id}")
            await hamid.get_by_role("button", name="SAY HELLO").click()
            # No buttons on Signal: the choices are a numbered list, answered by number.
            await type_number(hamid, "العربية")
            assert await hamid.locator(".key").count() == 0
            await type_number(hamid, label(ar, "✅ I agree"))
            await type_number(hamid, label(ar, "🤝 I need a Lotse"))
            jobcenter = rv.topic_label(t(ar), "jobcenter")
            await type_number(hamid, f"{asking_views.TOPIC_ICONS['jobcenter']} {jobcenter}")
            await hamid.locator(".msg.in", has_text=label(ar, "✖️ Stop asking")).last.wait_for()
            await type_text(hamid, MATTER)
            await type_number(hamid, label(ar, "Continue ➡️"))
            await type_number(hamid, "Altstadt")
            await type_number(hamid, label(ar, "🤷 Flexible / no fixed date"))  # then no place
            await type_number(hamid, "Hamid")  # the name Signal's profile gives, offered
            await type_number(hamid, label(ar, "✅ Send request"))
            sent = unescape(asking_views.sent(t(ar)).text)[:30]
            await hamid.locator(".msg.in", has_text=sent).wait_for()

            # The Lotse on Telegram accepts with a tap; neither learns the other's number.
            offer = yusuf.locator(".msg", has_text=MATTER).last
            await offer.locator(".key", has_text=label(ar, "✅ Accept")).click()
            await yusuf.locator(".msg", has_text="Hamid").last.wait_for()
            await hamid.locator(".msg.in", has_text="Yusuf").last.wait_for()
            number = await hamid.locator(".role").inner_text()
            assert number.split("Signal ")[1] not in await yusuf.inner_text()

            # Signal → Telegram, and the Lotse's reply back to Signal.
            await type_text(hamid, QUESTION)
            relayed = yusuf.locator(".msg.in", has_text=QUESTION).last
            await relayed.wait_for()
            await relayed.locator(".reply").click()
            await type_text(yusuf, ANSWER)
            await hamid.locator(".msg.in", has_text=ANSWER).wait_for()
            assert await hamid.locator(".chat").get_attribute("dir") == "rtl"
            assert problems == []
        finally:
            await browser.close()


async def test_the_demo_coordinator_opens_the_office_console_in_the_browser(
    tmp_path: Path, chromium: Path
) -> None:
    """*Open the office console* on Sabine's phone: /console goes into her chat, and the link
    the bot answers with opens in a new tab, where she signs in."""
    db = await seeded_copy(tmp_path)
    async with running_demo(db) as demo, async_playwright() as pw:
        await demo.until(ready)
        browser = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 860})
            page = await context.new_page()
            page.set_default_timeout(15_000)
            await page.goto(demo.url)
            sabine = page.locator(f"#phone-{COORDINATOR.id}")
            amal = page.locator(f"#phone-{REFUGEE.id}")
            assert await amal.get_by_role("button", name="Open the office console").count() == 0
            async with context.expect_page() as opening:
                await sabine.get_by_role("button", name="Open the office console").click()
            desk = await opening.value
            await desk.wait_for_url(re.compile(r"/signin/[A-Za-z0-9_-]+$"))
            await sabine.locator(".msg.out", has_text="/console").wait_for()
            await desk.get_by_role("button", name=label("de", "Sign in")).click()
            await desk.get_by_role("heading", name=label("de", "Overview"), level=1).wait_for()
        finally:
            await browser.close()
