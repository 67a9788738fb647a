"""The office console in headless Chromium, against the real bot and the fake Telegram API:
a coordinator asks for a link in the chat and signs in, suspends a Lotse and sees the case
move, composes a broadcast in German with an Arabic translation and watches it go out,
answers an office message that arrives on the refugee's phone, downloads an export and
opens it.

Needs Debian's ``chromium``; Playwright drives it through the driver bundled in its wheel,
and no browser is ever downloaded. Without Chromium only this test is skipped, and says
why. ``CONSOLE_SCREENSHOTS=docs`` also saves the overview and the broadcast page as the
README shows them (``docs/console-overview.png``, ``docs/console-broadcast.png``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, async_playwright

from bot.config import CityConfig, MailingRules
from channels.telegram.fakeapi import FakeBotAPI
from handlers import office_views
from tests.conftest import COORDINATOR_ID, plain
from tests.console import console_bot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    seed_people,
    t,
)
from tests.test_demo_browser import ARGS, CHROMIUM

GERMAN = "Stammtisch am Mittwoch um 18 Uhr im Treffpunkt Altstadt. Thema: Bürgergeld."
ARABIC = "لقاء يوم الأربعاء الساعة 18 في Treffpunkt Altstadt. الموضوع: Bürgergeld."
QUESTION = "مرحبا، متى يمكنني زيارة المكتب؟"
ANSWER = "Am Donnerstag um 10 Uhr im Rathaus, Zimmer 12."
#: People who get the broadcast besides those made in the chat: enough, at the pace set
#: below, for the progress to be seen counting.
SEEDED = 16


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; without it, this test is skipped and says why."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package for this test")
    return CHROMIUM


def de(message: str) -> str:
    """A German label as the browser shows it (without markup)."""
    return plain(label("de", message))


async def screenshot(page: Page, name: str) -> None:
    """Save the page for the README when asked to (``CONSOLE_SCREENSHOTS=docs``)."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / name))


async def test_the_office_at_the_desk_in_chromium(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path, chromium: Path
) -> None:
    # A slow pace, so that the broadcast's progress is there to be watched.
    paced = dataclasses.replace(city, mailings=MailingRules(per_second=4, report_every=1.0))
    async with console_bot(api, paced, tmp_path) as desk, async_playwright() as pw:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        codes = await invite_codes(api, 2)
        yusuf = await become_lotse(api, 301, "Yusuf", ["ar", "de"], codes[0])
        karim = await become_lotse(api, 302, "Karim", ["ar", "de"], codes[1])
        amal = api.user(401, "Amal", language_code="ar")
        await onboard(amal, "ar")
        await ask_for_lotse(amal, "ar", text="رسالة من Jobcenter", name="Amal")
        offer = await yusuf.wait_for_message(lambda m: has_data(m, "offer:accept:1"))
        await yusuf.press(data="offer:accept:1", message=offer)
        await amal.wait_for_text("Yusuf")
        seeded = range(760_000, 760_000 + SEEDED)
        reached = [api.user(i, f"P{i}", language_code=None) for i in seeded]
        await seed_people(desk.bot.settings.db_path, seeded, language="ar")

        browser = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = await context.new_page()
            page.set_default_timeout(15_000)
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            polled: list[str] = []
            page.on("request", lambda r: polled.append(r.url) if "/progress" in r.url else None)

            # The link from the chat, and Sign in.
            await page.goto(await desk.link())
            await page.get_by_role("button", name=de("Sign in")).click()
            await page.wait_for_url(desk.base + "/")
            await page.get_by_role("heading", name=de("Overview"), level=1).wait_for()

            # Suspend Yusuf: his case goes back to the others, Karim is offered it.
            await page.get_by_role("navigation").get_by_role("link", name=de("Lotsen")).click()
            await page.get_by_role("link", name="Yusuf", exact=True).click()
            await page.locator("#suspend-reason").fill("Auf eigenen Wunsch pausiert")
            await page.get_by_role("button", name=de("Suspend"), exact=True).click()
            status = de("Suspended. The open cases go to other Lotsen; the Lotse was told.")
            await page.get_by_role("status").filter(has_text=status).wait_for()
            await karim.wait_for_message(lambda m: has_data(m, "offer:accept:1"))
            await page.get_by_role("navigation").get_by_role("link", name=de("Requests")).click()
            await page.get_by_role("link", name="#1", exact=True).click()
            offered = plain(
                t("de").gettext(
                    "Offered to {name}, round {round} ({answer})",
                    name="Karim",
                    round=1,
                    answer=t("de").gettext("no answer yet"),
                )
            )
            await page.get_by_text(offered).wait_for()

            # Meanwhile Amal writes to the office from her chat.
            seen = len(amal.bot_messages())
            await amal.send("/menu")
            menu = await amal.wait_for_message(lambda m: has_data(m, "menu:office"), after=seen)
            await amal.press(label("ar", "✉️ Write to the office"), message=menu)
            await amal.wait_for_message(lambda m: has_data(m, "of:stop"))
            await amal.send(QUESTION)
            await coordinator.wait_for_text(QUESTION)

            # A broadcast in German with an Arabic translation, to everyone.
            await page.get_by_role("navigation").get_by_role("link", name=de("Broadcasts")).click()
            await page.get_by_label(
                plain(t("de").gettext("Text in {language}", language="Deutsch"))
            ).fill(GERMAN)
            await page.locator("#tr_ar").fill(ARABIC)
            await page.get_by_label(de("👥 Recipients")).select_option("everyone")
            await screenshot(page, "console-broadcast.png")
            await page.get_by_role("button", name=de("Continue ➡️")).click()
            await page.get_by_text(GERMAN).first.wait_for()
            assert await page.locator('section[lang="ar"]').get_attribute("dir") == "rtl"
            await page.get_by_role("button", name=de("📤 Send now")).click()
            await page.locator("progress").wait_for()
            counter = page.locator('main p [data-count="finished"]')
            before = await counter.inner_text()
            # The overview, in a second tab while the broadcast goes out.
            overview = await context.new_page()
            await overview.goto(desk.base + "/")
            await overview.get_by_role("heading", name=de("Overview"), level=1).wait_for()
            await screenshot(overview, "console-overview.png")
            await overview.close()
            finished = de("✅ <b>Broadcast finished</b> ({audience})").split("(")[0].strip()
            # The numbers count up on the page (the script reads the progress once a second)
            # until the page shows the final report.
            await page.wait_for_function(
                "before => {"
                " const field = document.querySelector('main p [data-count=\"finished\"]');"
                " return field !== null && field.textContent !== before; }",
                arg=before,
            )
            await page.get_by_text(finished).wait_for(timeout=60_000)
            assert polled, "the page did not follow the progress"
            assert all(sum(ARABIC in m.text for m in user.bot_messages()) == 1 for user in reached)
            assert sum(GERMAN in m.text for m in coordinator.bot_messages()) == 1

            # Amal's message, answered at the desk, arrives on her phone.
            await (
                page.get_by_role("navigation")
                .get_by_role("link", name=de("Concerns and messages"))
                .click()
            )
            await page.locator("a[href^='/concerns/']").first.click()
            await page.get_by_text(QUESTION).wait_for()
            await page.locator("#answer-text").fill(ANSWER)
            await page.get_by_role("button", name=de("Send the answer")).click()
            await page.get_by_role("status").wait_for()
            answer = await amal.wait_for_text(ANSWER)
            assert answer.text == plain(office_views.answer_for_person(t("ar"), ANSWER))

            # An export, downloaded and opened.
            await page.get_by_role("navigation").get_by_role("link", name=de("Figures")).click()
            async with page.expect_download() as downloading:
                await page.get_by_role("button", name=de("📊 Requests (Excel)")).click()
            download = await downloading.value
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            assert saved.suffix == ".xlsx"
            sheet = load_workbook(saved).active
            assert sheet is not None
            rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
            assert rows[0][:5] == ["month", "topic", "language", "district", "status"]
            assert [row[2] for row in rows[1:]] == ["ar"]
            assert problems == []
        finally:
            await browser.close()
