"""The help topics a refugee can choose from, with their translatable labels."""

from __future__ import annotations

__all__ = ["N_", "TOPICS"]


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


# Official German terms stay recognisable in every language (translators add the local word).
TOPICS: dict[str, str] = {
    "auslaenderbehoerde": N_("Ausländerbehörde (immigration office)"),
    "jobcenter": N_("Jobcenter / Bürgergeld"),
    "health": N_("Doctor / health"),
    "school": N_("School / Kita"),
    "housing": N_("Housing"),
    "work": N_("Work / training"),
    "language_course": N_("Language course"),
    "letter": N_("Understanding a letter"),
    "other": N_("Something else"),
}
