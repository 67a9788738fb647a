"""The city's figures in words and as a chart image."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from babel import Locale
from telegram import InlineKeyboardMarkup

from bot.domain.stats import Figures
from bot.domain.topics import TOPICS
from bot.i18n import Texts
from handlers.views import Screen, button

__all__ = ["chart", "summary"]


def _topic(t: Texts, key: str) -> str:
    return t.gettext(TOPICS[key]) if key in TOPICS else key


def _language(t: Texts, code: str) -> str:
    try:
        return Locale.parse(code).get_display_name(t.language) or code
    except (ValueError, LookupError):
        return code


def _duration(t: Texts, span: timedelta | None) -> str:
    if span is None:
        return "–"
    hours = span.total_seconds() / 3600
    if hours < 1:
        return t.ngettext("{n} minute", "{n} minutes", round(span.total_seconds() / 60))
    if hours < 48:
        return t.ngettext("{n} hour", "{n} hours", round(hours))
    return t.ngettext("{n} day", "{n} days", round(hours / 24))


def _top(t: Texts, counts: dict[str, int], name: Callable[[str], str]) -> str:
    parts = [f"{name(key)} {n}" for key, n in list(counts.items())[:5]]
    return ", ".join(parts) or "–"


def summary(t: Texts, figures: Figures) -> Screen:
    """The caption under the chart, and the export buttons."""
    first, last = figures.months[0], figures.months[-1]
    topics = {k: sum(v) for k, v in sorted(figures.by_topic.items(), key=lambda i: -sum(i[1]))}
    lines = [
        t.gettext("<b>Figures {first} to {last}</b>", first=first, last=last),
        t.ngettext("{n} request", "{n} requests", figures.requests),
        t.gettext(
            "Found a Lotse: {share} %, in a median of {wait}",
            share=round(100 * figures.share_accepted),
            wait=_duration(t, figures.median_to_accept),
        ),
        t.gettext(
            "Waiting now: {open}, of them stuck: {stuck}", open=figures.open, stuck=figures.stuck
        ),
        t.gettext("Active Lotsen: {n}", n=figures.active_lotsen),
        t.gettext("Volunteer hours: {hours}", hours=t.number(round(figures.hours, 1))),
        t.gettext("Topics: {list}", list=_top(t, topics, lambda k: _topic(t, k))),
        t.gettext(
            "Languages: {list}", list=_top(t, figures.by_language, lambda k: _language(t, k))
        ),
        t.gettext("Stadtteile: {list}", list=_top(t, figures.by_district, str)),
    ]
    rows = [
        [
            button(t.gettext("📄 Requests (CSV)"), "st:requests:csv"),
            button(t.gettext("📊 Requests (Excel)"), "st:requests:xlsx"),
        ],
        [
            button(t.gettext("📄 Hours (CSV)"), "st:hours:csv"),
            button(t.gettext("📊 Hours (Excel)"), "st:hours:xlsx"),
        ],
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def chart(t: Texts, figures: Figures) -> bytes:
    """Four panels as a PNG: requests per month by topic, languages, Stadtteile, hours."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # heavy: only when drawn
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    (per_month, by_language), (by_district, hours) = figure.subplots(2, 2)
    months = figures.months
    bottom = [0] * len(months)
    for key, counts in sorted(figures.by_topic.items(), key=lambda i: -sum(i[1])):
        per_month.bar(months, counts, bottom=bottom, label=_topic(t, key))
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    per_month.set_title(t.gettext("Requests per month, by topic"))
    if figures.by_topic:
        per_month.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)
    languages = list(figures.by_language.items())[:10]
    by_language.bar([_language(t, k) for k, _ in languages], [n for _, n in languages])
    by_language.set_title(t.gettext("Requests by language"))
    by_language.tick_params(axis="x", labelrotation=30)
    districts = list(figures.by_district.items())[:12][::-1]
    by_district.barh([k for k, _ in districts], [n for _, n in districts])
    by_district.set_title(t.gettext("Requests by Stadtteil"))
    hours.bar(months, figures.hours_by_month, color="tab:green")
    hours.set_title(t.gettext("Volunteer hours per month"))
    for axes in (per_month, hours):
        axes.tick_params(axis="x", labelrotation=30)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
