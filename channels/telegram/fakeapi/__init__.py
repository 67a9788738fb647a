"""A local Telegram Bot API server for tests and the offline demo."""

from channels.telegram.fakeapi.server import (
    ApiError,
    BotMessage,
    FakeBotAPI,
    FakeUser,
    Fault,
    Limits,
)

__all__ = ["ApiError", "BotMessage", "FakeBotAPI", "FakeUser", "Fault", "Limits"]
