"""Telegram: python-telegram-bot, the durable intake, updates in and screens out."""
