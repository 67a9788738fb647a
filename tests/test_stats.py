"""Figures for the city from real requests: the /stats chart and summary, and anonymous
exports from the bot and from the command line."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
from matplotlib.image import imread
from openpyxl import load_workbook

from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import COORDINATOR_ID, RunningBot
from tests.process import LOTSENBOT, bot_env
from tests.scenario import ask_for_lotse, become_lotse, invite_codes, label, onboard, t

GERMAN_MONTHS = [
    "Jan.",
    "Feb.",
    "März",
    "Apr.",
    "Mai",
    "Juni",
    "Juli",
    "Aug.",
    "Sept.",
    "Okt.",
    "Nov.",
    "Dez.",
]
NAMES = ("Amal", "Olha", "Yusuf", "Oksana")
FREE_TEXT = ("Brief vom Jobcenter", "Wohnung gesucht")
TELEGRAM_IDS = ("201", "202", "101", "102", str(COORDINATOR_ID))


def assert_anonymous(cells: list[str]) -> None:
    for cell in cells:
        assert not any(name in cell for name in NAMES + FREE_TEXT), cell
        assert not set(re.findall(r"\d+", cell)) & set(TELEGRAM_IDS), cell


async def test_stats_chart_summary_and_exports(
    running: RunningBot, api: FakeBotAPI, tmp_path: Path
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 2)
    yusuf = await become_lotse(api, 101, "Yusuf", ["ar", "de"], codes[0])
    await become_lotse(api, 102, "Oksana", ["uk"], codes[1])

    amal = api.user(201, "Amal", language_code="ar")
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", text="Brief vom Jobcenter", district=1, name="Amal")
    await yusuf.wait_for_text("🔔")
    running.clock.advance(timedelta(minutes=40))
    await yusuf.press(label("ar", "✅ Accept"))
    await amal.wait_for_text("Yusuf")
    await yusuf.press(data="case:done:1")
    await yusuf.press(data="case:hours:1:3")
    await yusuf.wait_for_message(lambda m: "fb:" in str(m.buttons))

    olha = api.user(202, "Olha", language_code="uk")
    await onboard(olha, "uk")
    await ask_for_lotse(
        olha, "uk", topic="housing", text="Wohnung gesucht", district=4, name="Olha"
    )

    await coordinator.send("/stats")
    chart = await coordinator.wait_for_message(lambda m: m.kind == "photo", timeout=60)
    png = api.files[chart.file_id or ""]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(io.BytesIO(png))
    assert pixels.shape[:2] == (1000, 1200)
    colours = np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)
    assert len(colours) > 50  # bars, labels and legend, not a blank canvas
    de = t("de")
    caption = chart.text
    # The six months as German writes them, not 2030-01.
    now = running.clock.now().astimezone(running.city.timezone)
    months = [(now.year * 12 + now.month - 1 - back) for back in (5, 0)]
    first, last = (f"{GERMAN_MONTHS[m % 12]} {m // 12}" for m in months)
    assert caption.split("\n")[0] == f"Zahlen von {first} bis {last}"
    assert de.ngettext("{n} request", "{n} requests", 2) in caption
    assert (
        de.gettext(
            "Found a Lotse: {share} %, in a median of {wait}",
            share=50,
            wait=de.ngettext("{n} minute", "{n} minutes", 40),
        )
        in caption
    )
    assert de.gettext("Active Lotsen: {n}", n=2) in caption
    assert de.gettext("Volunteer hours: {hours}", hours=de.number(3.0)) in caption
    assert_anonymous([caption])

    await coordinator.press(data="st:requests:csv")
    document = await coordinator.wait_for_message(lambda m: m.kind == "document")
    rows = list(csv.reader(io.StringIO(api.files[document.file_id or ""].decode("utf-8-sig"))))
    assert rows[0][:5] == ["month", "topic", "language", "district", "status"]
    assert sorted((r[1], r[2], r[4]) for r in rows[1:]) == [
        ("housing", "uk", "offered"),  # Oksana has the offer
        ("jobcenter", "ar", "done"),
    ]
    assert_anonymous([cell for row in rows for cell in row])

    # The same figures from the command line, as a workbook.
    out = tmp_path / "hours.xlsx"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(LOTSENBOT), "export", "hours", "--format", "xlsx", "--out", str(out)],
        env=bot_env(None, running.settings.db_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["month", "topic", "district", "cases_done", "volunteer_hours"]
    assert [row[1:] for row in values[1:]] == [["jobcenter", running.city.districts[1], 1, 3]]
    assert_anonymous([str(v) for row in values for v in row])

    # Coordinators only.
    query = await amal.press(data="st:requests:csv")
    assert (await amal.wait_for_answer(query)).get("show_alert")
    seen = len(olha.bot_messages())
    await olha.send("/stats")
    refusal = await olha.wait_for_message(lambda m: True, after=seen)
    assert refusal.kind == "text"


async def test_a_request_counts_under_its_own_language_and_cancelled_ones_stand_apart(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    codes = await invite_codes(api, 1)
    parisa = await become_lotse(api, 111, "Parisa", ["fa", "de"], codes[0])

    # A Farsi request whose person also speaks German: found a Lotse.
    farhad = api.user(211, "Farhad", language_code="fa")
    await onboard(farhad, "fa")
    await ask_for_lotse(farhad, "fa", name="Farhad", also=("de",))
    await parisa.press(label("fa", "✅ Accept"))
    await farhad.wait_for_text("Parisa")

    # Another one, cancelled by its person before anyone took it.
    zahra = api.user(212, "Zahra", language_code="fa")
    await onboard(zahra, "fa")
    await ask_for_lotse(zahra, "fa", name="Zahra")
    await zahra.send("/status")
    await zahra.press(data="req:cancel:2")
    await zahra.press(data="req:cancel_yes:2")
    await running.handled_all()

    seen = len(coordinator.bot_messages())
    await coordinator.send("/stats")
    chart = await coordinator.wait_for_message(lambda m: m.kind == "photo", after=seen, timeout=60)
    de = t("de")
    lines = chart.text.split("\n")
    assert de.ngettext("{n} request", "{n} requests", 2) in lines
    # The cancelled one does not count against finding a Lotse; it is shown apart.
    found = de.gettext(
        "Found a Lotse: {share} %, in a median of {wait}",
        share=100,
        wait=de.ngettext("{n} minute", "{n} minutes", 0),
    )
    assert found in lines
    assert de.gettext("Cancelled before a Lotse was found (not in the share): {n}", n=1) in lines
    # Both under Farsi, none under German.
    assert de.gettext("Languages: {list}", list="Persisch 2") in lines

    await coordinator.press(data="st:requests:csv")
    document = await coordinator.wait_for_message(lambda m: m.kind == "document")
    rows = list(csv.reader(io.StringIO(api.files[document.file_id or ""].decode("utf-8-sig"))))
    assert sorted((r[2], r[4]) for r in rows[1:]) == [("fa", "accepted"), ("fa", "cancelled")]
