"""What a Lotse sees: offers, their cases, the Lotse menu and the profile."""

from __future__ import annotations

from bot.config import CityConfig
from bot.domain.lotsen import Lotse
from bot.domain.requests import Request
from bot.i18n import LANGUAGES, Texts, language_name
from handlers import office_views as ov
from handlers.actions import NUMBER, Actions, indices
from handlers.request_views import REQ, feedback_choices, languages_label, summary, topic_label
from handlers.views import (
    Choices,
    Screen,
    button,
    grid,
    home_button,
)

__all__ = [
    "CASE",
    "HOURS",
    "LOTSE",
    "MAX_OPEN",
    "OFFER",
    "PAUSE_DAYS",
    "PROFILE_SECTIONS",
    "QUIET_HOURS",
    "cancelled_by_office_for_lotse",
    "cancelled_for_lotse",
    "case_buttons",
    "case_done",
    "case_done_feedback",
    "case_for_lotse",
    "hand_back_question",
    "handed_back",
    "hours_question",
    "invite_invalid",
    "lotse_menu",
    "my_cases",
    "not_a_lotse",
    "offer",
    "offer_declined",
    "offer_gone",
    "pending",
    "profile",
    "profile_actions",
    "profile_section",
    "welcome_lotse",
]


HOURS = ("1", "2", "3", "4", "6", "8")


PROFILE_SECTIONS = ("lang", "dist", "topic", "max", "pause", "quiet")


MAX_OPEN = ("1", "2", "3", "4", "5", "8")


PAUSE_DAYS = ("7", "14", "28")


QUIET_HOURS = ("22-7", "20-8", "18-9")


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
    """Done / hand back, an expense, a new date and *something is wrong*, for the Lotse's
    case messages."""
    return (
        (button(t.gettext("✅ Mark as done"), CASE("done", request.id)),),
        (button(t.gettext("↩️ Hand back"), CASE("back", request.id)),),
        (ov.expense_button(t, request), ov.move_button(t, request)),
        (ov.concern_button(t, request),),
    )


def cancelled_by_office_for_lotse(t: Texts, request: Request) -> str:
    """The office cancelled a case the Lotse had."""
    return t.gettext(
        "Request #{number} was cancelled by the coordination office. Thank you for your help!",
        number=str(request.id),
    )


def cancelled_for_lotse(t: Texts, request: Request) -> str:
    """The person cancelled a case the Lotse had."""
    return t.gettext(
        "Request #{number} was cancelled by the person. Thank you for your help!",
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
    return Screen(text, feedback_choices(request))


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
        (ov.certificate_button(t),),
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
        (button(t.gettext("🚪 Leave the programme"), LOTSE("leave")),),
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


#: The Lotse menu's choices (``lotse:cases`` …).
LOTSE = Actions("lotse", {"cases": (), "profile": (), "apply": (), "leave": (), "leave_yes": ()})


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
