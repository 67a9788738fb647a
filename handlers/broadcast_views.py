"""What the bot says about broadcasts: composing, the preview, the copy, the progress."""

from __future__ import annotations

import datetime as dt

from bot.config import CityConfig
from bot.domain.broadcasts import Broadcast, BroadcastDraft
from bot.domain.mailings import Audience, Mailing, Progress
from bot.i18n import LANGUAGES, Texts, language_name
from bot.services.broadcasts import Step
from handlers.actions import DATE, NUMBER, Actions
from handlers.port import Choice, Choices, Screen
from handlers.views import day_and_time, day_buttons, grid, time_buttons

__all__ = [
    "BROADCAST",
    "BROADCAST_LANGUAGE",
    "NEWS",
    "ask_audience",
    "ask_day",
    "ask_message",
    "ask_time",
    "ask_translation",
    "copy",
    "preview",
    "report",
]

SEND_TIMES = (
    "08:00",
    "09:00",
    "10:00",
    "12:00",
    "14:00",
    "16:00",
    "17:00",
    "18:00",
    "19:00",
    "20:00",
)

#: The coordinator's choices while composing and sending (``bc:…``). Which days *send later*
#: offers depends on today: the handler checks a ``day`` against them.
BROADCAST = Actions(
    "bc",
    {
        **dict.fromkeys(("new", "discard", "translate", "send", "send_yes", "later"), ()),
        "aud": (Audience.CHOOSABLE,),
        "tr": (LANGUAGES,),
        "goto": ((Step.MESSAGE, Step.AUDIENCE, Step.PREVIEW, Step.DAY),),
        "day": (DATE,),
        "time": ({value.replace(":", "") for value in SEND_TIMES},),
        "cancel": (NUMBER,),
        "resend": (NUMBER,),
    },
)
#: One language as the audience: ``bc:aud:language:<code>``.
BROADCAST_LANGUAGE = Actions("bc", {"aud": ("language", LANGUAGES)})
#: Leaving broadcasts and coming back, on any copy.
NEWS = Actions("news", {"on": (), "off": ()})
NEWS_OFF = NEWS("off")
NEWS_ON = NEWS("on")


def _discard_row(t: Texts) -> tuple[Choice, ...]:
    return (BROADCAST.choice(t.gettext("🗑 Discard"), "discard"),)


def _back(t: Texts, step: str) -> tuple[Choice, ...]:
    return (BROADCAST.choice(t.gettext("⬅️ Back"), "goto", step),)


def audience_label(t: Texts, audience: Audience) -> str:
    """Who an audience is, in words."""
    if audience.name == "lotsen":
        return t.gettext("all Lotsen")
    if audience.name == "everyone":
        return t.gettext("everyone who uses the bot")
    if audience.name == "waitlist":
        return t.gettext("the training waiting list")
    return t.gettext(
        "everyone whose language is {language}", language=language_name(str(audience.param))
    )


def ask_message(t: Texts) -> Screen:
    """Step 1: the message itself."""
    text = t.gettext(
        "<b>📢 New broadcast</b>\n\n"
        "Send me the message: a text, or a photo or document with a caption. "
        "Formatting such as bold is kept."
    )
    return Screen(text, (_discard_row(t),))


def message_rejected(t: Texts, limit: int) -> str:
    """The message was empty, too long or of a kind that cannot be broadcast."""
    return t.gettext(
        "Please send a text (at most {limit} characters), or a photo or document with a "
        "short caption.",
        limit=t.number(limit),
    )


def ask_audience(t: Texts, sizes: dict[str, int]) -> Screen:
    """Step 2: who gets it, with the number of recipients on each choice."""
    audiences = tuple(
        (
            BROADCAST.choice(
                f"{audience_label(t, Audience(name))} ({t.number(sizes.get(name, 0))})",
                "aud",
                name,
            ),
        )
        for name in Audience.CHOOSABLE
    )
    languages = [
        BROADCAST_LANGUAGE.choice(
            f"{language_name(code)} ({t.number(sizes.get(f'language:{code}', 0))})",
            "aud",
            "language",
            code,
        )
        for code in LANGUAGES
    ]
    return Screen(
        t.gettext("<b>Who should receive it?</b> Or choose one language:"),
        (*audiences, *grid(languages, 2), _discard_row(t)),
    )


def copy(t: Texts, city: CityConfig, broadcast: Broadcast) -> Screen:
    """The copy a recipient gets: a header, a note if untranslated, the text, *no more news*."""
    body, translated = broadcast.text_for(t.language)
    lines = [t.gettext("📢 <b>News from {programme}</b>", programme=city.programme)]
    if not translated:
        lines.append(
            t.gettext(
                "<i>There is no translation into your language yet; "
                "this is the original ({language}).</i>",
                language=language_name(broadcast.language),
            )
        )
    text = "\n".join(lines)
    if body:
        text += "\n\n" + body  # stored in the conversation's markup, escaped when received
    return Screen(text, ((NEWS.choice(t.gettext("🔕 No more news"), "off"),),))


def news_off(t: Texts) -> Screen:
    """After leaving broadcasts."""
    return Screen(
        t.gettext("🔕 You will not receive news any more. You can change your mind here."),
        ((NEWS.choice(t.gettext("🔔 Receive news again"), "on"),),),
    )


def news_on(t: Texts) -> str:
    """After coming back to broadcasts."""
    return t.gettext("🔔 You will receive news again.")


def preview(
    t: Texts, city: CityConfig, draft: BroadcastDraft, recipients: int, sample: Broadcast
) -> Screen:
    """Step 3: how it will look, to whom, with the choices left."""
    assert draft.audience is not None
    audience = Audience.parse(draft.audience)
    head = [
        t.gettext("<b>Preview</b>"),
        t.ngettext(
            "It goes to {audience}: {n} person.",
            "It goes to {audience}: {n} people.",
            recipients,
            audience=audience_label(t, audience),
        ),
    ]
    if draft.media_kind:
        head.append(t.gettext("📎 With a photo or document."))
    if draft.translations:
        head.append(
            t.gettext(
                "Translations: {languages}",
                languages=t.join(language_name(c) for c in LANGUAGES if c in draft.translations),
            )
        )
    head.append(
        t.gettext(
            "Without a translation, people get the original with a short note in their language."
        )
    )
    shown = copy(t, city, sample).text
    text = "\n".join(head) + "\n\n———\n" + shown
    for code in LANGUAGES:  # each translation as written, below the original
        if code in draft.translations:
            text += f"\n\n——— {language_name(code)}\n{draft.translations[code]}"
    choices: Choices = (
        (
            BROADCAST.choice(t.gettext("📤 Send now"), "send"),
            BROADCAST.choice(t.gettext("🕑 Send later"), "later"),
        ),
        (BROADCAST.choice(t.gettext("🌐 Add a translation"), "translate"),),
        (
            BROADCAST.choice(t.gettext("✏️ Message"), "goto", Step.MESSAGE),
            BROADCAST.choice(t.gettext("👥 Recipients"), "goto", Step.AUDIENCE),
        ),
        _discard_row(t),
    )
    return Screen(text, choices)


def confirm_send(t: Texts, recipients: int) -> Screen:
    """*Send now* to many people: asked once more, with how many."""
    return Screen(
        t.ngettext(
            "Send it now to {n} person?",
            "Send it now to {n} people?",
            recipients,
            n=t.number(recipients),
        ),
        (
            (
                BROADCAST.choice(
                    t.ngettext(
                        "📤 Yes, send to {n} person",
                        "📤 Yes, send to {n} people",
                        recipients,
                        n=t.number(recipients),
                    ),
                    "send_yes",
                ),
            ),
            _back(t, Step.PREVIEW),
        ),
    )


def dropped(t: Texts) -> str:
    """Another dialog began while a broadcast was being written: the draft is gone."""
    return t.gettext("Your unfinished broadcast was discarded. /broadcast starts a new one.")


def translation_languages(t: Texts, source: str) -> Screen:
    """Which language the coordinator is about to translate into."""
    languages = [
        BROADCAST.choice(language_name(code), "tr", code) for code in LANGUAGES if code != source
    ]
    return Screen(t.gettext("Into which language?"), (*grid(languages, 2), _back(t, Step.PREVIEW)))


def ask_translation(t: Texts, language: str) -> Screen:
    """Waiting for the translation text."""
    return Screen(
        t.gettext("Send me the text in {language}.", language=language_name(language)),
        (_back(t, Step.PREVIEW),),
    )


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """Send later: which day."""
    choices = day_buttons(t, days, BROADCAST, "day")
    return Screen(
        t.gettext("<b>On which day should it go out?</b>"), (*choices, _back(t, Step.PREVIEW))
    )


def ask_time(t: Texts, day: dt.date) -> Screen:
    """Send later: at what time."""
    return Screen(
        t.gettext("<b>At what time on {day}?</b>", day=t.day(day)),
        (*time_buttons(t, SEND_TIMES, BROADCAST, "time"), _back(t, Step.DAY)),
    )


def scheduled(t: Texts, mailing: Mailing) -> Screen:
    """Confirmation of a scheduled broadcast, with a way to cancel it."""
    return Screen(
        t.gettext("🕑 The broadcast will go out on {when}.", when=day_and_time(t, mailing.send_at)),
        ((BROADCAST.choice(t.gettext("✖️ Cancel it"), "cancel", mailing.id),),),
    )


def scheduled_list(t: Texts, waiting: list[tuple[Mailing, Broadcast]]) -> Screen:
    """/broadcast: what is waiting to go out, and a choice to write a new one."""
    choices: list[tuple[Choice, ...]] = [(BROADCAST.choice(t.gettext("📢 New broadcast"), "new"),)]
    if not waiting:
        return Screen(t.gettext("No broadcast is waiting to go out."), tuple(choices))
    lines = [t.gettext("<b>Waiting to go out</b>")]
    for mailing, broadcast in waiting:
        lines.append(
            t.gettext(
                "• {when} to {audience}",
                when=t.datetime(mailing.send_at, "short"),
                audience=audience_label(t, broadcast.audience),
            )
        )
        label = t.gettext("✖️ Cancel {when}", when=t.datetime(mailing.send_at, "short"))
        choices.append((BROADCAST.choice(label, "cancel", mailing.id),))
    return Screen("\n".join(lines), tuple(choices))


def cancelled(t: Texts) -> str:
    """A scheduled broadcast was cancelled."""
    return t.gettext("The broadcast has been cancelled; nobody received it.")


def discarded(t: Texts) -> str:
    """The draft was thrown away."""
    return t.gettext("The draft has been discarded.")


def time_passed(t: Texts) -> str:
    """The chosen send time is already over."""
    return t.gettext("That time has already passed. Please choose a later one.")


def report(
    t: Texts, broadcast: Broadcast, mailing: Mailing, progress: Progress, final: bool
) -> Screen:
    """The coordinator's progress message, edited in place while it runs, then the report."""
    counts = t.gettext(
        "✅ sent {sent} · ⚠️ failed {failed} · 🚫 blocked {blocked}",
        sent=t.number(progress.sent),
        failed=t.number(progress.failed),
        blocked=t.number(progress.blocked),
    )
    audience = audience_label(t, broadcast.audience)
    if not final:
        text = "\n".join(
            [
                t.gettext("📤 <b>Sending the broadcast to {audience}…</b>", audience=audience),
                t.gettext(
                    "{done} of {total} done",
                    done=t.number(progress.finished),
                    total=t.number(progress.total),
                ),
                counts,
            ]
        )
        return Screen(text)
    lines = [
        t.gettext("✅ <b>Broadcast finished</b> ({audience})", audience=audience),
        t.ngettext("{n} recipient in all.", "{n} recipients in all.", progress.total),
        counts,
    ]
    if progress.blocked:
        lines.append(t.gettext("People who blocked the bot are skipped from now on."))
    choices: Choices = ()
    if progress.unconfirmed:
        lines.append(
            t.ngettext(
                "❔ {n} copy is unconfirmed: the bot stopped while sending it, so it may or may "
                "not have arrived. It was not sent again, so that nobody gets it twice.",
                "❔ {n} copies are unconfirmed: the bot stopped while sending them, so they may "
                "or may not have arrived. They were not sent again, so that nobody gets it twice.",
                progress.unconfirmed,
            )
        )
        again = t.gettext("Send the unconfirmed ones again")
        choices = ((BROADCAST.choice(again, "resend", mailing.id),),)
    if mailing.started_at and mailing.finished_at:
        seconds = int((mailing.finished_at - mailing.started_at).total_seconds())
        lines.append(t.ngettext("It took {n} second.", "It took {n} seconds.", seconds))
    return Screen("\n".join(lines), choices)


def resent(t: Texts, count: int) -> str:
    """After *send the unconfirmed ones again*."""
    return t.ngettext("{n} copy is being sent again.", "{n} copies are being sent again.", count)
