"""The ``language`` of ``question.submit`` on the wire: a short BCP 47 tag, or nothing (then
the connection's interface language is stored)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from support.clients import Client, audience_cookie, ok
from support.stack import Stack
from support.summit import WORKSHOP_1

from townhall.platform.models import Question
from townhall.realtime.messages import ProtocolError, QuestionSubmit, decode_command

LOBBY_OPEN = "2021-12-08T15:50:00+03:00"  # workshop 1's room is open for questions


def frame(**fields: object) -> str:
    return json.dumps(
        {"type": "question.submit", "room": 1, "text": "Quelle résilience ?", **fields}
    )


@pytest.mark.parametrize("language", ["en", "fr", "tr", "fr-CA", "zh-Hant-TW", None])
def test_question_submit_takes_a_short_language_tag(language: str | None) -> None:
    command = decode_command(frame(language=language))

    assert isinstance(command, QuestionSubmit) and command.language == language


def test_question_submit_without_language_says_none() -> None:
    command = decode_command(frame())

    assert isinstance(command, QuestionSubmit) and command.language is None


@pytest.mark.parametrize(
    "language", ["", "french", "fr_FR", "fr-", "a-b", "fr-CA-x-y", 3, "en-" + "a" * 20]
)
def test_question_submit_refuses_anything_else(language: object) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode_command(frame(language=language))

    assert refused.value.code == "message.invalid"


# ---- a question sent without a language is asked in the connection's ---------------------
async def test_question_without_language_takes_the_connections_interface_language(
    embedded: Stack,
) -> None:
    server = embedded.server("a", now=LOBBY_OPEN)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    chosen = Client.of(
        server, await audience_cookie(server, "Chose") + "; townhall_lang=fr", "chose"
    )
    browser = Client.of(server, await audience_cookie(server, "Browser"), "browser")
    browser.headers["Accept-Language"] = "tr-TR,tr;q=0.9,en;q=0.5"
    plain = Client.of(server, await audience_cookie(server, "Plain"), "plain")
    embedded.clients.extend([chosen, browser, plain])
    asked = {}
    for client, text in ((chosen, "Quelle résilience ?"), (browser, "Hangi dayanıklılık?")):
        await client.connect()
        await client.join(room)
        asked[client.name] = (await ok(client, "question.submit", room=room, text=text))["question"]
    await plain.connect()
    await plain.join(room)
    said = await ok(plain, "question.submit", room=room, text="Which?", language="de")
    silent = await ok(plain, "question.submit", room=room, text="Which one?")

    async with embedded.db.sessionmaker() as db:
        stored = {
            q.id: q.language
            for q in await db.scalars(select(Question).where(Question.room_id == room))
        }
    assert stored == {
        asked[chosen.name]: "fr",
        asked[browser.name]: "tr",
        said["question"]: "de",
        silent["question"]: "en",
    }
