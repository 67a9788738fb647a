"""What the office sees of its Lotsen (``/lotsen``: the list, the card) and what a Lotse is
told when their role changes."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

from bot.config import CityConfig
from bot.domain.lotsen import RECORDS, STATES, Lotse, LotseStatus, RosterEntry
from bot.i18n import LANGUAGES, Texts, isolate, language_name
from bot.services.roster import Filter
from handlers import office_views as ov
from handlers.actions import NUMBER, Actions, indices
from handlers.lotse_views import LOTSE
from handlers.port import Choice
from handlers.request_views import languages_label, topic_label
from handlers.views import Choices, Screen, button, grid, home_button

__all__ = [
    "CLEAR",
    "PAGE",
    "Shown",
    "card",
    "check_runs_out",
    "check_runs_out_for_office",
    "find_prompt",
    "leave_question",
    "left_for_office",
    "picker",
    "reason_prompt",
    "record_prompt",
    "retire_question",
    "roster",
    "roster_actions",
    "state_label",
    "told",
]

#: Lotsen per page of the list.
PAGE = 8
_ANY = "-"


def roster_actions(city: CityConfig) -> Actions:
    """The roster's choices (``ro:…``); a filter rides along as language, Stadtteil (its
    index) and state, each ``-`` for any."""
    languages = (_ANY, *LANGUAGES)
    districts = (_ANY, *indices(city.districts))
    states = (_ANY, *STATES)
    return Actions(
        "ro",
        {
            "list": (NUMBER, languages, districts, states),
            "pick": (("lang", "dist", "state"), languages, districts, states),
            "find": (),
            "card": (NUMBER,),
            "suspend": (NUMBER,),
            "reinstate": (NUMBER,),
            "retire": (NUMBER,),
            "retire_yes": (NUMBER,),
            "rec": (NUMBER, RECORDS),
        },
    )


class Shown:
    """A filter as the list's choices carry it."""

    def __init__(self, city: CityConfig, values: list[str]) -> None:
        self.city = city
        self.language, self.district, self.state = (v if v != _ANY else None for v in values)

    @classmethod
    def none(cls, city: CityConfig) -> Shown:
        return cls(city, [_ANY, _ANY, _ANY])

    def parts(self) -> tuple[str, str, str]:
        return (self.language or _ANY, self.district or _ANY, self.state or _ANY)

    def filter(self, name: str | None = None) -> Filter:
        district = self.city.districts[int(self.district)] if self.district else None
        return Filter(self.language, district, self.state, name)

    def described(self, t: Texts) -> str:
        parts = []
        if self.language:
            parts.append("🗣 " + language_name(self.language))
        if self.district:
            parts.append("📍 " + self.city.districts[int(self.district)])
        if self.state:
            parts.append(state_label(t, self.state))
        return " · ".join(parts)


def state_label(t: Texts, state: str) -> str:
    """A state of the roster, as a short label."""
    labels = {
        "active": t.gettext("🟢 active"),
        "paused": t.gettext("⏸ paused"),
        "full": t.gettext("📂 at their limit"),
        "suspended": t.gettext("⛔ suspended"),
        "left": t.gettext("🚪 left"),
        "pending": t.gettext("⏳ waiting for approval"),
    }
    return labels.get(state, state)


def roster(
    t: Texts,
    city: CityConfig,
    entries: list[RosterEntry],
    states: dict[int, str],
    shown: Shown,
    page: int,
    searched: str | None = None,
) -> Screen:
    """One page of the list: a button per Lotse, paging, the filters."""
    ro = roster_actions(city)
    pages = max(1, -(-len(entries) // PAGE))
    page = min(max(page, 0), pages - 1)
    head = t.gettext("👥 <b>Lotsen</b>: {n}", n=len(entries))
    described = shown.described(t) if searched is None else "🔎 " + searched
    lines = [head] + ([described] if described else [])
    if not entries:
        lines.append(t.gettext("No Lotse matches."))
    rows: list[tuple[Choice, ...]] = []
    for entry in entries[page * PAGE : (page + 1) * PAGE]:
        lotse = entry.lotse
        state = state_label(t, states[lotse.person_id])
        label = f"{lotse.first_name} · {state} · 📂{lotse.open_cases}"
        rows.append((ro.choice(label, "card", lotse.person_id),))
    paging = []
    if page > 0:
        paging.append(ro.choice("◀️", "list", page - 1, *shown.parts()))
    if page + 1 < pages:
        paging.append(ro.choice("▶️", "list", page + 1, *shown.parts()))
    if paging:
        rows.append(tuple(paging))
    rows.append(
        (
            ro.choice(t.gettext("🗣 Languages"), "pick", "lang", *shown.parts()),
            ro.choice(t.gettext("📍 Stadtteile"), "pick", "dist", *shown.parts()),
            ro.choice(t.gettext("🚦 State"), "pick", "state", *shown.parts()),
        )
    )
    last = [ro.choice(t.gettext("🔎 Name"), "find"), ov.expenses_button(t)]
    if searched is not None or any(v != _ANY for v in shown.parts()):
        last.append(ro.choice(t.gettext("✖️ No filter"), "list", 0, _ANY, _ANY, _ANY))
    rows.append(tuple(last))
    rows.append((home_button(t),))
    return Screen("\n".join(lines), tuple(rows))


def picker(t: Texts, city: CityConfig, what: str, shown: Shown) -> Choices:
    """The choices of one filter (they replace the list's choices)."""
    ro = roster_actions(city)
    language, district, state = shown.parts()
    if what == "lang":
        choices = [
            ro.choice(language_name(code), "list", 0, code, district, state) for code in LANGUAGES
        ]
    elif what == "dist":
        choices = [
            ro.choice(name, "list", 0, language, str(i), state)
            for i, name in enumerate(city.districts)
        ]
    else:
        choices = [
            ro.choice(state_label(t, code), "list", 0, language, district, code) for code in STATES
        ]
    return (*grid(choices, 2), (ro.choice(t.gettext("⬅️ Back"), "list", 0, *shown.parts()),))


def _day(t: Texts, value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return t.date(value, "medium")
    return t.day(value, "medium")


def card(t: Texts, city: CityConfig, entry: RosterEntry, state: str) -> Screen:
    """Everything the office keeps about one Lotse, with what it can do."""
    lotse, records = entry.lotse, entry.lotse.records
    everywhere = t.gettext("all")
    head = f"<b>{_name(t, lotse.first_name)}</b> · {state_label(t, state)}"
    if lotse.stopped_at is not None:
        head += f" · {_day(t, lotse.stopped_at)}"
    lines = [
        head,
        t.gettext("🗣 Languages: {languages}", languages=languages_label(t, lotse.languages)),
        t.gettext(
            "📍 Stadtteile: {districts}", districts=t.join(sorted(lotse.districts)) or everywhere
        ),
        t.gettext(
            "📌 Topics: {topics}",
            topics=t.join(topic_label(t, k) for k in city.topics if k in lotse.topics)
            or everywhere,
        ),
        t.gettext("📂 Open cases: {n}", n=lotse.open_cases),
        t.gettext(
            "📊 This year: {cases} cases, {hours} hours",
            cases=entry.cases_this_year,
            hours=t.number(entry.hours_this_year),
        ),
        t.gettext("🕓 Last active: {date}", date=_day(t, lotse.seen_at)),
        t.gettext("🗓 Joined: {date}", date=_day(t, lotse.joined_at)),
        t.gettext("🎓 Certified on: {date}", date=_day(t, records.certified_on)),
        t.gettext("✍️ Pledge signed on: {date}", date=_day(t, records.pledge_on)),
        t.gettext("🛡 Führungszeugnis seen on: {date}", date=_day(t, records.check_seen_on)),
        t.gettext("🛡 Führungszeugnis valid until: {date}", date=_day(t, records.check_valid_until)),
    ]
    if lotse.status is LotseStatus.SUSPENDED and lotse.stop_reason:
        lines.append(t.gettext("⛔ Reason: {reason}", reason=lotse.stop_reason))
    ro = roster_actions(city)
    number = lotse.person_id
    rows: list[tuple[Choice, ...]] = [
        (
            ro.choice(t.gettext("✏️ Certified"), "rec", number, "certified_on"),
            ro.choice(t.gettext("✏️ Pledge"), "rec", number, "pledge_on"),
        ),
        (
            ro.choice(t.gettext("✏️ Seen"), "rec", number, "check_seen_on"),
            ro.choice(t.gettext("✏️ Valid until"), "rec", number, "check_valid_until"),
        ),
    ]
    if lotse.status is LotseStatus.ACTIVE:
        rows.append(
            (
                ro.choice(t.gettext("⛔ Suspend"), "suspend", number),
                ro.choice(t.gettext("🏁 Retire"), "retire", number),
            )
        )
    elif lotse.status is LotseStatus.SUSPENDED:
        rows.append(
            (
                ro.choice(t.gettext("▶️ Reinstate"), "reinstate", number),
                ro.choice(t.gettext("🏁 Retire"), "retire", number),
            )
        )
    rows.append((ro.choice(t.gettext("⬅️ Back"), "list", 0, _ANY, _ANY, _ANY),))
    return Screen("\n".join(lines), tuple(rows))


def _name(t: Texts, name: str) -> str:
    """A name inside a line of this module's own (escaped, isolated in right-to-left text)."""
    escaped = html.escape(name, quote=False)
    return isolate(escaped) if t.rtl else escaped


def _cancel(t: Texts, city: CityConfig, number: int | None) -> Choices:
    ro = roster_actions(city)
    if number is None:
        return ((ro.choice(t.gettext("✖️ Cancel"), "list", 0, _ANY, _ANY, _ANY),),)
    return ((ro.choice(t.gettext("✖️ Cancel"), "card", number),),)


def reason_prompt(t: Texts, city: CityConfig, lotse: Lotse) -> Screen:
    """Suspending: the reason, typed (kept for the office)."""
    text = t.gettext(
        "Why is {name} suspended? Type the reason (only the office sees it).",
        name=lotse.first_name,
    )
    return Screen(text, _cancel(t, city, lotse.person_id))


def record_prompt(t: Texts, city: CityConfig, lotse: Lotse) -> Screen:
    """One of the programme's dates, typed."""
    return Screen(
        t.gettext("Type the date, e.g. 14.3.2027 (a dash clears it)."),
        _cancel(t, city, lotse.person_id),
    )


def find_prompt(t: Texts, city: CityConfig) -> Screen:
    """Searching the roster by name."""
    return Screen(t.gettext("Type a name or a part of it."), _cancel(t, city, None))


def retire_question(t: Texts, city: CityConfig, lotse: Lotse) -> Screen:
    """Retiring ends the role for good: asked once more."""
    ro = roster_actions(city)
    return Screen(
        t.gettext("Retire {name} for good? This cannot be undone.", name=lotse.first_name),
        (
            (ro.choice(t.gettext("🏁 Yes, retire"), "retire_yes", lotse.person_id),),
            (ro.choice(t.gettext("✖️ Cancel"), "card", lotse.person_id),),
        ),
    )


#: A typed "nothing": clears a date.
CLEAR = re.compile(r"\s*[-–—]\s*")


def told(t: Texts, city: CityConfig, state: LotseStatus) -> str:
    """What a Lotse is told when their role changes."""
    email = city.contact.email
    if state is LotseStatus.SUSPENDED:
        return t.gettext(
            "The coordination office has paused your role as a Lotse: you get no requests "
            "for now, and your open cases go to other Lotsen. Please contact the office: "
            "{email}",
            email=email,
        )
    if state is LotseStatus.RETIRED:
        return t.gettext(
            "Your role as a Lotse has ended. Thank you for your help! Questions: {email}",
            email=email,
        )
    if state is LotseStatus.LEFT:
        return t.gettext(
            "Thank you for all your help as a Lotse! Your open cases go to other Lotsen. "
            "You can still use the bot as before."
        )
    return t.gettext("You are an active Lotse again and will receive requests.")


def leave_question(t: Texts) -> Screen:
    """Leaving the programme, asked once more."""
    return Screen(
        t.gettext("Do you really want to leave the programme? Your open cases go to other Lotsen."),
        (
            (button(t.gettext("🚪 Yes, leave"), LOTSE("leave_yes")),),
            (button(t.gettext("⬅️ Back"), LOTSE("profile")),),
        ),
    )


def left_for_office(t: Texts, lotse: Lotse) -> str:
    """The office hears that a Lotse left."""
    return t.gettext("🚪 {name} has left the programme.", name=lotse.first_name)


def check_runs_out(t: Texts, valid_until: date) -> str:
    """The Lotse's reminder of their Führungszeugnis."""
    return t.gettext(
        "Your Führungszeugnis is valid until {date}. Please bring a new one to the "
        "coordination office in time.",
        date=t.day(valid_until),
    )


def check_runs_out_for_office(
    t: Texts, city: CityConfig, lotse: Lotse, valid_until: date
) -> Screen:
    """The office's reminder, with the card one tap away."""
    text = t.gettext(
        "⏰ The Führungszeugnis of {name} is valid until {date}.",
        name=lotse.first_name,
        date=t.day(valid_until),
    )
    card = roster_actions(city).choice(f"👤 {lotse.first_name}", "card", lotse.person_id)
    return Screen(text, ((card,),))
