"""``static/js/qa.js`` against the server: for each kind of viewer, the snapshot before plus
the events that viewer may see, reduced by qa.js in Node, equals the snapshot after.

The events come from the real domain actions (townhall.platform.questions), so the reducer is
checked against the event shapes the server really logs, not against a description of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import programme, questions
from townhall.platform.models import Room
from townhall.platform.participants import create_participant
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.platform.room_log import list_events_after
from townhall.platform.viewers import Viewer

SLUG = "mayors-summit-2021"
WORKSHOP_1 = "workshop-1-building-resilience"
NOW = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
JS = Path(__file__).resolve().parents[2] / "townhall" / "web" / "static" / "js"
RUNNER = """
import { readFileSync } from "node:fs";
import { applyEvent, questionsFromSnapshot } from "./qa.mjs";
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const [name, { before, events }] of Object.entries(cases)) {
  let state = questionsFromSnapshot(before);
  for (const event of events) state = applyEvent(state, event);
  out[name] = state;
}
process.stdout.write(JSON.stringify(out));
"""


def reduce_in_node(cases: dict, folder: Path) -> dict:
    """Run qa.js (as .mjs files, so any Node version reads them as ES modules)."""
    modules = ("qa", "live", "labels")
    for name in modules:
        text = (JS / f"{name}.js").read_text()
        for other in modules:
            text = text.replace(f'from "./{other}.js"', f'from "./{other}.mjs"')
        (folder / f"{name}.mjs").write_text(text)
    (folder / "run.mjs").write_text(RUNNER)
    (folder / "cases.json").write_text(json.dumps(cases))
    node = shutil.which("node")
    assert node, "Node.js is needed to run the browser modules' reducer"
    done = subprocess.run(
        [node, str(folder / "run.mjs"), str(folder / "cases.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def comparable(state: dict) -> dict:
    """The sequenced Q&A state (my_votes is personal: replies update it, not events)."""
    return {
        "questions": sorted(state["questions"], key=lambda q: q["id"]),
        "counters": state["counters"],
        "on_air": state["on_air"],
        "pinned": state["pinned"],
    }


async def test_qa_js_reducer_turns_each_snapshot_into_the_next(
    db: AsyncSession, summit_spec: ProgrammeSpec, tmp_path: Path
):
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug=SLUG)
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room = session.room
    assert room is not None
    room.state = "live"
    await db.commit()
    people = {}
    for name in ("Ada", "Bob", "Onlooker"):
        participant = await create_participant(db, event_id=event.id, display_name=name, now=NOW)
        people[name] = Viewer(participant_id=participant.id, display_name=name, event_id=event.id)
    moderator = Viewer(display_name="Moderator", event_id=event.id, moderates=frozenset({room.id}))
    panelist = Viewer(
        participant_id=people["Onlooker"].participant_id,
        event_id=event.id,
        panelist_in=frozenset({room.id}),
    )
    viewers = {
        "moderator": moderator,
        "author": people["Ada"],
        "audience": people["Onlooker"],
        "panel": panelist,
    }
    await db.commit()
    before = {
        name: await questions.questions_snapshot(db, room_id=room.id, viewer=v)
        for name, v in viewers.items()
    }
    start = (await db.get(Room, room.id)).seq
    m = {"db": db, "room_id": room.id, "moderator": moderator, "now": NOW}

    ada, _ = await questions.submit_question(
        db,
        room_id=room.id,
        viewer=people["Ada"],
        text="Who pays?",
        anonymous=True,
        to="sameh-wahba",
        now=NOW,
    )
    bob, _ = await questions.submit_question(
        db, room_id=room.id, viewer=people["Bob"], text="Who pays, then?", anonymous=False, now=NOW
    )
    third, _ = await questions.submit_question(
        db, room_id=room.id, viewer=people["Bob"], text="Off topic", anonymous=False, now=NOW
    )
    await questions.approve_question(**m, question_id=ada.id)
    await questions.approve_question(**m, question_id=bob.id)
    await questions.vote(
        db, room_id=room.id, question_id=bob.id, viewer=people["Onlooker"], now=NOW, up=True
    )
    await questions.log_vote_counts(db, room_id=room.id, question_ids={bob.id}, now=NOW)
    await questions.pin_question(**m, question_id=bob.id, position=0)
    await questions.pin_question(**m, question_id=ada.id, position=0)
    await questions.put_on_air(**m, question_id=ada.id)
    await questions.edit_question(**m, question_id=ada.id, text="Who pays for resilience?")
    await questions.assign_question(**m, question_id=ada.id, to="lina-liakou")
    await questions.merge_question(**m, question_id=bob.id, into=ada.id)
    await questions.mark_answered(**m, question_id=ada.id, by="sameh-wahba")
    await questions.dismiss_question(**m, question_id=third.id, reason="off topic")
    await questions.archive_question(**m, question_id=third.id)
    await db.commit()

    logged = await list_events_after(db, room_id=room.id, after=start)
    cases = {
        name: {
            "before": before[name],
            "events": [
                {"name": e.name, "data": e.data, "seq": e.seq}
                for e in logged
                if v.can_see(room.id, e.visibility, e.participant_id)
            ],
        }
        for name, v in viewers.items()
    }
    after = {
        name: await questions.questions_snapshot(db, room_id=room.id, viewer=v)
        for name, v in viewers.items()
    }
    reduced = reduce_in_node(cases, tmp_path)

    assert {name: comparable(state) for name, state in reduced.items()} == {
        name: comparable(state) for name, state in after.items()
    }
