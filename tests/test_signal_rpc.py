"""The Signal client against the local signal-cli daemon, over HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from channels.signal.fakedaemon import FakeSignalDaemon
from channels.signal.render import render
from channels.signal.rpc import (
    Event,
    NotRegistered,
    RateLimited,
    SignalError,
    SignalRPC,
    UntrustedIdentity,
    data_uri,
)
from handlers.port import Choice, Screen

BOT = "+4915100000000"
AMAL = "+4915200000001"
DARIUSH = "+4915200000002"


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    server = FakeSignalDaemon(BOT)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(daemon: FakeSignalDaemon) -> AsyncIterator[SignalRPC]:
    rpc = SignalRPC(daemon.url, BOT, timeout=5, backoff=(0.01, 0.05))
    yield rpc
    await rpc.close()


async def next_event(events: AsyncIterator[Event]) -> Event:
    return await asyncio.wait_for(anext(events), 10)


async def test_check_says_whether_the_daemon_runs(daemon: FakeSignalDaemon) -> None:
    async with SignalRPC(daemon.url) as rpc:
        assert await rpc.check() is True
        await daemon.stop()
        assert await rpc.check() is False


async def test_a_screen_goes_out_with_its_styles_in_utf16(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    amal = daemon.user(AMAL, "Amal")
    screen = Screen(
        "<b>مرحبا 👋 أمل</b>\nاختاري <i>لغتك</i> 🌍",
        ((Choice("العربية", "lang:ar"), Choice("Deutsch 🇩🇪", "lang:de")),),
    )
    shown = render(screen)
    timestamp = await client.send(AMAL, shown.text, text_styles=shown.text_styles)

    message = await amal.wait_for_message()
    assert message.timestamp == timestamp
    assert message.text == "مرحبا 👋 أمل\nاختاري لغتك 🌍\n\n1. العربية\n2. Deutsch 🇩🇪"
    assert message.styled("BOLD") == ["مرحبا 👋 أمل"]
    assert message.styled("ITALIC") == ["لغتك"]
    assert daemon.violations == []
    call = daemon.calls_of("send")[0]
    assert call.params["recipient"] == [AMAL]
    assert call.params["account"] == BOT
    assert call.params["textStyle"] == ["0:12:BOLD", "20:4:ITALIC"]


async def test_attachments_quotes_edits_reactions_and_deletions(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    amal = daemon.user(AMAL, "Amal")
    calendar = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    first = await client.send(
        AMAL,
        "Stammtisch",
        attachments=[data_uri(calendar, "text/calendar", "stammtisch.ics")],
    )
    sent = await amal.wait_for_message()
    [attachment] = sent.attachments
    assert (attachment.content_type, attachment.filename, attachment.data) == (
        "text/calendar",
        "stammtisch.ics",
        calendar,
    )

    asked = await amal.send("Wann ist das?")
    answer = await client.send(AMAL, "Am Dienstag", quote_timestamp=asked, quote_author=AMAL)
    replied = await amal.wait_for_message(lambda m: m.timestamp == answer)
    assert (replied.quote_timestamp, replied.quote_author) == (asked, AMAL)

    edit = await client.send(AMAL, "Am Mittwoch", edit_timestamp=answer)
    assert edit != answer
    assert [m.text for m in amal.bot_messages()] == ["Stammtisch", "Am Mittwoch"]
    assert daemon.find(AMAL, answer) is daemon.find(AMAL, edit)

    await client.send_reaction(AMAL, "👍", AMAL, asked)
    own = daemon.find(AMAL, asked)
    assert own is not None and own.reactions == {BOT: "👍"}

    await client.remote_delete(AMAL, first)
    assert [m.text for m in amal.bot_messages()] == ["Am Mittwoch"]

    await client.send_receipt(AMAL, [asked])
    assert daemon.receipts == [{"recipient": AMAL, "timestamps": [asked], "type": "read"}]

    await client.update_profile("Lotsenbot Dorsten", about="Integrationslotsen")
    assert daemon.profile["givenName"] == "Lotsenbot Dorsten"
    assert daemon.profile["about"] == "Integrationslotsen"
    assert daemon.violations == []


async def test_what_people_send_arrives_in_signal_clis_shapes(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    amal = daemon.user(AMAL, "Amal")
    menu = await client.send(AMAL, "1. Deutsch\n2. العربية")
    events = client.events()
    try:
        await amal.send("٢")
        event = await next_event(events)
        assert event.account == BOT and event.exception is None
        envelope = event.envelope
        assert envelope["sourceNumber"] == AMAL
        assert envelope["sourceName"] == "Amal"
        assert envelope["sourceUuid"] == amal.uuid
        assert envelope["dataMessage"]["message"] == "٢"
        assert envelope["dataMessage"]["timestamp"] == envelope["timestamp"]

        await amal.reply(daemon.find(AMAL, menu), "1")
        quote = (await next_event(events)).envelope["dataMessage"]["quote"]
        assert (quote["id"], quote["authorNumber"]) == (menu, BOT)

        await amal.reply(None, "2", timestamp=menu - 1)  # a menu that was never sent
        forged = (await next_event(events)).envelope["dataMessage"]["quote"]
        assert (forged["id"], forged["authorNumber"], forged["text"]) == (menu - 1, BOT, None)

        await amal.send_voice(b"\xff\xf1my-voice")
        voice = (await next_event(events)).envelope["dataMessage"]
        [note] = voice["attachments"]
        assert voice["message"] is None
        assert (note["contentType"], note["filename"], note["size"]) == ("audio/aac", None, 10)
        assert await client.get_attachment(note["id"]) == b"\xff\xf1my-voice"

        await amal.send_photo(b"\xff\xd8letter", caption="Der Brief")
        photo = (await next_event(events)).envelope["dataMessage"]
        assert photo["message"] == "Der Brief"
        assert photo["attachments"][0]["contentType"] == "image/jpeg"
        assert await client.get_attachment(photo["attachments"][0]["id"]) == b"\xff\xd8letter"

        await amal.send_document("Bescheid.pdf", data=b"%PDF-1.4 x", size=30_000_000)
        [document] = (await next_event(events)).envelope["dataMessage"]["attachments"]
        assert (document["filename"], document["contentType"], document["size"]) == (
            "Bescheid.pdf",
            "application/pdf",
            30_000_000,
        )

        said = await amal.send("Hallo")
        await amal.edit(said, "Hallo!")
        typed = (await next_event(events)).envelope
        assert typed["dataMessage"]["message"] == "Hallo"
        edit = (await next_event(events)).envelope
        assert edit["editMessage"]["targetSentTimestamp"] == said
        assert edit["editMessage"]["dataMessage"]["message"] == "Hallo!"
    finally:
        await events.aclose()


async def test_the_stream_reopens_after_a_drop_and_nothing_sent_meanwhile_is_lost(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    amal = daemon.user(AMAL, "Amal")
    events = client.events()
    try:
        await amal.send("eins")
        assert (await next_event(events)).envelope["dataMessage"]["message"] == "eins"
        assert client.connects == 1

        daemon.drop_stream()
        await daemon.wait_until(lambda: daemon.streams == 0)
        await amal.send("zwei")  # waits on "Signal's servers": no stream is open
        assert daemon.pending == 1

        assert (await next_event(events)).envelope["dataMessage"]["message"] == "zwei"
        assert client.connects == 2 and daemon.connects == 2
        assert daemon.pending == 0
    finally:
        await events.aclose()


async def test_the_stream_survives_the_daemon_going_away(daemon: FakeSignalDaemon) -> None:
    port = int(daemon.url.rsplit(":", 1)[1])
    client = SignalRPC(daemon.url, BOT, backoff=(0.01, 0.05))
    amal = daemon.user(AMAL, "Amal")
    events = client.events()
    try:
        await amal.send("vorher")
        assert (await next_event(events)).envelope["dataMessage"]["message"] == "vorher"
        await daemon.stop()
        await amal.send("währenddessen")
        await daemon.start(port=port)
        assert (await next_event(events)).envelope["dataMessage"]["message"] == "währenddessen"
        assert client.connects == 2
    finally:
        await events.aclose()
        await client.close()


async def test_keepalives_are_not_events(daemon: FakeSignalDaemon, client: SignalRPC) -> None:
    daemon.keepalive = 0.01
    amal = daemon.user(AMAL, "Amal")
    events = client.events()
    try:
        first = asyncio.ensure_future(next_event(events))
        await daemon.wait_until(lambda: daemon.keepalives >= 3)
        assert not first.done()
        await amal.send("nach den Keep-alives")
        assert (await first).envelope["dataMessage"]["message"] == "nach den Keep-alives"
    finally:
        await events.aclose()


async def test_someone_not_on_signal_is_not_registered(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    with pytest.raises(NotRegistered) as never:
        await client.send("+4915299999999", "Hallo")
    assert never.value.code == -1 and not never.value.retryable
    assert "+49" not in str(never.value)

    daemon.user(AMAL, "Amal")
    daemon.unregister(AMAL)
    with pytest.raises(NotRegistered) as left:
        await client.send(AMAL, "Hallo")
    assert not left.value.retryable


async def test_a_changed_identity_is_untrusted_until_trusted(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    dariush = daemon.user(DARIUSH, "Dariush")
    daemon.change_identity(DARIUSH)
    with pytest.raises(UntrustedIdentity) as untrusted:
        await client.send(DARIUSH, "سلام")
    assert untrusted.value.code == -4
    assert dariush.bot_messages() == []

    await client.trust(DARIUSH)
    await client.send(DARIUSH, "سلام")
    assert [m.text for m in dariush.bot_messages()] == ["سلام"]


async def test_rate_limits_say_how_long_and_whether_a_person_must_solve_a_captcha(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    amal = daemon.user(AMAL, "Amal")
    daemon.rate_limit(retry_after=42)
    with pytest.raises(RateLimited) as limited:
        await client.send(AMAL, "eins")
    assert (limited.value.retry_after, limited.value.challenge) == (42.0, None)
    assert limited.value.code == -5 and limited.value.retryable

    daemon.rate_limit()
    with pytest.raises(RateLimited) as unsaid:
        await client.send(AMAL, "eins")
    assert (unsaid.value.retry_after, unsaid.value.challenge) == (None, None)

    daemon.rate_limit(challenge="challenge-token-1", retry_after=3600, times=5)
    with pytest.raises(RateLimited) as proof:
        await client.send(AMAL, "eins")
    assert (proof.value.retry_after, proof.value.challenge) == (3600.0, "challenge-token-1")
    assert "challenge-token-1" not in str(proof.value)
    with pytest.raises(SignalError) as rejected:
        await client.submit_rate_limit_challenge("challenge-token-1", "not-a-captcha")
    assert rejected.value.code == -6 and not rejected.value.retryable

    await client.submit_rate_limit_challenge("challenge-token-1", "signalcaptcha://solved")
    await client.send(AMAL, "eins")
    assert [m.text for m in amal.bot_messages()] == ["eins"]


async def test_other_failures_are_retryable_unless_the_request_is_wrong(
    daemon: FakeSignalDaemon, client: SignalRPC
) -> None:
    daemon.user(AMAL, "Amal")
    daemon.network_failure()
    with pytest.raises(SignalError) as network:
        await client.send(AMAL, "Hallo")
    assert type(network.value) is SignalError
    assert network.value.code == -1 and network.value.retryable

    daemon.inject("send", -3, "Failed to send message: IOException")
    with pytest.raises(SignalError) as io:
        await client.send(AMAL, "Hallo")
    assert type(io.value) is SignalError and io.value.retryable

    with pytest.raises(SignalError) as malformed:
        await client.send(AMAL, "Hallo", text_styles=["0:5:SHOUTING"])
    assert type(malformed.value) is SignalError and not malformed.value.retryable

    with pytest.raises(SignalError) as unknown:
        await client.call("noSuchCommand")
    assert unknown.value.code == -32601 and not unknown.value.retryable

    with pytest.raises(SignalError) as missing:
        await client.get_attachment("SgnlAtt999999.jpg")
    assert missing.value.code == -1 and not missing.value.retryable

    await daemon.stop()
    with pytest.raises(SignalError) as down:
        await client.send(AMAL, "Hallo")
    assert type(down.value) is SignalError
    assert down.value.code is None and down.value.retryable


async def test_the_daemon_answers_like_signal_cli_over_http(daemon: FakeSignalDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{daemon.url}/api/v1/rpc") as response:
            assert response.status == 405
        async with http.post(f"{daemon.url}/api/v1/rpc", data=b"{}") as response:
            assert response.status == 415
        notification = {"jsonrpc": "2.0", "method": "version"}
        async with http.post(f"{daemon.url}/api/v1/rpc", json=notification) as response:
            assert response.status == 201
        async with http.post(f"{daemon.url}/api/v1/rpc", json={"jsonrpc": "2.0"}) as response:
            body = await response.json()
        assert body == {
            "jsonrpc": "2.0",
            "error": {"code": -32600, "message": "method field must be set", "data": None},
            "id": None,
        }
        empty = {"jsonrpc": "2.0", "id": 7, "method": "send", "params": {"recipient": AMAL}}
        daemon.user(AMAL, "Amal")
        async with http.post(f"{daemon.url}/api/v1/rpc", json=empty) as response:
            body = await response.json()
        assert body["id"] == 7 and body["error"]["code"] == -1
        daemon.unregister(AMAL)
        send = {**empty, "params": {"recipient": AMAL, "message": "x"}}
        async with http.post(f"{daemon.url}/api/v1/rpc", json=send) as response:
            error = (await response.json())["error"]
        [result] = error["data"]["response"]["results"]
        assert result["type"] == "UNREGISTERED_FAILURE"
        assert result["recipientAddress"] == {
            "uuid": daemon.user(AMAL).uuid,
            "number": AMAL,
            "username": None,
        }


async def test_what_was_not_written_when_the_bot_hung_up_comes_with_the_next_stream(
    daemon: FakeSignalDaemon,
) -> None:
    amal = daemon.user(AMAL, "Amal")
    first = SignalRPC(daemon.url, BOT)
    events = first.events()
    await amal.send("eins")
    assert (await next_event(events)).envelope["dataMessage"]["message"] == "eins"
    await events.aclose()
    await first.close()
    await daemon.wait_until(lambda: daemon.streams == 0)
    await amal.send("zwei")
    assert daemon.pending == 1

    async with SignalRPC(daemon.url, BOT) as second:
        again = second.events()
        try:
            assert (await next_event(again)).envelope["dataMessage"]["message"] == "zwei"
        finally:
            await again.aclose()
