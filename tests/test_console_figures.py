"""Figures and the audit log at the office console, over HTTP against the real bot: the
summary of a period is the chat's, the chart comes from an authenticated route, the
downloads open and are audited as exports, and the audit table filters."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

from matplotlib.image import imread
from openpyxl import load_workbook

from bot.config import CityConfig
from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import COORDINATOR_ID
from tests.console import console_bot
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard, t


def visible(text: str) -> str:
    """Text without tags and the invisible direction marks around values."""
    return re.sub("[\u2067\u2068\u2069]", "", unescape(re.sub(r"<[^>]+>", "", text)))


def summary_lines(html: str) -> list[str]:
    """The lines of the summary block of the figures page."""
    block = re.search(r'<div class="message">(.*?)</div>', html, re.S)
    assert block is not None
    return [line for line in visible(block.group(1)).split("\n") if line.strip()]


def logged(html: str) -> list[str]:
    """The actions in the audit table's rows, as listed (newest first)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [
        visible(row[2])
        for row in re.findall(
            r"<tr>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", body
        )
    ]


async def test_figures_of_a_period_match_the_chat_and_downloads_open(
    api: FakeBotAPI, city: CityConfig, tmp_path: Path
) -> None:
    async with console_bot(api, city, tmp_path) as desk:
        coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
        await onboard(coordinator, "de")
        (code,) = await invite_codes(api, 1)
        yusuf = await become_lotse(api, 101, "Yusuf", ["ar", "de"], code)
        amal = api.user(201, "Amal", language_code="ar")
        await onboard(amal, "ar")
        await ask_for_lotse(amal, "ar", text="Brief vom Jobcenter", district=1, name="Amal")
        await yusuf.wait_for_text("🔔")
        await yusuf.press(label("ar", "✅ Accept"))
        await amal.wait_for_text("Yusuf")
        # A second request, two months later.
        await desk.bot.advance(timedelta(days=62))
        olha = api.user(202, "Olha", language_code="uk")
        await onboard(olha, "uk")
        await ask_for_lotse(olha, "uk", topic="housing", text="Wohnung", district=4, name="Olha")
        await desk.bot.handled_all()
        browser = await desk.signed_in()
        de = t("de")

        # Six months, as /stats in the chat says it.
        seen = len(coordinator.bot_messages())
        await coordinator.send("/stats")
        chart = await coordinator.wait_for_message(
            lambda m: m.kind == "photo", after=seen, timeout=60
        )
        page = await browser.get("/figures?months=6")
        assert page.status == 200
        assert summary_lines(page.html) == [visible(line) for line in chart.text.split("\n")]
        assert de.ngettext("{n} request", "{n} requests", 2) in summary_lines(page.html)
        # One month: only the newer request.
        month = summary_lines((await browser.get("/figures?months=1")).html)
        assert de.ngettext("{n} request", "{n} requests", 1) in month
        assert 'option value="1" selected' in (await browser.get("/figures?months=1")).html

        image = await browser.get("/figures/chart.png?months=1")
        assert image.status == 200 and image.headers["Content-Type"] == "image/png"
        assert imread(io.BytesIO(image.body)).shape[:2] == (1000, 1200)
        assert (await desk.browser().get("/figures/chart.png")).status == 401

        # The downloads open: a workbook and a CSV file, anonymous as in chat.
        token = await browser.csrf("/figures")
        book = await browser.post(
            "/figures/export", {"kind": "requests", "format": "xlsx"}, csrf=token
        )
        assert book.status == 200
        assert "attachment" in book.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(book.body)).active
        assert sheet is not None
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values[0][:5] == ["month", "topic", "language", "district", "status"]
        assert sorted((r[1], r[2], r[4]) for r in values[1:]) == [
            ("housing", "uk", "offered"),
            ("jobcenter", "ar", "accepted"),
        ]
        assert not any("Amal" in str(v) or "Jobcenter" in str(v) for r in values for v in r)
        listed = await browser.post(
            "/figures/export", {"kind": "waitlist", "format": "csv"}, csrf=token
        )
        rows = list(csv.reader(io.StringIO(listed.body.decode("utf-8-sig"))))
        assert rows[0][0] == "joined_month"
        refused = await browser.post(
            "/figures/export", {"kind": "people", "format": "csv"}, csrf=token
        )
        assert refused.status == 400

        # The audit table: both exports by this coordinator, and the filters.
        everything = logged((await browser.get("/audit")).html)
        assert everything[:2] == ["export.waitlist", "export.requests"]
        assert "console.sign_in" in everything
        exports = logged((await browser.get("/audit?what=export")).html)
        assert exports == ["export.waitlist", "export.requests"]
        only = logged((await browser.get("/audit?what=export.waitlist")).html)
        assert only == ["export.waitlist"]
        tomorrow = (desk.bot.clock.now() + timedelta(days=1)).astimezone(city.timezone).date()
        assert logged((await browser.get(f"/audit?since={tomorrow.isoformat()}")).html) == []
        assert logged((await browser.get("/audit?who=999999")).html) == []
        db = await desk.bot.db()
        try:
            row = await db.fetch_one(
                "SELECT actor_id FROM audit WHERE action = 'export.requests' AND via = 'console'"
            )
        finally:
            await db.close()
        assert row is not None
        mine = await browser.get(f"/audit?who={row[0]}")
        assert f'<option value="{row[0]}" selected>#{row[0]}</option>' in mine.html
        assert logged(mine.html)[:2] == ["export.waitlist", "export.requests"]
