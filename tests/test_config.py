"""Settings and the city file: clear one-line errors, and the CLI's exit status."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_URL, ConfigError, Settings, load_city
from bot.domain.people import Contact
from tests.conftest import CITY_FILE
from tests.process import LOTSENBOT, bot_env, city_file
from tests.scenario import BY_TELEGRAM_ID


def test_dorsten_city_file() -> None:
    city = load_city(CITY_FILE)
    assert city.city == "Dorsten"
    assert str(city.timezone) == "Europe/Berlin"
    assert city.default_language == "de"
    assert city.stammtisch.venue == "Treffpunkt Altstadt"
    assert "Hervest" in city.districts and len(city.districts) == 11
    assert "jobcenter" in city.topics and "letter" in city.topics
    assert city.trained == 180 and city.since == 2009
    assert (city.retention_days, city.waitlist_days, city.unfinished_days) == (90, 365, 30)


def test_settings_defaults_and_overrides() -> None:
    settings = Settings.from_env({})
    assert settings.api_url == DEFAULT_API_URL
    assert settings.db_path == Path("data/lotsenbot.sqlite3")
    assert settings.config_path == Path("data/dorsten.toml")
    assert settings.token is None
    custom = Settings.from_env(
        {"TELEGRAM_API_URL": "http://127.0.0.1:8081/", "TELEGRAM_BOT_TOKEN": "1:a"}
    )
    assert custom.api_url == "http://127.0.0.1:8081"
    assert custom.require_token() == "1:a"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "nocolon"}, "TELEGRAM_BOT_TOKEN does not look like"),
    ],
)
def test_token_problems_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env).require_token()


def test_signal_settings_start_the_signal_channel_alone_or_next_to_telegram() -> None:
    signal = {
        "LOTSENBOT_SIGNAL_URL": "http://127.0.0.1:7583/",
        "LOTSENBOT_SIGNAL_ACCOUNT": "+4915112345678",
    }
    alone = Settings.from_env(signal)
    alone.require_channel()
    assert alone.require_signal() == ("http://127.0.0.1:7583", "+4915112345678")
    assert alone.token is None
    Settings.from_env({**signal, "TELEGRAM_BOT_TOKEN": "1:a"}).require_channel()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "neither TELEGRAM_BOT_TOKEN nor LOTSENBOT_SIGNAL_URL and LOTSENBOT_SIGNAL_ACCOUNT"),
        ({"LOTSENBOT_SIGNAL_URL": "http://127.0.0.1:7583"}, "LOTSENBOT_SIGNAL_ACCOUNT is not"),
        ({"LOTSENBOT_SIGNAL_ACCOUNT": "+4915112345678"}, "LOTSENBOT_SIGNAL_URL is not"),
        (
            {"LOTSENBOT_SIGNAL_URL": "127.0.0.1:7583", "LOTSENBOT_SIGNAL_ACCOUNT": "+49151123"},
            "LOTSENBOT_SIGNAL_URL must start with http",
        ),
        (
            {"LOTSENBOT_SIGNAL_URL": "http://[::1]:7583", "LOTSENBOT_SIGNAL_ACCOUNT": "015112345"},
            "LOTSENBOT_SIGNAL_ACCOUNT must be the bot's number",
        ),
    ],
)
def test_channel_problems_name_the_variables(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env).require_channel()


def test_api_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_API_URL"):
        Settings.from_env({"TELEGRAM_API_URL": "api.telegram.org"})


def test_console_settings() -> None:
    assert Settings.from_env({}).console_base is None  # no console unless asked for
    local = Settings.from_env({"LOTSENBOT_CONSOLE_LISTEN": "127.0.0.1:8090"})
    assert local.console_listen == ("127.0.0.1", 8090)
    assert local.console_base == "http://127.0.0.1:8090"
    published = Settings.from_env(
        {
            "LOTSENBOT_CONSOLE_LISTEN": "127.0.0.1:8090",
            "LOTSENBOT_CONSOLE_URL": "https://lotsen.dorsten.de/desk/",
        }
    )
    assert published.console_base == "https://lotsen.dorsten.de/desk"
    # The public address alone starts no console.
    assert Settings.from_env({"LOTSENBOT_CONSOLE_URL": "https://x.de"}).console_base is None
    for listen in ("8090", "localhost:", "127.0.0.1:99999", ":8090"):
        with pytest.raises(ConfigError, match="LOTSENBOT_CONSOLE_LISTEN must be HOST:PORT"):
            Settings.from_env({"LOTSENBOT_CONSOLE_LISTEN": listen})
    for url in ("lotsen.dorsten.de/desk", "https://", "https://x.de/desk?a=1", "ftp://x.de"):
        with pytest.raises(ConfigError, match="LOTSENBOT_CONSOLE_URL"):
            Settings.from_env({"LOTSENBOT_CONSOLE_URL": url})


def test_run_with_a_bad_console_address_exits_2(tmp_path: Path) -> None:
    env = bot_env(None, tmp_path / "db.sqlite3", TELEGRAM_BOT_TOKEN="1:x")
    result = run_cli("run", "--console", "nowhere", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lotsenbot: --console must be HOST:PORT, e.g. 127.0.0.1:8090 (got 'nowhere')"
    )
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.replace('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'),
            "'city.timezone' 'Mars/Olympus' is not a known time zone",
        ),
        (
            lambda s: s.replace('default_language = "de"', 'default_language = "xx"'),
            "'city.default_language' 'xx' is not one of",
        ),
        (
            lambda s: s.replace('venue = "Treffpunkt Altstadt"\n', ""),
            "'stammtisch.venue' is missing",
        ),
        (lambda s: s.replace('"housing",', '"astrology",'), "unknown topic 'astrology'"),
        (
            lambda s: s.replace("since = 2009", 'since = "2009"'),
            "'programme.since' must be a whole",
        ),
        (lambda s: s.replace("[city]\nname = ", "[city]\nname == "), "at line 5"),
        (
            lambda s: s.replace("unfinished_days = 30", "unfinished_days = 0"),
            "'privacy.unfinished_days' must be between 1 and 3650",
        ),
        (
            lambda s: s.replace("contacts = []", 'contacts = ["+4917612345678"]'),
            "'coordinators.contacts' must be like \"telegram:123\"",
        ),
    ],
)
def test_city_file_errors_name_the_file_and_key_or_line(
    tmp_path: Path, edit: object, message: str
) -> None:
    broken = tmp_path / "city.toml"
    broken.write_text(edit(CITY_FILE.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ConfigError) as raised:
        load_city(broken)
    assert str(broken) in str(raised.value)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_coordinators_are_read_as_contacts_and_as_telegram_ids(tmp_path: Path) -> None:
    path = city_file(
        tmp_path,
        telegram_ids="[9000, 9001]",
        contacts='["signal:+4917612345678", "telegram:9001", "signal:1b2c-uuid"]',
    )
    assert load_city(path).coordinators == {
        Contact("telegram", "9000"),
        Contact("telegram", "9001"),
        Contact("signal", "+4917612345678"),
        Contact("signal", "1b2c-uuid"),
    }


def test_missing_city_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="city file not found"):
        load_city(tmp_path / "nowhere.toml")


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOTSENBOT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_run_without_token_says_so_in_one_line_and_exits_2(tmp_path: Path) -> None:
    result = run_cli("run", env=bot_env(None, tmp_path / "db.sqlite3"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]
    assert "LOTSENBOT_SIGNAL_URL" in lines[0] and "LOTSENBOT_SIGNAL_ACCOUNT" in lines[0]
    assert "make demo" in lines[0]  # the way to see the bot without a token
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_run_with_broken_city_file_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "city.toml"
    broken.write_text("[city]\nname = 'Dorsten'\ntimezone = \n", encoding="utf-8")
    env = bot_env(
        None, tmp_path / "db.sqlite3", TELEGRAM_BOT_TOKEN="1:x", LOTSENBOT_CONFIG=str(broken)
    )
    result = run_cli("run", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(broken) in lines[0] and "line 3" in lines[0]


def test_coordinator_add_from_the_command_line(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "db.sqlite3"
    result = run_cli("coordinator", "add", "4242", env=bot_env(None, db))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            f"SELECT role FROM person WHERE {BY_TELEGRAM_ID}", (4242,)
        ).fetchone() == ("coordinator",)
    # A contact names its channel; a bare number is a Telegram id, anything else is refused.
    result = run_cli("coordinator", "add", "signal:+4917612345678", env=bot_env(None, db))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute(
            "SELECT p.role FROM person p JOIN contact c ON c.person_id = p.id "
            "WHERE c.channel = 'signal' AND c.address = '+4917612345678'"
        ).fetchone() == ("coordinator",)
    result = run_cli("coordinator", "add", "+4917612345678", env=bot_env(None, db))
    assert result.returncode == 2 and "not a contact" in result.stderr
