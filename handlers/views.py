"""What the bot says in the first conversation: each screen as text plus buttons."""

from __future__ import annotations

from datetime import date, datetime, time

from bot.config import CityConfig
from bot.i18n import LANGUAGES, Texts, language_name, texts
from handlers.actions import Actions
from handlers.port import Choice, Choices, Screen

__all__ = [
    "Choice",
    "Choices",
    "Screen",
    "consent",
    "consent_declined",
    "greeting_picker",
    "help_text",
    "language_chosen",
    "language_picker",
    "main_menu",
    "not_understood",
    "privacy_notice",
    "welcome",
]

# Action data is sent back by the client, so it carries only short keys; handlers check them.
MENU_REQUEST = "menu:request"
MENU_QUICK = "menu:quick"
MENU_STATUS = "menu:status"
MENU_LOTSE = "menu:lotse"
MENU_BECOME = "menu:become"
MENU_STAMMTISCH = "menu:stammtisch"
MENU_OFFICE = "menu:office"
MENU_LANGUAGE = "menu:language"
MENU_PRIVACY = "menu:privacy"
MENU_HOME = "menu:home"
CONSENT_YES = "consent:yes"
CONSENT_NO = "consent:no"
CONSENT_SHOW = "consent:show"
CONSENT_WITHDRAW = "consent:withdraw"
LANGUAGE_PREFIX = "lang:"


def button(label: str, data: str) -> Choice:
    """A choice sending ``data`` (checked again on the server when chosen)."""
    return Choice(label, data)


def grid(choices: list[Choice], width: int) -> Choices:
    """Choices in rows of ``width``."""
    return tuple(tuple(choices[i : i + width]) for i in range(0, len(choices), width))


def day_buttons(t: Texts, days: list[date], actions: Actions, name: str) -> Choices:
    """A calendar: one choice per day (action ``name`` with the ISO date), three to a row."""
    return grid([actions.choice(t.short_day(day), name, day) for day in days], 3)


def time_buttons(t: Texts, times: tuple[str, ...], actions: Actions, name: str) -> Choices:
    """Times of day (``HH:MM``; action ``name`` with ``HHMM``), five to a row."""
    return grid(
        [
            actions.choice(t.clock(time.fromisoformat(value)), name, value.replace(":", ""))
            for value in times
        ],
        5,
    )


def rows(*choices: tuple[str, str]) -> Choices:
    """One choice per row, from ``(label, data)`` pairs."""
    return tuple((Choice(label, data),) for label, data in choices)


def day_and_time(t: Texts, moment: datetime) -> str:
    """A moment's day and time in the reader's language and the city's time zone."""
    local = moment.astimezone(t.timezone)
    return t.gettext("{day} at {time}", day=t.day(local.date()), time=t.clock(local.time()))


def home_button(t: Texts) -> Choice:
    """The choice back to the main menu."""
    return Choice(t.gettext("⬅️ Main menu"), MENU_HOME)


def _back(t: Texts) -> Choices:
    return ((home_button(t),),)


def welcome(t: Texts, city: CityConfig) -> str:
    """The first words: what the programme is."""
    text = t.gettext(
        "Welcome to <b>{programme}</b>!\n\n"
        "Trained volunteers, the Integrationslotsen, accompany refugees in {city} through "
        "everyday life: to the Jobcenter, the Ausländerbehörde, the doctor, school or housing "
        "office, or when a letter is hard to understand. Their help is free of charge.",
        programme=city.programme,
        city=city.city,
    )
    if city.since and city.trained:
        text += " " + t.ngettext(
            "Since {since}, {n} person has been trained for this.",
            "Since {since}, {n} people have been trained for this.",
            city.trained,
            since=str(city.since),
        )
    return text


def language_picker(t: Texts, intro: str | None = None, invite: str | None = None) -> Screen:
    """Buttons labelled with each language's own name; the current one is ticked.

    An invitation code from a ``/start <code>`` link rides along in the buttons.
    """
    prompt = t.gettext("Please choose your language:")
    text = f"{intro}\n\n{prompt}" if intro else prompt
    return Screen(text, _language_buttons(t.language, invite))


#: The languages of the greeting for people whose Telegram language the bot does not speak,
#: after the city's own: those most refugees read, or read as a second language.
GREETING_LANGUAGES = ("en", "fr", "ar", "fa", "uk", "ru")


def greeting_picker(city: CityConfig, invite: str | None = None) -> Screen:
    """The first screen for someone whose Telegram language is not shipped: one short line in
    each of a few main languages (each in its own), above the buttons of all languages."""
    codes = dict.fromkeys((city.default_language, *GREETING_LANGUAGES))
    lines = [
        texts(code, city.timezone).gettext("Welcome! Please choose your language.")
        for code in codes
    ]
    return Screen("\n".join(lines), _language_buttons(None, invite))


def _language_buttons(current: str | None, invite: str | None) -> Choices:
    suffix = f":{invite}" if invite else ""
    choices = [
        Choice(
            ("✓ " if code == current else "") + language_name(code),
            LANGUAGE_PREFIX + code + suffix,
        )
        for code in LANGUAGES
    ]
    return grid(choices, 2)


def language_chosen(t: Texts) -> str:
    """Confirmation shown in place of the language picker."""
    return t.gettext("✓ Language: {language}", language=language_name(t.language))


def consent(t: Texts, city: CityConfig) -> Screen:
    """The short consent step: what is stored, why, and how to delete it."""
    text = t.gettext(
        "<b>Your data</b>\n\n"
        "To find you a Lotse, the bot keeps how to reach you in this chat (not your phone "
        "number), your language and what you tell it. Only the coordination office of "
        "{programme} and your Lotse see it; no authority gets it. You can delete it at any "
        "time: /delete\n\n"
        "Do you agree?",
        programme=city.programme,
    )
    return Screen(
        text,
        rows(
            (t.gettext("✅ I agree"), CONSENT_YES),
            (t.gettext("Not now"), CONSENT_NO),
            (t.gettext("Read the privacy notice"), MENU_PRIVACY),
        ),
    )


def invited(t: Texts, city: CityConfig) -> str:
    """The first words for someone who opened an invitation to become a Lotse."""
    return t.gettext(
        "Welcome to <b>{programme}</b>! You have been invited to join as a Lotse.",
        programme=city.programme,
    )


def consent_for_lotse(t: Texts, city: CityConfig, invite: str) -> Screen:
    """The consent step for someone joining as a Lotse with an invitation."""
    text = t.gettext(
        "<b>Before we start: your data</b>\n\n"
        "As a Lotse, this bot stores your account number, your first name, your profile "
        "(languages, Stadtteile, topics, limits) and the cases you take on. The coordination "
        "office of {programme} sees them; the people you help see your first name. You can "
        "withdraw your consent at any time in the privacy menu.\n\n"
        "Do you agree?",
        programme=city.programme,
    )
    return Screen(
        text,
        rows(
            (t.gettext("✅ I agree"), f"{CONSENT_YES}:{invite}"),
            (t.gettext("Not now"), CONSENT_NO),
            (t.gettext("Read the privacy notice"), MENU_PRIVACY),
        ),
    )


def consent_declined(t: Texts, city: CityConfig) -> Screen:
    """Without consent: general information and the office's contact, nothing stored."""
    text = t.gettext(
        "No problem. Nothing about you is stored except your language.\n\n"
        "You can still read general information here. For personal help, contact the "
        "coordination office directly:\n{office}\n{email}",
        office=city.contact.office,
        email=city.contact.email,
    )
    return Screen(
        text,
        rows(
            (t.gettext("✅ I agree after all"), CONSENT_SHOW),
            (t.gettext("📅 Stammtisch dates"), MENU_STAMMTISCH),
            (t.gettext("🌐 Language"), MENU_LANGUAGE),
        ),
    )


#: The coordinators' entries of the menu, each the screen of one of their commands.
DESK_ENTRIES = (
    "requests",
    "lotsen",
    "invite",
    "broadcast",
    "dates",
    "waitlist",
    "stats",
    "expenses",
)
DESK = Actions("desk", dict.fromkeys(DESK_ENTRIES, ()))


def main_menu(t: Texts, coordinator: bool = False) -> Screen:
    """The main menu: one button per thing people come for; for coordinators, their own
    entries first (and none of those for people seeking help)."""
    if coordinator:
        desk = [
            DESK.choice(t.gettext("📋 Requests"), "requests"),
            DESK.choice(t.gettext("👥 Lotsen"), "lotsen"),
            DESK.choice(t.gettext("✉️ Invite Lotsen"), "invite"),
            DESK.choice(t.gettext("📣 Broadcast"), "broadcast"),
            DESK.choice(t.gettext("📅 Dates"), "dates"),
            DESK.choice(t.gettext("🎓 Waiting list"), "waitlist"),
            DESK.choice(t.gettext("📊 Figures"), "stats"),
            DESK.choice(t.gettext("🧾 Expenses"), "expenses"),
        ]
        return Screen(
            t.gettext("What would you like to do?"),
            (
                *grid(desk, 2),
                *rows(
                    (t.gettext("🧭 I am a Lotse"), MENU_LOTSE),
                    (t.gettext("🌐 Language"), MENU_LANGUAGE),
                    (t.gettext("🔒 Privacy"), MENU_PRIVACY),
                ),
            ),
        )
    return Screen(
        t.gettext("What would you like to do?"),
        rows(
            (t.gettext("🎤 Quick: just send a voice note"), MENU_QUICK),
            (t.gettext("🤝 I need a Lotse"), MENU_REQUEST),
            (t.gettext("📋 My requests"), MENU_STATUS),
            (t.gettext("🧭 I am a Lotse"), MENU_LOTSE),
            (t.gettext("🎓 I want to become a Lotse"), MENU_BECOME),
            (t.gettext("📅 Stammtisch dates"), MENU_STAMMTISCH),
            (t.gettext("✉️ Write to the office"), MENU_OFFICE),
            (t.gettext("🌐 Language"), MENU_LANGUAGE),
            (t.gettext("🔒 Privacy"), MENU_PRIVACY),
        ),
    )


def privacy_notice(t: Texts, city: CityConfig, consent_at: datetime | None) -> Screen:
    """The full privacy notice, with the person's consent state."""
    text = t.gettext(
        "<b>Privacy notice</b>\n\n"
        "<b>Who is responsible:</b> {office}, {email}.\n\n"
        "<b>What is stored:</b> how to reach you in the messenger you use (Telegram or Signal; "
        "not your phone number) and your language; after your consent also the time of your "
        "consent and, once you use them, your requests and messages to your Lotse.\n\n"
        "<b>Why:</b> only to put you in touch with a Lotse and to organise the programme. "
        "Statistics for the city contain no names.\n\n"
        "<b>Who sees it:</b> the coordination office and the Lotse who takes on your request. "
        "Your messenger (Telegram or Signal) transports the messages.\n\n"
        "<b>Your rights:</b> you can ask what is stored about you, have it corrected or "
        "deleted, and withdraw your consent at any time.",
        office=city.contact.office,
        email=city.contact.email,
    )
    text += "\n\n" + t.gettext("See all your data: /mydata · Delete all your data: /delete")
    if consent_at is None:
        text += "\n\n" + t.gettext("You have not given your consent.")
        buttons = rows((t.gettext("✅ I agree"), CONSENT_YES), (home_button(t).label, MENU_HOME))
    else:
        text += "\n\n" + t.gettext("You gave your consent on {date}.", date=t.datetime(consent_at))
        buttons = rows(
            (t.gettext("Withdraw my consent"), CONSENT_WITHDRAW),
            (home_button(t).label, MENU_HOME),
        )
    return Screen(text, buttons)


def help_text(t: Texts, city: CityConfig, coordinator: bool = False) -> Screen:
    """What the bot does and which commands it knows (for coordinators, also theirs)."""
    text = t.gettext(
        "This bot belongs to {programme}. Use the buttons; you rarely need to type.\n\n"
        "/start – start again\n"
        "/menu – main menu\n"
        "/status – your requests\n"
        "/language – change the language\n"
        "/privacy – privacy notice and your consent\n"
        "/help – this help\n\n"
        "Questions? The coordination office: {email}",
        programme=city.programme,
        email=city.contact.email,
    )
    if coordinator:
        text += "\n\n" + t.gettext(
            "<b>For the coordination office</b>\n"
            "/requests – waiting requests, assign by hand\n"
            "/invite 3 – invitation links for new Lotsen\n"
            "/broadcast – news for many people\n"
            "/stammtisch – dates and their answers\n"
            "/waitlist – the training waiting list\n"
            "/stats – figures and exports"
        )
        text += "\n" + t.gettext("/console – the office console in the browser (a sign-in link)")
    return Screen(text, _back(t))


def not_understood(t: Texts) -> str:
    """The pointer back to the menu for anything the bot cannot use."""
    return t.gettext("Sorry, I did not understand that. Please use the buttons below.")


def button_expired(t: Texts) -> str:
    """Answer to a button that no longer means anything (old message or forged data)."""
    return t.gettext("This button is no longer valid.")


def apology(t: Texts) -> str:
    """Shown when something unexpected went wrong while handling the person's message."""
    return t.gettext(
        "Sorry, something went wrong on our side. Please try again in a moment; "
        "the coordination office has been informed."
    )


def consent_given(t: Texts) -> str:
    """Shown in place of the consent buttons after agreeing."""
    return t.gettext("✓ Thank you for your consent.")


def consent_withdrawn(t: Texts) -> str:
    """Shown after withdrawing consent."""
    return t.gettext("Your consent has been withdrawn.")


def private_chat_only(t: Texts) -> str:
    """Answer to a command in a group: the bot works in private chats only."""
    return t.gettext("Please write to me in a private chat.")


def captcha_alert(t: Texts, challenge: str) -> str:
    """The note coordinators get when Signal holds the bot's messages until a person solves
    a captcha."""
    return t.gettext(
        "⚠️ Signal holds the bot's messages back until a person solves a captcha. Please "
        "ask whoever runs the server to do it (README, “Signal asks for a captcha”) with "
        "this challenge: {challenge}. Messages wait meanwhile; none is lost.",
        challenge=challenge,
    )


def storage_alert(t: Texts, fault: str) -> str:
    """The note coordinators get when the database cannot write (a full disk, an I/O error)."""
    return t.gettext(
        "⚠️ Lotsenbot: the database cannot write ({fault}), most likely because its disk is "
        "full. Incoming messages wait and are handled as soon as it can write again; nobody "
        "is answered meanwhile. Please ask whoever runs the server to free space on the disk.",
        fault=fault,
    )


def error_alert(t: Texts, error: str, reference: str, repeats: int = 0) -> str:
    """The note coordinators get about an unexpected error (no personal data in it), with
    how often it happened again since the last note about it."""
    text = t.gettext(
        "⚠️ Lotsenbot: an unexpected error ({error}) happened while handling a message. "
        "The person was told to try again. Reference for the server log: {reference}",
        error=error,
        reference=reference,
    )
    if repeats:
        text += "\n" + t.ngettext(
            "Since the last alert about it, it happened {n} more time.",
            "Since the last alert about it, it happened {n} more times.",
            repeats,
        )
    return text


def edits_not_seen(t: Texts) -> str:
    """Answer to an edited message."""
    return t.gettext("Changes to a sent message do not reach me. Please send a new message.")
