"""What the bot says about help requests: the questionnaire, offers, cases, reminders."""

from __future__ import annotations

import datetime as dt
import re

from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.requests import CLOSED_STATES, Request, Status, Step
from bot.domain.topics import TOPICS
from bot.i18n import LANGUAGES, Texts, language_name
from handlers.actions import DATE, NUMBER, Actions, Part, indices
from handlers.views import (
    MENU_REQUEST,
    Choice,
    Choices,
    Screen,
    button,
    day_buttons,
    grid,
    home_button,
    time_buttons,
)

__all__ = [
    "CASE",
    "COORD",
    "LOTSE",
    "OFFER",
    "REQ",
    "ask_actions",
    "ask_day",
    "ask_description",
    "ask_district",
    "ask_languages",
    "ask_name",
    "ask_place",
    "ask_time",
    "ask_topic",
    "profile_actions",
    "status_label",
    "summary",
]

TIMES = ("08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00")
HOURS = ("1", "2", "3", "4", "6", "8")
#: What the buttons offer (handlers accept nothing else).
FEEDBACK = ("good", "ok", "bad")
PROFILE_SECTIONS = ("lang", "dist", "topic", "max", "pause", "quiet")
MAX_OPEN = ("1", "2", "3", "4", "5", "8")
PAUSE_DAYS = ("7", "14", "28")
QUIET_HOURS = ("22-7", "20-8", "18-9")
EDITABLE = (
    Step.TOPIC,
    Step.DESCRIPTION,
    Step.LANGUAGES,
    Step.DISTRICT,
    Step.DAY,
    Step.PLACE,
    Step.NAME,
)

#: The questionnaire's actions (``ask:<what>[:<value>]``) that are the same in every city: a day of
#: the calendar or flexible (whether the day is in the calendar, the service checks), a time
#: as ``HHMM`` or none, the name the messenger knows (``telegram``, as sent before).
_ASK_STEPS: dict[str, tuple[Part, ...]] = {
    "stop": (),
    "lang": (LANGUAGES,),
    "langs_done": (),
    "day": (re.compile(rf"flex|{DATE.pattern}"),),
    "time": (("none", *(value.replace(":", "") for value in TIMES)),),
    "place": ("skip",),
    "name": ("telegram",),
    "edit": (EDITABLE,),
    "confirm": (),
}

#: Writes the questionnaire's steps that do not depend on the city.
_ASK = Actions("ask", _ASK_STEPS)


def ask_actions(city: CityConfig) -> Actions:
    """Every action of the questionnaire: the steps above, and the city's topics and Stadtteile
    (a Stadtteil by its position in the city's list)."""
    return Actions(
        "ask", {**_ASK_STEPS, "topic": (city.topics,), "district": (indices(city.districts),)}
    )


#: The person's own requests in /status: cancel one (asked first), or keep it.
REQ = Actions("req", {"keep": (), "cancel": (NUMBER,), "cancel_yes": (NUMBER,)})

#: The coordinators' choices: approve or reject an application (by the applicant's person
#: id), assign a request to a Lotse by hand.
COORD = Actions("coord", {"approve": (NUMBER,), "reject": (NUMBER,), "assign": (NUMBER, NUMBER)})


def _cancel_row(t: Texts) -> tuple[Choice, ...]:
    return (_ASK.choice(t.gettext("✖️ Stop asking"), "stop"),)


def topic_label(t: Texts, topic: str | None) -> str:
    """The translated label of a topic key."""
    return t.gettext(TOPICS[topic]) if topic in TOPICS else "–"


def languages_label(t: Texts, codes: tuple[str, ...] | frozenset[str]) -> str:
    """Language names, each in its own language, listed in ``t``'s."""
    return t.join(language_name(code) for code in LANGUAGES if code in codes)


def when_label(t: Texts, request: Request) -> str:
    """Day and time of the appointment, or *flexible*."""
    if request.day is None:
        return t.gettext("flexible")
    if request.time is None:
        return t.gettext("{day}, time still open", day=t.day(request.day))
    return t.gettext("{day} at {time}", day=t.day(request.day), time=t.clock(request.time))


# ------------------------------------------------------------------- questionnaire


def ask_topic(t: Texts, city: CityConfig) -> Screen:
    """Step 1: what the help is needed for."""
    ask = ask_actions(city)
    rows = [(ask.choice(topic_label(t, key), "topic", key),) for key in city.topics]
    return Screen(t.gettext("<b>What do you need help with?</b>"), (*rows, _cancel_row(t)))


def ask_description(t: Texts) -> Screen:
    """Step 2: the matter, as text, voice note or photo, with the privacy hint."""
    text = t.gettext(
        "<b>What is it about?</b>\n\n"
        "Write a few words, send a voice note, or send a photo of the letter.\n\n"
        "🔒 Please do not send health or residence details unless they are needed. "
        "Your Lotse will ask if they need more."
    )
    return Screen(text, (_cancel_row(t),))


def ask_languages(t: Texts, request: Request) -> Screen:
    """Step 3: languages the person speaks (multi-select, preset with their language)."""
    choices = [
        _ASK.choice(("✅ " if c in request.languages else "") + language_name(c), "lang", c)
        for c in LANGUAGES
    ]
    return Screen(
        t.gettext("<b>Which languages do you speak?</b> Tap all that apply, then continue."),
        (
            *grid(choices, 2),
            (_ASK.choice(t.gettext("Continue ➡️"), "langs_done"),),
            _cancel_row(t),
        ),
    )


def ask_district(t: Texts, city: CityConfig) -> Screen:
    """Step 4: the Stadtteil."""
    ask = ask_actions(city)
    choices = [ask.choice(name, "district", i) for i, name in enumerate(city.districts)]
    return Screen(
        t.gettext("<b>In which part of {city} do you live?</b>", city=city.city),
        (*grid(choices, 2), _cancel_row(t)),
    )


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """Step 5: a day from the calendar, or flexible."""
    return Screen(
        t.gettext("<b>When is the appointment?</b> Choose a day."),
        (
            *day_buttons(t, days, _ASK, "day"),
            (_ASK.choice(t.gettext("🤷 Flexible / no fixed date"), "day", "flex"),),
            _cancel_row(t),
        ),
    )


def ask_time(t: Texts) -> Screen:
    """Step 6: the time of day."""
    return Screen(
        t.gettext("<b>At what time?</b>"),
        (
            *time_buttons(t, TIMES, _ASK, "time"),
            (_ASK.choice(t.gettext("Time not known yet"), "time", "none"),),
            _cancel_row(t),
        ),
    )


def ask_place(t: Texts) -> Screen:
    """Step 7: where to meet (free text or skip)."""
    text = t.gettext(
        "<b>Where is the appointment?</b>\nFor example: Jobcenter, Halterner Straße. "
        "Write the place, or skip."
    )
    return Screen(text, ((_ASK.choice(t.gettext("Skip ➡️"), "place", "skip"),), _cancel_row(t)))


def ask_name(t: Texts, suggestion: str | None) -> Screen:
    """Step 8: the first name the Lotse should use (the one the messenger knows, as a choice)."""
    rows: list[tuple[Choice, ...]] = []
    if suggestion:
        rows.append((_ASK.choice(suggestion[:40], "name", "telegram"),))
    rows.append(_cancel_row(t))
    return Screen(
        t.gettext("<b>How should your Lotse address you?</b> Write your first name."),
        tuple(rows),
    )


def summary(t: Texts, city: CityConfig, request: Request, anonymous: bool) -> str:
    """The request in a few lines; ``anonymous`` leaves out the name (for offers)."""
    lines = [
        t.gettext("📌 Topic: {topic}", topic=topic_label(t, request.topic)),
        t.gettext("🗣 Languages: {languages}", languages=languages_label(t, request.languages)),
        t.gettext("📍 Stadtteil: {district}", district=request.district or "–"),
        t.gettext("🗓 When: {when}", when=when_label(t, request)),
    ]
    if request.place:
        lines.append(t.gettext("🏢 Place: {place}", place=request.place))
    if not anonymous and request.first_name:
        lines.insert(0, t.gettext("👤 Name: {name}", name=request.first_name))
    if request.description:
        lines.append(t.gettext("📝 About: {text}", text=request.description))
    if request.media_kind == "voice":
        lines.append(t.gettext("🎤 A voice note is attached."))
    elif request.media_kind in ("photo", "document"):
        lines.append(t.gettext("📎 A photo or document is attached."))
    return "\n".join(lines)


def confirm(t: Texts, city: CityConfig, request: Request) -> Screen:
    """Step 9: the summary with *send* and *change*."""
    text = (
        t.gettext("<b>Please check your request:</b>") + "\n\n" + summary(t, city, request, False)
    )
    choices = (
        (_ASK.choice(t.gettext("✅ Send request"), "confirm"),),
        (
            _ASK.choice(t.gettext("✏️ Topic"), "edit", Step.TOPIC),
            _ASK.choice(t.gettext("✏️ Text"), "edit", Step.DESCRIPTION),
        ),
        (
            _ASK.choice(t.gettext("✏️ Languages"), "edit", Step.LANGUAGES),
            _ASK.choice(t.gettext("✏️ Stadtteil"), "edit", Step.DISTRICT),
        ),
        (
            _ASK.choice(t.gettext("✏️ Date"), "edit", Step.DAY),
            _ASK.choice(t.gettext("✏️ Place"), "edit", Step.PLACE),
        ),
        (_ASK.choice(t.gettext("✏️ Name"), "edit", Step.NAME),),
        _cancel_row(t),
    )
    return Screen(text, choices)


def sent(t: Texts) -> Screen:
    """After confirming: what happens next."""
    text = t.gettext(
        "✅ Thank you! Your request has been sent to Lotsen who speak your language. "
        "As soon as someone accepts, I will tell you here. You can see your requests with /status."
    )
    return Screen(text, ((home_button(t),),))


def stopped(t: Texts) -> str:
    """The person stopped asking; nothing was sent."""
    return t.gettext("Your request was not sent. You can start again from the menu at any time.")


def description_missing(t: Texts) -> str:
    """Step 2 got something that is neither text nor a voice note nor a photo."""
    return t.gettext("Please write a few words, send a voice note or a photo.")


def name_missing(t: Texts) -> str:
    """Step 8 got no usable name."""
    return t.gettext("Please write your first name.")


# --------------------------------------------------------------------- /status


def status_label(t: Texts, status: Status) -> str:
    """A request's state in plain words."""
    labels = {
        Status.OPEN: t.gettext("looking for a Lotse"),
        Status.OFFERED: t.gettext("looking for a Lotse"),
        Status.ACCEPTED: t.gettext("a Lotse accompanies you"),
        Status.DONE: t.gettext("done"),
        Status.CANCELLED: t.gettext("cancelled"),
        Status.EXPIRED: t.gettext("no Lotse found in time"),
        Status.DRAFT: t.gettext("not sent yet"),
    }
    return labels[status]


def status_list(t: Texts, requests: list[Request]) -> Screen:
    """The person's requests with a cancel button for each that is still running."""
    if not requests:
        return Screen(
            t.gettext("You have no requests yet."),
            ((button(t.gettext("🤝 I need a Lotse"), MENU_REQUEST),),),
        )
    lines = [t.gettext("<b>Your requests</b>")]
    rows: list[tuple[Choice, ...]] = []
    for request in requests:
        lines.append(
            t.gettext(
                "#{number} {topic}: {state}",
                number=str(request.id),
                topic=topic_label(t, request.topic),
                state=status_label(t, request.status),
            )
        )
        if request.status in (Status.OPEN, Status.OFFERED, Status.ACCEPTED):
            label = t.gettext("✖️ Cancel #{number}", number=str(request.id))
            rows.append((REQ.choice(label, "cancel", request.id),))
    return Screen("\n".join(lines), tuple(rows))


def cancel_question(t: Texts, request: Request) -> Screen:
    """Are you sure?"""
    return Screen(
        t.gettext("Do you really want to cancel request #{number}?", number=str(request.id)),
        (
            (REQ.choice(t.gettext("Yes, cancel it"), "cancel_yes", request.id),),
            (REQ.choice(t.gettext("No, keep it"), "keep"),),
        ),
    )


def nothing_changed(t: Texts) -> str:
    """After *No, keep it*."""
    return t.gettext("Alright, nothing was changed.")


def cancelled(t: Texts, request: Request) -> str:
    """Confirmation of a cancellation."""
    return t.gettext("Request #{number} has been cancelled.", number=str(request.id))


# ---------------------------------------------------------------------- offers


def offer(t: Texts, city: CityConfig, request: Request) -> Screen:
    """An anonymous summary offered to a Lotse."""
    text = (
        t.gettext("🔔 <b>New request #{number}</b>", number=str(request.id))
        + "\n\n"
        + summary(t, city, request, anonymous=True)
    )
    return Screen(
        text,
        (
            (button(t.gettext("✅ Accept"), OFFER("accept", request.id)),),
            (button(t.gettext("Not this time"), OFFER("decline", request.id)),),
        ),
    )


def offer_gone(t: Texts) -> str:
    """An offer that someone else took (or that ended)."""
    return t.gettext("This request has already been taken or is no longer open. Thank you!")


def offer_declined(t: Texts) -> str:
    """After *Not this time*."""
    return t.gettext("Alright, thank you. The request goes to someone else.")


def case_for_lotse(t: Texts, city: CityConfig, request: Request) -> Screen:
    """What the Lotse sees after accepting: the details and what to do."""
    text = (
        t.gettext("✅ <b>You accompany request #{number}.</b>", number=str(request.id))
        + "\n\n"
        + summary(t, city, request, anonymous=False)
        + "\n\n"
        + t.gettext(
            "To write to {name}, reply to this message (or to any message of this case). "
            "Your messages are passed on by the bot; your number stays private.",
            name=request.first_name or "",
        )
    )
    return Screen(text, case_buttons(t, request))


def case_buttons(t: Texts, request: Request) -> Choices:
    """Done / hand back, for the Lotse's case messages."""
    return (
        (button(t.gettext("✅ Mark as done"), CASE("done", request.id)),),
        (button(t.gettext("↩️ Hand back"), CASE("back", request.id)),),
    )


def accepted_for_person(t: Texts, request: Request, lotse_name: str) -> str:
    """The person learns who accompanies them (first name only) and what happens next."""
    return t.gettext(
        "🎉 Good news: <b>{name}</b> will accompany you (request #{number}).\n\n"
        "{name} will write to you here soon. You can also write here: your messages are "
        "passed on to {name}, and your phone number stays private.",
        name=lotse_name,
        number=str(request.id),
    )


def taking_longer(t: Texts, request: Request) -> str:
    """Honest news that finding someone takes longer."""
    return t.gettext(
        "Finding a Lotse for request #{number} is taking longer than usual. "
        "The coordination office now looks at it personally. We have not forgotten you.",
        number=str(request.id),
    )


def expired(t: Texts, request: Request, city: CityConfig) -> str:
    """The date passed without a Lotse."""
    return t.gettext(
        "Unfortunately we could not find a Lotse in time for request #{number}. "
        "Please contact the coordination office: {email}. You can also ask again from the menu.",
        number=str(request.id),
        email=city.contact.email,
    )


def cancelled_for_lotse(t: Texts, request: Request) -> str:
    """The person cancelled a case the Lotse had."""
    return t.gettext(
        "Request #{number} was cancelled by the person. Thank you for your help!",
        number=str(request.id),
    )


def handed_back_for_person(t: Texts, request: Request) -> str:
    """The Lotse could not continue."""
    return t.gettext(
        "Your Lotse cannot continue with request #{number}. Don't worry: "
        "we are looking for another Lotse now.",
        number=str(request.id),
    )


def hours_question(t: Texts, request: Request) -> Screen:
    """How many hours did it take (for the volunteer's record and the city's report)?"""
    hours = tuple(button(h, CASE("hours", request.id, h)) for h in HOURS)
    return Screen(
        t.gettext("Thank you! How many hours did case #{number} take?", number=str(request.id)),
        (hours, (button(t.gettext("Skip"), CASE("hours", request.id, "0")),)),
    )


def case_done_feedback(t: Texts, request: Request) -> Screen:
    """After marking a case done: thanks, and the Lotse's own one-tap feedback."""
    text = case_done(t, request) + "\n" + t.gettext("How did it go for you?")
    return Screen(text, _feedback_buttons(request))


def _feedback_buttons(request: Request) -> Choices:
    return (
        tuple(
            button(face, f"fb:{request.id}:{answer}")
            for face, answer in zip(("👍", "🙂", "👎"), FEEDBACK, strict=True)
        ),
    )


def case_done(t: Texts, request: Request) -> str:
    """After marking a case done."""
    return t.gettext("Case #{number} is closed. Thank you for your help!", number=str(request.id))


def hand_back_question(t: Texts, request: Request) -> Screen:
    """Are you sure you want to hand the case back?"""
    return Screen(
        t.gettext(
            "Hand back case #{number}? It will be offered to other Lotsen.", number=str(request.id)
        ),
        (
            (button(t.gettext("Yes, hand it back"), CASE("back_yes", request.id)),),
            (REQ.choice(t.gettext("No, keep it"), "keep"),),
        ),
    )


def handed_back(t: Texts, request: Request) -> str:
    """Confirmation to the Lotse."""
    return t.gettext("Case #{number} has been handed back.", number=str(request.id))


def feedback_question(t: Texts, request: Request) -> Screen:
    """After *done*: one tap."""
    return Screen(
        t.gettext(
            "Your Lotse has closed request #{number}. How was the help?", number=str(request.id)
        ),
        _feedback_buttons(request),
    )


def feedback_thanks(t: Texts) -> str:
    """After the feedback tap."""
    return t.gettext("Thank you for your feedback!")


def reminder(t: Texts, request: Request, other_name: str) -> Screen:
    """The appointment reminder with attendance buttons."""
    text = t.gettext(
        "⏰ <b>Reminder:</b> appointment with {name} on {when}.",
        name=other_name,
        when=when_label(t, request),
    )
    if request.place:
        text += "\n" + t.gettext("🏢 Place: {place}", place=request.place)
    return Screen(
        text,
        (
            (
                button(t.gettext("👍 I'll be there"), f"att:{request.id}:yes"),
                button(t.gettext("I can't come"), f"att:{request.id}:no"),
            ),
        ),
    )


def attendance_news(t: Texts, request: Request, name: str, coming: bool) -> str:
    """Tell the other side whether someone comes."""
    if coming:
        return t.gettext(
            "👍 {name} confirmed the appointment (#{number}).", name=name, number=str(request.id)
        )
    return t.gettext(
        "⚠️ {name} cannot come to the appointment (#{number}). Please agree on "
        "a new date by writing here.",
        name=name,
        number=str(request.id),
    )


def attendance_noted(t: Texts) -> str:
    """After pressing an attendance button."""
    return t.gettext("Thank you, noted.")


def relayed(t: Texts, request: Request, sender: str, text: str | None) -> str:
    """A relayed message, marked with the case."""
    if not text:
        return t.gettext("💬 #{number} · {name}:", number=str(request.id), name=sender)
    return t.gettext(
        "💬 #{number} · {name}:\n{text}", number=str(request.id), name=sender, text=text
    )


def relay_needs_reply(t: Texts) -> str:
    """A Lotse with several cases wrote without replying to one."""
    return t.gettext(
        "You have several cases. Please reply to a message of the case you mean, "
        "so I know where to send this."
    )


def relay_sent(t: Texts, request: Request, recipient: str) -> str:
    """Confirmation that a message went through, and to whom: the sender sees where it went."""
    return t.gettext(
        "✓ Passed on to {name} (case #{number}).", name=recipient, number=str(request.id)
    )


def reply_refused(t: Texts, city: CityConfig, request: Request, person_id: int) -> str:
    """A reply to a message of a case the sender can no longer write in: nothing was passed on."""
    office = _office(city)
    number = str(request.id)
    if request.status in CLOSED_STATES:
        return t.gettext(
            "Case #{number} is closed, so this message was not passed on to anyone. "
            "For questions about it, please contact the coordination office: {office}",
            number=number,
            office=office,
        )
    if person_id == request.person_id:  # handed back, or not accepted yet
        return t.gettext(
            "Request #{number} has no Lotse at the moment, so your message was not passed on "
            "to anyone. We are looking for a Lotse and will tell you here. For questions, "
            "please contact the coordination office: {office}",
            number=number,
            office=office,
        )
    return t.gettext(
        "Case #{number} is no longer yours, so this message was not passed on to anyone. "
        "For questions about it, please contact the coordination office: {office}",
        number=number,
        office=office,
    )


def reply_unknown(t: Texts) -> str:
    """A reply to a message that belongs to no case, from someone with a running case."""
    return t.gettext(
        "The message you replied to does not belong to one of your cases, so I did not pass "
        "this on. Please reply to a message of the case you mean, or write without replying."
    )


def _office(city: CityConfig) -> str:
    """How to reach the coordination office, as other texts show it."""
    return ", ".join(
        part for part in (city.contact.office, city.contact.email, city.contact.phone) if part
    )


# ----------------------------------------------------------------- Lotse side


def lotse_menu(t: Texts, lotse: Lotse, cases: list[Request]) -> Screen:
    """The Lotse's own menu."""
    text = (
        t.gettext("<b>Hello {name}!</b>", name=lotse.first_name)
        + "\n"
        + t.ngettext("You have {n} open case.", "You have {n} open cases.", len(cases))
    )
    choices = (
        (button(t.gettext("📂 My cases"), LOTSE("cases")),),
        (button(t.gettext("⚙️ My profile"), LOTSE("profile")),),
        (home_button(t),),
    )
    return Screen(text, choices)


def not_a_lotse(t: Texts) -> Screen:
    """Someone without a Lotse profile pressed *I am a Lotse*."""
    text = t.gettext(
        "To receive requests, you need an invitation from the coordination office: "
        "open the invitation link, or send /start followed by your code.\n\n"
        "Already trained as a Lotse but no code? Ask for approval here."
    )
    return Screen(text, ((button(t.gettext("🙋 Ask for approval"), LOTSE("apply")),),))


def pending(t: Texts) -> str:
    """The application waits for a coordinator."""
    return t.gettext(
        "Thank you! The coordination office will check your request. You will get a message here."
    )


def welcome_lotse(t: Texts) -> str:
    """After joining with a code or being approved."""
    return t.gettext(
        "🎉 Welcome, you are now registered as a Lotse! Please check your "
        "profile: languages, Stadtteile, topics and how many cases you can take."
    )


def invite_invalid(t: Texts) -> str:
    """An invitation code that is unknown or used."""
    return t.gettext(
        "This invitation code is not valid or has already been used. "
        "Please ask the coordination office for a new one."
    )


def profile(t: Texts, city: CityConfig, lotse: Lotse) -> Screen:
    """The profile overview with one button per section."""
    everywhere = t.gettext("all")
    lines = [
        t.gettext("<b>Your profile</b>"),
        t.gettext("🗣 Languages: {languages}", languages=languages_label(t, lotse.languages)),
        t.gettext(
            "📍 Stadtteile: {districts}", districts=t.join(sorted(lotse.districts)) or everywhere
        ),
        t.gettext(
            "📌 Topics: {topics}",
            topics=t.join(topic_label(t, k) for k in city.topics if k in lotse.topics)
            or everywhere,
        ),
        t.gettext("📂 At most {n} open cases", n=lotse.max_open),
    ]
    if lotse.paused_until is not None:
        lines.append(t.gettext("⏸ Paused until {date}", date=t.date(lotse.paused_until)))
    if lotse.quiet_from is not None and lotse.quiet_to is not None:
        lines.append(
            t.gettext(
                "🌙 No offers from {start}:00 to {end}:00",
                start=str(lotse.quiet_from),
                end=str(lotse.quiet_to),
            )
        )
    choices = (
        (
            button(t.gettext("🗣 Languages"), "prof:show:lang"),
            button(t.gettext("📍 Stadtteile"), "prof:show:dist"),
        ),
        (
            button(t.gettext("📌 Topics"), "prof:show:topic"),
            button(t.gettext("📂 Cases at most"), "prof:show:max"),
        ),
        (
            button(t.gettext("⏸ Pause"), "prof:show:pause"),
            button(t.gettext("🌙 Quiet hours"), "prof:show:quiet"),
        ),
        (home_button(t),),
    )
    return Screen("\n".join(lines), choices)


def profile_section(t: Texts, city: CityConfig, lotse: Lotse, section: str) -> Screen:
    """One editable section of the profile."""
    prof = profile_actions(city)
    back = (button(t.gettext("✓ Done"), LOTSE("profile")),)
    rows: Choices
    if section == "lang":
        buttons = [
            button(("✅ " if c in lotse.languages else "") + language_name(c), prof("lang", c))
            for c in LANGUAGES
        ]
        rows = grid(buttons, 2)
        title = t.gettext("Which languages do you speak?")
    elif section == "dist":
        buttons = [
            button(("✅ " if d in lotse.districts else "") + d, prof("dist", i))
            for i, d in enumerate(city.districts)
        ]
        rows = grid(buttons, 2)
        title = t.gettext("In which Stadtteile can you help? None chosen means all.")
    elif section == "topic":
        buttons = [
            button(("✅ " if k in lotse.topics else "") + topic_label(t, k), prof("topic", k))
            for k in city.topics
        ]
        rows = tuple((b,) for b in buttons)
        title = t.gettext("Which topics can you help with? None chosen means all.")
    elif section == "max":
        buttons = [
            button(("✅ " if n == str(lotse.max_open) else "") + n, prof("max", n))
            for n in MAX_OPEN
        ]
        rows = (tuple(buttons),)
        title = t.gettext("How many open cases can you take at the same time?")
    elif section == "pause":
        rows = (
            tuple(
                button(t.ngettext("{n} week", "{n} weeks", int(days) // 7), prof("pause", days))
                for days in PAUSE_DAYS
            ),
            (button(t.gettext("▶️ No pause"), prof("pause", "off")),),
        )
        title = t.gettext("Pause offers (e.g. for holidays):")
    else:
        rows = (
            tuple(
                button("–".join(h.zfill(2) for h in hours.split("-")), prof("quiet", hours))
                for hours in QUIET_HOURS
            ),
            (button(t.gettext("Any time"), prof("quiet", "off")),),
        )
        title = t.gettext("When should I not send you offers?")
    return Screen(title, (*rows, back))


def my_cases(t: Texts, city: CityConfig, cases: list[Request]) -> list[tuple[int | None, Screen]]:
    """One message per open case (with its number), each with its buttons."""
    if not cases:
        return [(None, Screen(t.gettext("You have no open cases.")))]
    return [
        (
            c.id,
            Screen(
                t.gettext("<b>Case #{number}</b>", number=str(c.id))
                + "\n"
                + summary(t, city, c, anonymous=False),
                case_buttons(t, c),
            ),
        )
        for c in cases
    ]


# ------------------------------------------------------------------ coordinators


def application(t: Texts, lotse: Lotse) -> Screen:
    """A person without a code asks to become a Lotse."""
    return Screen(
        t.gettext(
            "🙋 <b>{name}</b> asks to be approved as a Lotse (languages: {languages}).",
            name=lotse.first_name,
            languages=languages_label(t, lotse.languages),
        ),
        (
            (
                COORD.choice(t.gettext("✅ Approve"), "approve", lotse.person_id),
                COORD.choice(t.gettext("✖️ Reject"), "reject", lotse.person_id),
            ),
        ),
    )


def application_decided(t: Texts, name: str, approved: bool) -> str:
    """Shown in place of the approval buttons."""
    if approved:
        return t.gettext("✅ {name} is now a Lotse.", name=name)
    return t.gettext("✖️ The application of {name} was rejected.", name=name)


def rejected(t: Texts, city: CityConfig) -> str:
    """Told to an applicant who was not approved."""
    return t.gettext(
        "Your request to become a Lotse was not approved. For questions, "
        "please contact the coordination office: {email}",
        email=city.contact.email,
    )


def escalation(
    t: Texts, city: CityConfig, request: Request, reason: str, lotsen: list[Lotse]
) -> Screen:
    """A request handed to the coordinators, with buttons to assign someone by hand."""
    if reason == "no_language":
        head = t.gettext(
            "⚠️ No Lotse shares a language with request #{number}; "
            "German-speaking Lotsen were asked.",
            number=str(request.id),
        )
    elif reason == "cannot_come":
        head = t.gettext(
            "⚠️ Someone cannot come to the appointment of case #{number}.", number=str(request.id)
        )
        lotsen = []
    else:
        head = t.gettext("⚠️ Nobody has accepted request #{number} yet.", number=str(request.id))
    text = head + "\n\n" + summary(t, city, request, anonymous=True)
    choices = tuple(
        (
            COORD.choice(
                t.gettext("Assign to {name}", name=lotse.first_name),
                "assign",
                request.id,
                lotse.person_id,
            ),
        )
        for lotse in lotsen[:8]
    )
    return Screen(text, choices)


def assigned(t: Texts, request: Request, name: str) -> str:
    """After a manual assignment."""
    return t.gettext(
        "✅ Request #{number} was assigned to {name}.", number=str(request.id), name=name
    )


def overview(t: Texts, requests: list[Request]) -> str:
    """Open, stuck and expired requests for coordinators."""
    if not requests:
        return t.gettext("No open or expired requests.")
    lines = [t.gettext("<b>Requests waiting for a Lotse</b>")]
    for request in requests:
        lines.append(
            t.gettext(
                "#{number} {topic} · {district} · {state} · round {round}",
                number=str(request.id),
                topic=topic_label(t, request.topic),
                district=request.district or "–",
                state=status_label(t, request.status),
                round=str(request.round),
            )
        )
    return "\n".join(lines)


def invites(t: Texts, links: list[str]) -> str:
    """New invitations, one link each."""
    lines = [
        t.ngettext(
            "{n} new invitation (each works once):",
            "{n} new invitations (each works once):",
            len(links),
        )
    ]
    lines += links
    return "\n".join(lines)


def not_allowed(t: Texts) -> str:
    """A command or button the person's role does not permit."""
    return t.gettext("Sorry, this is only for the coordination office.")


#: The Lotse menu's choices (``lotse:cases`` …).
LOTSE = Actions("lotse", {"cases": (), "profile": (), "apply": ()})
#: An offer's choices: ``offer:accept:<id>``, ``offer:decline:<id>``.
OFFER = Actions("offer", {"accept": (NUMBER,), "decline": (NUMBER,)})
#: A case's choices: ``case:done|back|back_yes:<id>``, ``case:hours:<id>:<hours>`` (0: skipped).
CASE = Actions(
    "case",
    {
        "done": (NUMBER,),
        "back": (NUMBER,),
        "back_yes": (NUMBER,),
        "hours": (NUMBER, ("0", *HOURS)),
    },
)


def profile_actions(city: CityConfig) -> Actions:
    """The profile's choices, ``prof:<what>:<value>``, for each part of the profile."""
    return Actions(
        "prof",
        {
            "show": (PROFILE_SECTIONS,),
            "lang": (LANGUAGES,),
            "dist": (indices(city.districts),),
            "topic": (city.topics,),
            "max": (MAX_OPEN,),
            "pause": (("off", *PAUSE_DAYS),),
            "quiet": (("off", *QUIET_HOURS),),
        },
    )
