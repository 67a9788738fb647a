"""Load the deployment settings (environment) and the city file (TOML)."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import people
from bot.domain.topics import TOPICS
from bot.i18n import LANGUAGES

__all__ = [
    "DEFAULT_API_URL",
    "CityConfig",
    "ConfigError",
    "Contact",
    "MailingRules",
    "RequestRules",
    "Settings",
    "StammtischRules",
    "TrainingRules",
    "console_listen",
    "load_city",
]

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DB = "data/lotsenbot.sqlite3"
DEFAULT_CONFIG = "data/dorsten.toml"


class ConfigError(Exception):
    """A setting or the city file is missing or malformed; the message is one line for stderr."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Deployment settings taken from the environment."""

    token: str | None
    api_url: str
    db_path: Path
    config_path: Path
    webhook_secret: str | None = None
    #: signal-cli's daemon (``http://127.0.0.1:7583``) and the bot's number on Signal.
    signal_url: str | None = None
    signal_account: str | None = None
    #: Where signal-cli keeps the files people send (its ``attachments`` folder), so that
    #: the bot erases them when no request needs them; None: signal-cli keeps them.
    signal_attachments: Path | None = None
    #: Where the office console listens (``127.0.0.1:8090``, behind the TLS proxy); None:
    #: no console.
    console_listen: tuple[str, int] | None = None
    #: Where the proxy publishes it (``https://lotsen.dorsten.de/desk``): the start of every
    #: sign-in link, and the path the console's pages are served under. None: the listening
    #: address itself (``http://127.0.0.1:8090``), for trying it out on the same machine.
    console_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        token = _secret(env, "TELEGRAM_BOT_TOKEN")
        api_url = env.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"TELEGRAM_API_URL must start with http:// or https:// (got {api_url!r})"
            )
        db = env.get("LOTSENBOT_DB", "").strip() or DEFAULT_DB
        config = env.get("LOTSENBOT_CONFIG", "").strip() or DEFAULT_CONFIG
        return cls(
            token,
            api_url.rstrip("/"),
            Path(db),
            Path(config),
            _secret(env, "LOTSENBOT_WEBHOOK_SECRET"),
            (env.get("LOTSENBOT_SIGNAL_URL", "").strip().rstrip("/") or None),
            (env.get("LOTSENBOT_SIGNAL_ACCOUNT", "").strip() or None),
            _path(env, "LOTSENBOT_SIGNAL_ATTACHMENTS"),
            console_listen(env.get("LOTSENBOT_CONSOLE_LISTEN", "")),
            _console_url(env.get("LOTSENBOT_CONSOLE_URL", "")),
        )

    @property
    def console_base(self) -> str | None:
        """The console's public address without a trailing slash (None: no console)."""
        if self.console_listen is None:
            return None
        if self.console_url is not None:
            return self.console_url
        host, port = self.console_listen
        return f"http://{host}:{port}"

    def require_channel(self) -> None:
        """Stop with a message naming the variables unless at least one channel is set up
        (Telegram: a token; Signal: the daemon's URL and the bot's number), each well-formed."""
        if self.signal_url is None and self.signal_account is None:
            if self.token is None:
                raise ConfigError(
                    "neither TELEGRAM_BOT_TOKEN nor LOTSENBOT_SIGNAL_URL and "
                    "LOTSENBOT_SIGNAL_ACCOUNT are set: export the token @BotFather gave you, "
                    "or signal-cli's daemon URL and the bot's number "
                    "(or try `make demo` to see the bot offline, without either)"
                )
        else:
            self.require_signal()
        if self.token is not None:
            self.require_token()

    def require_signal(self) -> tuple[str, str]:
        """Return signal-cli's daemon URL and the bot's number, or stop naming what is wrong."""
        if self.signal_url is None:
            raise ConfigError("LOTSENBOT_SIGNAL_ACCOUNT is set but LOTSENBOT_SIGNAL_URL is not")
        if self.signal_account is None:
            raise ConfigError("LOTSENBOT_SIGNAL_URL is set but LOTSENBOT_SIGNAL_ACCOUNT is not")
        if not self.signal_url.startswith(("http://", "https://")):
            raise ConfigError(
                "LOTSENBOT_SIGNAL_URL must start with http:// or https:// "
                f"(got {self.signal_url!r})"
            )
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", self.signal_account):
            raise ConfigError(
                "LOTSENBOT_SIGNAL_ACCOUNT must be the bot's number with its country code "
                "(E.164, e.g. +4915112345678)"
            )
        return self.signal_url, self.signal_account

    def require_token(self) -> str:
        """Return the bot token or stop with a message naming the variable."""
        if self.token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: export the token @BotFather gave you "
                "(or try `make demo` to see the bot offline, without a token)"
            )
        if ":" not in self.token:
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (<id>:<secret>)")
        return self.token


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (never logged)."""
    value = env.get(name, "").strip()
    if value:
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None


def console_listen(value: str, name: str = "LOTSENBOT_CONSOLE_LISTEN") -> tuple[str, int] | None:
    """``HOST:PORT`` where the console listens (empty: none)."""
    value = value.strip()
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name} must be HOST:PORT, e.g. 127.0.0.1:8090 (got {value!r})")
    return host.strip("[]"), int(port)


def _console_url(value: str) -> str | None:
    value = value.strip().rstrip("/")
    if not value:
        return None
    if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
        raise ConfigError(
            "LOTSENBOT_CONSOLE_URL must be the console's public address, "
            f"e.g. https://lotsen.dorsten.de/desk (got {value!r})"
        )
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value).expanduser() if value else None


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach the coordination office."""

    office: str
    email: str
    phone: str | None
    partners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RequestRules:
    """How requests are offered, escalated and reminded (``[requests]`` in the city file)."""

    offer_count: int = 3
    escalate_after: timedelta = timedelta(hours=2)
    reminders: tuple[timedelta, ...] = (timedelta(days=1), timedelta(hours=2))


@dataclass(frozen=True, slots=True)
class StammtischRules:
    """The Lotsen's regular meeting (``[stammtisch]`` in the city file)."""

    venue: str
    title: str = "Stammtisch"
    time: dt_time = dt_time(18, 0)
    #: Dates of a repeating rule are announced this many days before.
    announce_days: int = 7
    #: Those who said yes or maybe are reminded this long before.
    remind_before: timedelta = timedelta(hours=24)
    #: Suggested topics in the coordinators' dialog (official terms stay German).
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrainingRules:
    """Defaults of the coordinators' training dialog (``[training]`` in the city file)."""

    place: str
    capacity: int = 20


@dataclass(frozen=True, slots=True)
class MailingRules:
    """How fast mass messages go out (``[broadcasts]`` in the city file), per messenger.

    Telegram allows about 30 messages a second overall and one a second per chat; the
    default leaves room for the bot's everyday answers. Signal names no limit, and bulk
    sending soon meets rate limits and captchas: its default is one message a second.
    """

    per_second: float = 25.0
    report_every: float = 3.0
    max_attempts: int = 5
    signal_per_second: float = 1.0

    def rate(self, channel: str) -> float:
        """Messages a second on ``channel``."""
        return self.signal_per_second if channel == "signal" else self.per_second

    def account_wide(self, channel: str) -> bool:
        """Whether a rate limit on ``channel`` holds for all its messages (Signal's), not
        only those to one chat."""
        return channel == "signal"

    def senders_on(self, channel: str) -> int:
        """Copies in flight at once on ``channel``: enough to keep its pace when a request
        takes 200 ms."""
        return max(1 if channel == "signal" else 4, math.ceil(self.rate(channel) / 5))

    @property
    def senders(self) -> int:
        """Copies in flight at once on Telegram."""
        return self.senders_on("telegram")


@dataclass(frozen=True, slots=True)
class CityConfig:
    """Everything city-specific: names, districts, topics, contacts, time zone."""

    city: str
    timezone: ZoneInfo
    default_language: str
    programme: str
    since: int | None
    trained: int | None
    contact: Contact
    stammtisch: StammtischRules
    #: Who coordinates (besides those given the role with ``lotsenbot coordinator``).
    coordinators: frozenset[people.Contact]
    districts: tuple[str, ...]
    topics: tuple[str, ...]
    requests: RequestRules = field(default_factory=lambda: RequestRules())
    retention_days: int = 90
    mailings: MailingRules = field(default_factory=lambda: MailingRules())
    training: TrainingRules = field(default_factory=lambda: TrainingRules(place=""))
    #: A waiting-list entry not called to a training for this long is erased.
    waitlist_days: int = 365
    #: A request draft or an unfinished dialog untouched for this long is erased.
    unfinished_days: int = 30
    #: The audit log of coordinators' actions is kept this long.
    audit_days: int = 730
    #: A former Lotse's profile and programme records are kept this long after they left
    #: or were retired.
    former_lotse_days: int = 365


class _Reader:
    """Typed access to a parsed TOML document with error messages naming file and key."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def _get(self, key: str, required: bool) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise ConfigError(f"{self.path}: '{key}' is missing")
                return None
            node = node[part]
        return node

    def text(self, key: str, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.path}: '{key}' must be a non-empty string")
        return value.strip()

    def number(self, key: str) -> int | None:
        value = self._get(key, False)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ConfigError(f"{self.path}: '{key}' must be a whole number")
        return value

    def decimal(self, key: str) -> float | None:
        value = self._get(key, False)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise ConfigError(f"{self.path}: '{key}' must be a number")
        return None if value is None else float(value)

    def texts(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{self.path}: '{key}' must be a list of strings")
        return tuple(value)

    def numbers(self, key: str) -> tuple[int, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{self.path}: '{key}' must be a list of whole numbers")
        return tuple(value)


def load_city(path: Path) -> CityConfig:
    """Read and check the city file; raise :class:`ConfigError` with one clear line."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: city file not found (set LOTSENBOT_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the city file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    read = _Reader(path, data)

    tz_name = read.text("city.timezone")
    assert tz_name is not None
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: 'city.timezone' {tz_name!r} is not a known time zone") from None

    language = read.text("city.default_language")
    if language not in LANGUAGES:
        raise ConfigError(
            f"{path}: 'city.default_language' {language!r} is not one of {', '.join(LANGUAGES)}"
        )
    topics = read.texts("topics.keys")
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise ConfigError(f"{path}: 'topics.keys' has unknown topic {unknown[0]!r}")
    districts = read.texts("districts.names")
    if not districts:
        raise ConfigError(f"{path}: 'districts.names' must name at least one Stadtteil")

    return CityConfig(
        city=_required(read.text("city.name")),
        timezone=timezone,
        default_language=language,
        programme=_required(read.text("programme.name")),
        since=read.number("programme.since"),
        trained=read.number("programme.trained"),
        contact=Contact(
            office=_required(read.text("contact.office")),
            email=_required(read.text("contact.email")),
            phone=read.text("contact.phone", required=False),
            partners=read.texts("contact.partners", required=False),
        ),
        stammtisch=_stammtisch(read),
        coordinators=_coordinators(read),
        districts=districts,
        topics=topics,
        requests=_request_rules(read),
        retention_days=_retention(read),
        mailings=_mailing_rules(read),
        training=_training(read),
        waitlist_days=_days(read, "privacy.waitlist_days", 365),
        unfinished_days=_days(read, "privacy.unfinished_days", 30),
        audit_days=_days(read, "privacy.audit_days", 730),
        former_lotse_days=_days(read, "privacy.former_lotse_days", 365),
    )


def _coordinators(read: _Reader) -> frozenset[people.Contact]:
    """``coordinators.contacts`` (``channel:address``) and, as Telegram contacts,
    ``coordinators.telegram_ids``."""
    found = {people.Contact("telegram", str(n)) for n in read.numbers("coordinators.telegram_ids")}
    for text in read.texts("coordinators.contacts", required=False):
        try:
            found.add(people.Contact.parse(text))
        except ValueError:
            raise ConfigError(
                f"{read.path}: 'coordinators.contacts' must be like \"telegram:123\" "
                "(a channel, a colon, the address)"
            ) from None
    return frozenset(found)


def _retention(read: _Reader) -> int:
    return _days(read, "privacy.retention_days", 90)


def _days(read: _Reader, key: str, default: int) -> int:
    days = read.number(key)
    if days is None:
        return default
    if not 1 <= days <= 3650:
        raise ConfigError(f"{read.path}: '{key}' must be between 1 and 3650")
    return days


def _training(read: _Reader) -> TrainingRules:
    capacity = read.number("training.capacity")
    if capacity is not None and not 1 <= capacity <= 500:
        raise ConfigError(f"{read.path}: 'training.capacity' must be between 1 and 500")
    return TrainingRules(
        place=read.text("training.place", required=False) or _required(read.text("contact.office")),
        capacity=capacity or TrainingRules(place="").capacity,
    )


def _stammtisch(read: _Reader) -> StammtischRules:
    default = StammtischRules(venue="")
    start = read.text("stammtisch.time", required=False)
    try:
        at = dt_time.fromisoformat(start) if start else default.time
    except ValueError:
        raise ConfigError(f"{read.path}: 'stammtisch.time' must be HH:MM") from None
    announce = read.number("stammtisch.announce_days_before")
    remind = read.number("stammtisch.remind_hours_before")
    if announce is not None and not 0 <= announce <= 60:
        raise ConfigError(f"{read.path}: 'stammtisch.announce_days_before' must be 0 to 60")
    if remind is not None and not 1 <= remind <= 168:
        raise ConfigError(f"{read.path}: 'stammtisch.remind_hours_before' must be 1 to 168")
    return StammtischRules(
        venue=_required(read.text("stammtisch.venue")),
        title=read.text("stammtisch.title", required=False) or default.title,
        time=at,
        announce_days=default.announce_days if announce is None else announce,
        remind_before=timedelta(hours=remind) if remind else default.remind_before,
        topics=read.texts("stammtisch.topics", required=False),
    )


def _mailing_rules(read: _Reader) -> MailingRules:
    default = MailingRules()
    rate = read.number("broadcasts.messages_per_second")
    if rate is not None and not 1 <= rate <= 1000:
        raise ConfigError(
            f"{read.path}: 'broadcasts.messages_per_second' must be between 1 and 1000"
        )
    signal = read.decimal("broadcasts.signal_messages_per_second")
    if signal is not None and not 0.05 <= signal <= 20:
        raise ConfigError(
            f"{read.path}: 'broadcasts.signal_messages_per_second' must be between 0.05 and 20"
        )
    return MailingRules(
        per_second=float(rate) if rate is not None else default.per_second,
        signal_per_second=signal if signal is not None else default.signal_per_second,
    )


def _request_rules(read: _Reader) -> RequestRules:
    default = RequestRules()
    count = read.number("requests.offer_count")
    escalate = read.number("requests.escalate_after_minutes")
    reminders = read.numbers("requests.reminders_minutes_before")
    if count is not None and not 1 <= count <= 50:
        raise ConfigError(f"{read.path}: 'requests.offer_count' must be between 1 and 50")
    if escalate is not None and escalate < 1:
        raise ConfigError(f"{read.path}: 'requests.escalate_after_minutes' must be positive")
    return RequestRules(
        offer_count=count or default.offer_count,
        escalate_after=timedelta(minutes=escalate) if escalate else default.escalate_after,
        reminders=tuple(timedelta(minutes=m) for m in reminders) or default.reminders,
    )


def _required(value: str | None) -> str:
    assert value is not None  # _Reader.text(required=True) never returns None
    return value
