"""Pace outgoing mass messages under Telegram's limits: overall and per chat; and send
notices about the same thing only once in a while."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["Repeats", "Throttle"]

#: Aim a little below the limit: requests arrive at Telegram with some jitter.
HEADROOM = 0.95


class Throttle:
    """Hand out send times: at most ``per_second`` overall, one per ``chat_interval`` per chat.

    Times are plain seconds from a monotonic clock, passed in by the caller, so the rule is
    testable without waiting. Each call books its slot, so concurrent senders queue up in
    order instead of racing for the same moment.
    """

    def __init__(
        self,
        per_second: float,
        chat_interval: float = 1.0,
        remembered_chats: int = 50_000,
        *,
        account_wide: bool = False,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.gap = 1.0 / (per_second * HEADROOM)
        self.per_window = max(1, int(per_second * HEADROOM))
        self._answered: deque[float] = deque()
        self._in_flight = 0
        self.chat_interval = chat_interval / HEADROOM
        self._next = 0.0
        self._careful_until = 0.0
        self._chats: OrderedDict[Hashable, float] = OrderedDict()
        self._remembered = remembered_chats
        self.account_wide = account_wide

    def reserve(self, chat_id: Hashable, now: float) -> float:
        """Book the next moment a message may go to ``chat_id`` (e.g. a contact); return it
        (>= ``now``)."""
        start = max(now, self._next)
        self._next = start + (self.gap * 2 if start < self._careful_until else self.gap)
        # A chat that has to wait (its last message was just now) waits alone: the overall
        # pace goes on from ``start``, not from that chat's later moment.
        slot = max(start, self._chats.get(chat_id, 0.0))
        self._chats[chat_id] = slot + self.chat_interval
        self._chats.move_to_end(chat_id)
        while len(self._chats) > self._remembered:
            self._chats.popitem(last=False)
        return slot

    def admit(self, now: float) -> float:
        """At the moment of sending: 0 (and counted) if it may go, else seconds to wait.

        Pacing alone is not enough: senders that wake late (a busy event loop) would go out
        together and crowd one second. And Telegram counts a message when it *arrives*, which
        can be any time until its answer comes back: a stall on the way (or at Telegram)
        lets messages sent over a longer stretch arrive within one second. So a message
        counts from the moment it is sent until one second after its answer
        (:meth:`answered`): whatever the delays, no second at the receiving end sees more
        than the limit.
        """
        while self._answered and self._answered[0] <= now - 1.0:
            self._answered.popleft()
        if self._in_flight + len(self._answered) >= self.per_window:
            if self._answered:
                return self._answered[0] + 1.0 - now + 1e-3
            return 0.01  # all of them still on their way: wait for answers
        self._in_flight += 1
        return 0.0

    def answered(self, now: float) -> None:
        """A message admitted by :meth:`admit` was answered (or not sent after all)."""
        self._in_flight = max(0, self._in_flight - 1)
        self._answered.append(now)

    def slow_down(self, seconds: float, now: float) -> None:
        """Telegram answered ``429``: go at half pace for ``seconds`` (others keep going).

        The copy that met the ``429`` waits its ``retry_after`` on its own; halving the pace
        instead of pausing everyone keeps a flood warning about one chat from stalling all.
        Where the limit is the whole account's (``account_wide``: Signal), everyone pauses
        for ``seconds`` instead, then goes on at half pace as long again.
        """
        if self.account_wide:
            self._next = max(self._next, now + seconds)
            self._careful_until = max(self._careful_until, now + 2 * seconds)
            return
        self._careful_until = max(self._careful_until, now + seconds)


@dataclass
class _Seen:
    sent: float  # when the last notice about it went out
    held: int = 0  # how many were held back since


class Repeats:
    """Notices about the same thing (say, an error at one place) go out once per ``window``.

    Repeats within the window are only counted; the next notice that goes out about the
    same thing says how many there were. And at most ``most`` notices go out in any
    window, whatever they are about, so that many different ones do not flood either.
    Times are plain seconds from a monotonic clock, passed in by the caller.
    """

    def __init__(self, window: float, most: int = 10, remembered: int = 1000) -> None:
        if window <= 0 or most < 1:
            raise ValueError("window and most must be positive")
        self.window = window
        self.most = most
        self._remembered = remembered
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._sent: deque[float] = deque()

    def admit(self, key: str, now: float) -> int | None:
        """None: no notice about ``key`` now (it is counted). Otherwise the notice goes out,
        and this is how many about ``key`` were held back since the last one."""
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        seen = self._seen.get(key) or _Seen(float("-inf"))
        if now - seen.sent < self.window or len(self._sent) >= self.most:
            seen.held += 1
            self._remember(key, seen)
            return None
        self._remember(key, _Seen(now))
        self._sent.append(now)
        return seen.held

    def _remember(self, key: str, seen: _Seen) -> None:
        self._seen[key] = seen
        self._seen.move_to_end(key)
        while len(self._seen) > self._remembered:
            self._seen.popitem(last=False)
