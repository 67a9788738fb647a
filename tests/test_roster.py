"""The office's side of its volunteers: the audit log, the roster, stopping a Lotse,
leaving, the programme's records — over the wire, as coordinators and Lotsen use them."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess

from channels.telegram.fakeapi import FakeBotAPI
from tests.conftest import COORDINATOR_ID, ROOT, RunningBot
from tests.process import LOTSENBOT, bot_env
from tests.scenario import label, onboard


def lotsenbot(running: RunningBot, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``lotsenbot`` command beside the running bot, as an operator runs it."""
    return subprocess.run(
        [str(LOTSENBOT), *args],
        env=bot_env(None, running.settings.db_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def audit_rows(running: RunningBot) -> list[tuple[str, str, int | None, int | None]]:
    with sqlite3.connect(running.settings.db_path) as conn:
        return conn.execute(
            "SELECT via, action, actor_id, subject_id FROM audit ORDER BY id"
        ).fetchall()


async def test_audit_log_records_who_did_what_to_whom_and_shows_it(
    running: RunningBot, api: FakeBotAPI
) -> None:
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    await onboard(coordinator, "de")
    applicant = api.user(903, "Bea", language_code="de")
    await onboard(applicant, "de")
    await applicant.press(label("de", "🧭 I am a Lotse"))
    await applicant.press(label("de", "🙋 Ask for approval"))
    await coordinator.press(label("de", "✅ Approve"))
    await applicant.wait_for_text("🎉")

    await coordinator.send("/stats")
    await coordinator.press(data="st:hours:csv")
    await coordinator.wait_for_message(lambda m: m.kind == "document")

    done = lotsenbot(running, "export", "requests", "--out", str(running.settings.db_path) + ".csv")
    assert done.returncode == 0, done.stderr

    with sqlite3.connect(running.settings.db_path) as conn:
        coordinator_id, bea_id = (
            conn.execute(
                "SELECT person_id FROM contact WHERE channel = 'telegram' AND address = ?",
                (str(telegram_id),),
            ).fetchone()[0]
            for telegram_id in (COORDINATOR_ID, 903)
        )
    assert audit_rows(running) == [
        ("bot", "lotse.approve", coordinator_id, bea_id),
        ("bot", "export.hours", coordinator_id, None),
        ("cli", "export.requests", None, None),
    ]

    printed = lotsenbot(running, "audit", "--format", "csv")
    assert printed.returncode == 0, printed.stderr
    table = list(csv.DictReader(io.StringIO(printed.stdout.lstrip("\ufeff"))))
    # In time order: the command line keeps the real time, before the bot's shifted clock.
    assert [(r["via"], r["action"], r["coordinator_id"], r["subject_id"]) for r in table] == [
        ("cli", "export.requests", "", ""),
        ("bot", "lotse.approve", str(coordinator_id), str(bea_id)),
        ("bot", "export.hours", str(coordinator_id), ""),
    ]
    later = lotsenbot(running, "audit", "--since", "2999-01-01")
    assert later.returncode == 0 and later.stdout == ""
    text = lotsenbot(running, "audit")
    assert "lotse.approve" in text.stdout and "Bea" not in text.stdout

    # Bea's /mydata shows what the office did that concerned her, and nothing else.
    await applicant.send("/mydata")
    document = await applicant.wait_for_message(lambda m: m.kind == "document")
    exported = json.loads(api.files[document.file_id or ""])
    assert [e["action"] for e in exported["office_actions_concerning_you"]] == ["lotse.approve"]
    assert exported["office_actions_taken"] == []
