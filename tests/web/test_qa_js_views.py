"""Pure view helpers of ``static/js/qa.js`` and ``labels.js``, run in Node.js (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

from support.node import run_in_node


def test_next_up_leaves_out_the_question_on_air_keeping_positions(tmp_path: Path) -> None:
    state = {
        "on_air": 7,
        "pinned": [7, 8, 9],
        "questions": [{"id": i, "status": "approved", "text": f"q{i}"} for i in (7, 8, 9)],
    }
    script = f"""
import {{ waitingNextUp }} from "./qa.mjs";
const state = {json.dumps(state)};
process.stdout.write(JSON.stringify(
  waitingNextUp(state).map(({{ question, position }}) => [question.id, position])
));
"""
    assert run_in_node(tmp_path, script) == [[8, 1], [9, 2]]


def test_votes_label_counts_in_english_without_a_catalogue(tmp_path: Path) -> None:
    script = """
import { votesLabel } from "./qa.mjs";
process.stdout.write(JSON.stringify([0, 1, 2, 1500].map(votesLabel)));
"""
    assert run_in_node(tmp_path, script) == ["0 votes", "1 vote", "2 votes", "1,500 votes"]


def test_language_filter_lists_the_languages_asked_in_and_keeps_one(tmp_path: Path) -> None:
    questions = [
        {"id": 1, "language": "fr"},
        {"id": 2, "language": "tr"},
        {"id": 3, "language": "fr"},
        {"id": 4, "language": None},
        {"id": 5},
        {"id": 6, "language": "en"},
    ]
    script = f"""
import {{ inLanguage, languageLabel, questionLanguages }} from "./qa.mjs";
const questions = {json.dumps(questions)};
const ids = (list) => list.map((q) => q.id);
process.stdout.write(JSON.stringify({{
  languages: questionLanguages(questions),
  fr: ids(inLanguage(questions, "fr")),
  none: ids(inLanguage(questions, "")),
  all: ids(inLanguage(questions, null)),
  labels: ["fr", "tr", "fr-CA", "", "qq"].map(languageLabel),
}}));
"""
    assert run_in_node(tmp_path, script) == {
        "languages": ["", "fr", "en", "tr"],
        "fr": [1, 3],
        "none": [4, 5],
        "all": [1, 2, 3, 4, 5, 6],
        "labels": ["French", "Turkish", "Canadian French", "Language not said", "qq"],
    }


def test_merge_targets_put_the_closest_text_first_not_the_oldest(tmp_path: Path) -> None:
    questions = [
        {"id": 1, "text": "When does the workshop end?"},
        {"id": 2, "text": "Who will fund the resilience officers?"},
        {"id": 3, "text": "How do cities pay for flood defences?"},
        {"id": 4, "text": "Who funds the resilience officers, and for how long?"},
    ]
    script = f"""
import {{ closestFirst }} from "./qa.mjs";
const questions = {json.dumps(questions)};
process.stdout.write(JSON.stringify(
  closestFirst("Who funds resilience officers?", questions).map((q) => q.id)
));
"""
    assert run_in_node(tmp_path, script) == [4, 2, 1, 3]


def test_event_clock_time_names_the_event_zone_whatever_the_viewer_zone(tmp_path: Path) -> None:
    script = """
import { eventClockTime } from "./labels.mjs";
process.stdout.write(JSON.stringify([
  eventClockTime("2021-12-08T13:05:00Z", "Europe/Istanbul", "Izmir"),
  eventClockTime("2021-12-08T13:05:00Z", "America/Montreal", "Montréal"),
  eventClockTime(null, "Europe/Istanbul", "Izmir"),
]));
"""
    assert run_in_node(tmp_path, script) == ["16:05 (Izmir)", "08:05 (Montréal)", ""]
