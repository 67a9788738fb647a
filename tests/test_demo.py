"""The offline demo: it starts fast, seeds its world through the bot, moves time, resets."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.request
from html import unescape
from pathlib import Path

from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from demo.render import safe_html, text_html
from tests.conftest import ROOT
from tests.console import Browser
from tests.demo_site import DemoClient, phone, ready, running_demo, seeded_copy
from tests.process import LOTSENBOT, bot_env
from tests.scenario import t


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def fetch(url: str) -> bytes:
    """GET on loopback, never through a proxy from the environment."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        body: bytes = response.read()
    return body


def test_lotsenbot_demo_serves_the_page_within_five_seconds(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "demo" / "demo.sqlite3"
    env = bot_env(None, tmp_path / "unused.sqlite3")  # no token: the demo needs none
    log = (tmp_path / "demo.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(LOTSENBOT), "demo", "--port", str(port), "--db", str(db)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        umask=0o022,  # the usual one: the demo's files are private all the same
    )
    try:
        page = None
        while page is None and time.monotonic() - started < 10:
            try:
                page = fetch(f"http://127.0.0.1:{port}/")
            except OSError:
                time.sleep(0.02)
        elapsed = time.monotonic() - started
        assert page is not None and b"Lotsenbot" in page, (tmp_path / "demo.log").read_text()
        assert elapsed < 5, f"the page answered after {elapsed:.2f} s"
        assert b"demo.js" in page and b"http://" not in page and b"https://" not in page
        state = b""
        while b'"status": "ready"' not in state and time.monotonic() - started < 20:
            state = fetch(f"http://127.0.0.1:{port}/api/state")
            time.sleep(0.05)
        assert b'"status": "ready"' in state, (tmp_path / "demo.log").read_text()
        assert b"Yusuf" in state and b"Sabine" in state
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(30)
        log.close()
    assert status == 0, (tmp_path / "demo.log").read_text()
    chats = db.with_name("demo.sqlite3.chats.json")
    assert db.exists() and chats.exists()
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in db.parent.iterdir()} == {
        p.name: "0o600" for p in db.parent.iterdir()
    }
    assert oct(db.parent.stat().st_mode & 0o777) == "0o700"


async def test_the_demo_world_is_seeded_through_the_bot(tmp_path: Path) -> None:
    """Not raw SQL: the chats show how each person got there, and the offers went out."""
    async with running_demo(await seeded_copy(tmp_path)) as demo:
        state = await demo.until(ready)
        assert phone(state, "Sabine")["role"] == "coordinator"
        assert phone(state, "Amal")["messages"] == [] and phone(state, "Amal")["dir"] == "rtl"
        yusuf = phone(state, "Yusuf")
        assert yusuf["role"] == "lotse" and yusuf["dir"] == "rtl" and yusuf["shown"]
        assert any(
            b["data"].startswith("offer:accept:")
            for m in yusuf["messages"]
            for row in m["buttons"]
            for b in row
        )
        for name in ("Oksana", "Reza", "Ayşe"):
            assert phone(state, name)["role"] == "lotse"
        assert phone(state, "Karim")["dir"] == "rtl" and phone(state, "Olena")["dir"] == "ltr"
        assert not phone(state, "Karim")["shown"]
        # A refugee on Signal asked by typing numbers, and Yusuf, on Telegram, took it.
        nour = phone(state, "Nour")
        assert nour["messenger"] == "signal" and not nour["shown"]
        assert all(m["buttons"] == [] for m in nour["messages"])
        assert any("Yusuf" in m["html"] for m in nour["messages"] if not m["out"])
        assert any("Nour" in m["html"] for m in yusuf["messages"] if not m["out"])
        invitations = next(
            m["html"] for m in phone(state, "Sabine")["messages"] if "deeplink" in m["html"]
        )
        assert invitations.count('class="deeplink"') == 5
        # The monthly Stammtisch is planned: its next dates close the coordinator's chat.
        assert "📅 <b>Stammtisch</b>" in phone(state, "Sabine")["messages"][-1]["html"]


async def test_clock_runs_timers_and_reset_starts_over(tmp_path: Path) -> None:
    async with running_demo(await seeded_copy(tmp_path)) as demo:
        state = await demo.until(ready)
        assert state["clock"]["ahead"] == ""
        before = len(phone(state, "Sabine")["messages"])
        added = await demo.post("/api/people", {"name": "Maria", "language": "de"})

        # A day later nobody has accepted: the requests reach the coordinator to assign.
        ran = await demo.post("/api/clock", {"step": "1d"})
        assert ran["timers"] >= 3
        state = await demo.until(lambda s: _assign_buttons(s) >= 3)
        assert state["clock"]["ahead"] == "1 day"
        assert len(phone(state, "Sabine")["messages"]) > before
        await demo.post("/api/clock", {"step": "never"}, status=400)

        await demo.post("/api/reset", {})
        state = await demo.until(ready)
        assert state["clock"]["ahead"] == ""
        assert _assign_buttons(state) == 0
        assert all(p["id"] != added["id"] for p in state["phones"])
        assert len(phone(state, "Sabine")["messages"]) == before


def _assign_buttons(state: dict[str, object]) -> int:
    return sum(
        1
        for m in phone(state, "Sabine")["messages"]
        for row in m["buttons"]
        for b in row
        if b["data"].startswith("coord:assign:")
    )


async def test_the_demo_continues_after_a_restart(tmp_path: Path) -> None:
    db = await seeded_copy(tmp_path)
    async with running_demo(db) as demo:
        state = await demo.until(ready)
        await demo.post("/api/clock", {"step": "1h"})
        sabine = phone(state, "Sabine")
        await demo.post(f"/api/people/{sabine['id']}/shown", {"shown": False})
        seen = len(sabine["messages"])
    async with running_demo(db) as demo:
        state = await demo.until(ready)
        assert state["clock"]["ahead"] == "1 h"
        sabine = phone(state, "Sabine")
        assert not sabine["shown"] and len(sabine["messages"]) == seen
        # New updates are numbered after the old ones, so the bot answers them.
        await demo.post(f"/api/people/{sabine['id']}/send", {"text": "/requests"})
        await demo.until(lambda s: len(phone(s, "Sabine")["messages"]) >= seen + 2)


async def test_the_page_api_refuses_what_a_phone_cannot_do(tmp_path: Path) -> None:
    async with running_demo(await seeded_copy(tmp_path)) as demo:
        state = await demo.until(ready)
        amal = phone(state, "Amal")["id"]
        await demo.post(f"/api/people/{amal}/press", {"message_id": 1, "data": "x"}, status=400)
        await demo.post(f"/api/people/{amal}/send", {"text": ""}, status=400)
        await demo.post(f"/api/people/{amal}/attach", {"kind": "video"}, status=400)
        await demo.post("/api/people/424242/send", {"text": "hi"}, status=404)
        await demo.post("/api/people", {"name": "X", "language": "xx"}, status=400)
        async with demo.session.post(f"{demo.url}/api/reset", data="{}") as r:
            assert r.status == 415  # a plain form from another page cannot reset the demo
        await demo.post(f"/api/people/{amal}/attach", {"kind": "photo"})
        state = await demo.until(lambda s: phone(s, "Amal")["messages"])
        photo = phone(state, "Amal")["messages"][0]
        assert photo["kind"] == "photo" and photo["out"]
        async with demo.session.get(f"{demo.url}{photo['file']}") as r:
            assert r.content_type == "image/png" and (await r.read()).startswith(b"\x89PNG")
        # The bot does not know Amal yet and points her to /start.
        await demo.until(lambda s: len(phone(s, "Amal")["messages"]) >= 2)


async def test_the_page_is_served_whole_and_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    async with running_demo(await seeded_copy(tmp_path)) as demo:
        for name, marker in (("demo.js", b"/api/state"), ("demo.css", b".phone")):
            async with demo.session.get(f"{demo.url}/static/{name}") as r:
                assert r.status == 200 and marker in await r.read()
        for path in ("/static/../world.py", "/static/index.html.bak", "/api/file/nothing"):
            async with demo.session.get(f"{demo.url}{path}") as r:
                assert r.status == 404
        await _no_remote_resources(demo)


async def test_the_page_answers_only_under_a_loopback_name_and_its_port(tmp_path: Path) -> None:
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) is refused."""
    async with running_demo(await seeded_copy(tmp_path)) as demo:
        state = await demo.until(ready)
        port = int(demo.url.rsplit(":", 1)[1])
        amal = phone(state, "Amal")["id"]
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}", "localhost"):
            for method, path in (("GET", "/"), ("GET", "/api/state"), ("POST", "/api/reset")):
                async with demo.session.request(
                    method, f"{demo.url}{path}", json={}, headers={"Host": host}
                ) as r:
                    assert r.status == 421, (host, path)
                    assert "localhost" in await r.text()
            async with demo.session.post(
                f"{demo.url}/api/people/{amal}/send", json={"text": "hi"}, headers={"Host": host}
            ) as r:
                assert r.status == 421
        # Refused requests did nothing: Amal sent no message, the world was not reset.
        state = await demo.state()
        assert ready(state) and phone(state, "Amal")["messages"] == []
        for name in ("localhost", "127.0.0.1", "[::1]", "LOCALHOST"):
            host = f"{name}:{port}"
            async with demo.session.get(f"{demo.url}/api/state", headers={"Host": host}) as r:
                assert r.status == 200, host
                assert (await r.json())["status"] == "ready"


async def _no_remote_resources(demo: DemoClient) -> None:
    """The page works with no network: nothing is loaded from elsewhere."""
    for path in ("/", "/static/demo.js", "/static/demo.css"):
        async with demo.session.get(f"{demo.url}{path}") as r:
            body = (await r.read()).decode()
        assert "https://" not in body and "http://" not in body and "@import" not in body


def test_bot_html_is_rendered_with_telegrams_tags_only() -> None:
    assert safe_html("<b>Hallo</b> &amp; <i>du</i>") == "<b>Hallo</b> &amp; <i>du</i>"
    assert safe_html("<strong>a</strong><em>b</em><ins>c</ins><del>d</del>") == (
        "<b>a</b><i>b</i><u>c</u><s>d</s>"
    )
    assert safe_html("&lt;script&gt;alert(1)&lt;/script&gt;") == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert safe_html('<img src=x onerror="alert(1)">') == (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    )
    assert safe_html('<a href="javascript:alert(1)">x</a>') == "<a>x</a>"
    assert safe_html('<b onclick="alert(1)">x</b>') == "<b>x</b>"
    assert safe_html('<a href="https://dorsten.de/?a=1&amp;b=2">Stadt</a>') == (
        '<a href="https://dorsten.de/?a=1&amp;b=2" target="_blank" '
        'rel="noopener noreferrer">Stadt</a>'
    )
    assert safe_html("<tg-spoiler>x</tg-spoiler>") == '<span class="spoiler">x</span>'
    assert safe_html("<b>unclosed") == "<b>unclosed</b>"
    assert safe_html("a</b>") == "a&lt;/b&gt;"


def test_person_text_is_escaped_and_links_become_safe_links() -> None:
    assert text_html("<i>x</i> & y") == "&lt;i&gt;x&lt;/i&gt; &amp; y"
    link = text_html("https://t.me/lotsen_demo_bot?start=ABCDEF2345.")
    assert link == (
        '<a href="https://t.me/lotsen_demo_bot?start=ABCDEF2345" class="deeplink" '
        'data-start="ABCDEF2345">https://t.me/lotsen_demo_bot?start=ABCDEF2345</a>.'
    )
    assert 'href="https://x.org/&quot;' not in text_html('https://x.org/"onmouseover=1')


async def test_saved_chats_continue_after_the_ids_the_bot_has_seen(api: FakeBotAPI) -> None:
    user = api.user(1, "Amal", language_code="ar")
    await user.send("مرحبا")
    await user.send_photo(data=b"\x89PNG-letter")
    saved = json.loads(json.dumps(api.snapshot()))
    again = FakeBotAPI()
    again.restore(saved, min_update_id=40)  # the bot's inbox had seen up to 39
    assert [m.text for m in again.messages(1)] == ["مرحبا", ""]
    assert again.users == api.users and again.files == api.files
    assert len(saved["pending"]) == 2  # not fetched by a bot yet: kept to be delivered
    assert await FakeUser(again, 1).send("weiter") == 40
    ids = [m.message_id for m in again.messages(1)]
    assert ids == sorted(set(ids))  # new messages are numbered after the old ones


async def test_a_signal_phone_shows_numbered_lists_and_continues_after_a_restart(
    tmp_path: Path,
) -> None:
    db = await seeded_copy(tmp_path)
    async with running_demo(db) as demo:
        await demo.until(ready)
        await demo.post("/api/people", {"name": "X", "language": "fa", "messenger": "sms"}, 400)
        added = await demo.post(
            "/api/people", {"name": "Parisa", "language": "fa", "messenger": "signal"}
        )
        parisa = added["id"]
        await demo.post(f"/api/people/{parisa}/send", {"text": "سلام"})
        state = await demo.until(
            lambda s: any("فارسی" in m["html"] for m in phone(s, "Parisa")["messages"])
        )
        on_signal = phone(state, "Parisa")
        assert on_signal["messenger"] == "signal" and on_signal["number"].startswith("+49")
        picker = next(m for m in on_signal["messages"] if "فارسی" in m["html"])
        assert picker["buttons"] == []  # the choices are a numbered list in the text
        number = re.search(r"(?m)^(\d+)\. فارسی$", unescape(picker["html"]))
        assert number is not None
        await demo.post(
            f"/api/people/{parisa}/press", {"message_id": picker["id"], "data": "lang:fa"}, 400
        )
        await demo.post(f"/api/people/{parisa}/attach", {"kind": "voice"})
        state = await demo.until(
            lambda s: any(m.get("kind") == "voice" for m in phone(s, "Parisa")["messages"])
        )
        voice = next(m for m in phone(state, "Parisa")["messages"] if m.get("kind") == "voice")
        async with demo.session.get(f"{demo.url}{voice['file']}") as r:
            assert r.status == 200 and await r.read()
        seen = len(phone(state, "Parisa")["messages"])
    async with running_demo(db) as demo:
        state = await demo.until(ready)
        assert len(phone(state, "Parisa")["messages"]) == seen  # the Signal chat was saved
        # A number typed after the restart still answers the list shown before it.
        persian = number.group(1).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        await demo.post(f"/api/people/{parisa}/send", {"text": persian, "reply_to": picker["id"]})
        await demo.until(
            lambda s: (
                phone(s, "Parisa")["language"] == "fa"
                and any("✅" in unescape(m["html"]) for m in phone(s, "Parisa")["messages"][seen:])
            )
        )


async def test_the_demo_coordinator_opens_the_office_console_from_the_chat(
    tmp_path: Path,
) -> None:
    """*Open the office console*: /console in Sabine's own chat, its link signs her in."""

    async with running_demo(await seeded_copy(tmp_path)) as demo:
        state = await demo.until(ready)
        sabine = phone(state, "Sabine")["id"]
        answer = await demo.post(f"/api/people/{sabine}/console", {})
        url = answer["url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+", url)
        state = await demo.until(
            lambda s: any(url in m["html"] for m in phone(s, "Sabine")["messages"])
        )
        assert any(m["html"] == "/console" for m in phone(state, "Sabine")["messages"] if m["out"])
        browser = Browser(url.split("/signin/")[0])
        try:
            signed_in = await browser.sign_in(url)
            assert signed_in.status == 303
            overview = await browser.get("/")
            assert overview.status == 200
            assert f"<h1>{t('de').gettext('Overview')}</h1>" in overview.html
            assert (await browser.get("/broadcasts")).status == 200
        finally:
            await browser.close()
        amal = phone(state, "Amal")["id"]
        await demo.post(f"/api/people/{amal}/console", {}, status=409)
