"""The city's figures in words and as a chart image."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from babel import Locale

from bot.domain.stats import Figures
from bot.domain.topics import TOPICS
from bot.i18n import Texts
from bot.services.stats import EXPORTS, FORMATS
from handlers.actions import Actions
from handlers.views import Screen

__all__ = ["EXPORTING", "chart", "summary"]

#: An export and its format: ``st:<export>:<format>``.
EXPORTING = Actions("st", {kind: (FORMATS,) for kind in EXPORTS})


def _topic(t: Texts, key: str) -> str:
    return t.gettext(TOPICS[key]) if key in TOPICS else key


def _language(t: Texts, code: str) -> str:
    try:
        return Locale.parse(code).get_display_name(t.language) or code
    except (ValueError, LookupError):
        return code


def _month(t: Texts, key: str) -> str:
    """A month key of the figures (``2026-03``) as the reader's language writes it."""
    return t.month(date.fromisoformat(f"{key}-01"))


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
    return t.join(parts) or "–"


def summary(t: Texts, figures: Figures) -> Screen:
    """The caption under the chart, and the export choices."""
    first, last = _month(t, figures.months[0]), _month(t, figures.months[-1])
    topics = figures.totals(figures.by_topic)
    lines = [
        t.gettext("<b>Figures {first} to {last}</b>", first=first, last=last),
        t.ngettext("{n} request", "{n} requests", figures.requests),
        t.gettext(
            "Found a Lotse: {share} %, in a median of {wait}",
            share=round(100 * figures.share_accepted),
            wait=_duration(t, figures.median_to_accept),
        ),
    ]
    if figures.cancelled:
        lines.append(
            t.gettext(
                "Cancelled before a Lotse was found (not in the share): {n}", n=figures.cancelled
            )
        )
    lines += [
        t.gettext(
            "Waiting now: {open}, of them stuck: {stuck}", open=figures.open, stuck=figures.stuck
        ),
        t.gettext("Active Lotsen: {n}", n=figures.active_lotsen),
        t.gettext("Volunteer hours: {hours}", hours=t.number(round(figures.hours, 1))),
        t.gettext("Topics: {list}", list=_top(t, topics, lambda k: _topic(t, k))),
        t.gettext(
            "Languages: {list}",
            list=_top(t, figures.totals(figures.by_language), lambda k: _language(t, k)),
        ),
        t.gettext("Stadtteile: {list}", list=_top(t, figures.totals(figures.by_district), str)),
    ]
    choices = (
        (
            EXPORTING.choice(t.gettext("📄 Requests (CSV)"), "requests", "csv"),
            EXPORTING.choice(t.gettext("📊 Requests (Excel)"), "requests", "xlsx"),
        ),
        (
            EXPORTING.choice(t.gettext("📄 Hours (CSV)"), "hours", "csv"),
            EXPORTING.choice(t.gettext("📊 Hours (Excel)"), "hours", "xlsx"),
        ),
    )
    return Screen("\n".join(lines), choices)


def _stacked(
    axes: Any, months: list[str], per_month: dict[str, list[int]], name: Callable[[str], str]
) -> None:
    """Bars per month, stacked by key; beyond the seven largest keys, one *other* block."""
    order = sorted(per_month, key=lambda k: -sum(per_month[k]))
    shown = order[:7]
    rest = [sum(per_month[k][i] for k in order[7:]) for i in range(len(months))]
    bottom = [0] * len(months)
    for label, counts in [(name(k), per_month[k]) for k in shown] + [("…", rest)]:
        if any(counts):
            axes.bar(months, counts, bottom=bottom, label=label)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    if per_month:
        axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3)
    axes.tick_params(axis="x", labelrotation=30)


def chart(t: Texts, figures: Figures) -> bytes:
    """Four panels as a PNG: requests per month by topic, by language and by Stadtteil, and
    volunteer hours per month."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # heavy: only when drawn
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 10), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    (by_topic, by_language), (by_district, hours) = figure.subplots(2, 2)
    months = [_month(t, key) for key in figures.months]
    _stacked(by_topic, months, figures.by_topic, lambda k: _topic(t, k))
    by_topic.set_title(t.gettext("Requests per month, by topic"))
    _stacked(by_language, months, figures.by_language, lambda k: _language(t, k))
    by_language.set_title(t.gettext("Requests by language"))
    _stacked(by_district, months, figures.by_district, str)
    by_district.set_title(t.gettext("Requests by Stadtteil"))
    hours.bar(months, figures.hours_by_month, color="tab:green")
    hours.set_title(t.gettext("Volunteer hours per month"))
    hours.tick_params(axis="x", labelrotation=30)
    out = io.BytesIO()
    with warnings.catch_warnings():
        # A letter the font lacks (e.g. Ge'ez script, an emoji in a name) is drawn as a box;
        # the summary beside the chart has the same words in full.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        figure.savefig(out, format="png")
    return out.getvalue()
