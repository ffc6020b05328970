"""The ``language`` of ``question.submit`` on the wire: a short BCP 47 tag, or nothing."""

from __future__ import annotations

import json

import pytest

from townhall.realtime.messages import ProtocolError, QuestionSubmit, decode_command


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
