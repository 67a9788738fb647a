"""The audit log: what coordinators did that touched people (never its content)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ACTION", "Entry"]

#: An action's name: lower-case words joined by ``_`` or ``.`` (``lotse.suspend``).
ACTION = re.compile(r"[a-z][a-z_.]{0,39}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded action: when, through what (``bot``, ``cli`` or ``console``), by whom
    (None: the command line, or an erased coordinator) under which name in the office (None:
    none given then), what, on whom and on which request."""

    id: int
    at: datetime
    via: str
    actor_id: int | None
    action: str
    subject_id: int | None
    request_id: int | None
    actor_name: str | None = None
