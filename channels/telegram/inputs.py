"""What Telegram delivers, as the conversation's inputs."""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType

from channels.telegram.markup import markup_of
from handlers.port import Input, Kind, Upload

__all__ = ["CHANNEL", "input_of"]

#: The channel's name in contacts (``telegram:<user id>``) and stored message references.
CHANNEL = "telegram"


def input_of(update: Update) -> Input | None:
    """The input an update stands for; None for what the conversation does not take (channel
    posts, updates without a person)."""
    query = update.callback_query
    if query is not None:
        user = query.from_user
        chat = update.effective_chat
        pressed = query.message.message_id if query.message is not None else None
        return Input(
            Kind.ACTION,
            key=update.update_id,
            channel=CHANNEL,
            sender=str(user.id),
            chat=str(chat.id if chat is not None else user.id),
            private=chat is None or chat.type == ChatType.PRIVATE,
            first_name=user.first_name,
            full_name=user.full_name,
            language=user.language_code,
            action=query.data,
            pressed=pressed,
            press=query.id,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None:
        return None
    user = message.from_user
    kind = Kind.EDIT if update.edited_message is not None else Kind.MESSAGE
    command: str | None = None
    args: tuple[str, ...] = ()
    if kind is Kind.MESSAGE and _is_command(message):
        assert message.text is not None
        words = message.text.split()
        command = words[0][1:].split("@", 1)[0].lower()
        args = tuple(words[1:])
        kind = Kind.COMMAND
    return Input(
        kind,
        key=update.update_id,
        channel=CHANNEL,
        sender=str(user.id),
        chat=str(message.chat_id),
        private=message.chat.type == ChatType.PRIVATE,
        first_name=user.first_name,
        full_name=user.full_name,
        language=user.language_code,
        command=command,
        args=args,
        text=message.text,
        caption=message.caption,
        markup=markup_of(message),
        upload=_upload(message),
        message=message.message_id,
        reply_to=(
            message.reply_to_message.message_id if message.reply_to_message is not None else None
        ),
    )


def _is_command(message: Message) -> bool:
    """A message beginning with a bot command (as python-telegram-bot's ``filters.COMMAND``)."""
    entities = message.entities
    return bool(
        message.text
        and entities
        and entities[0].type == MessageEntity.BOT_COMMAND
        and entities[0].offset == 0
    )


def _upload(message: Message) -> Upload | None:
    """A voice note, photo or document by Telegram's file id; ``other`` for anything else."""
    if message.voice is not None:
        return Upload("voice", message.voice.file_id, message.voice.file_size or 0)
    if message.photo:
        photo = message.photo[-1]
        return Upload("photo", photo.file_id, photo.file_size or 0)
    if message.document is not None:
        document = message.document
        return Upload("document", document.file_id, document.file_size or 0, document.mime_type)
    if message.effective_attachment is not None:
        return Upload("other", "")
    return None
