"""Invitations become roles that follow the programme, and stop at expiry or revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from townhall.platform import access, programme
from townhall.platform.errors import Invalid, NotFound

NOW = datetime(2021, 12, 1, tzinfo=UTC)


@pytest.fixture
async def summit(db, summit_spec):
    await programme.import_programme(db, spec=summit_spec)
    await db.commit()
    event = await programme.get_event(db, slug="mayors-summit-2021")
    sessions = {s.slug: s for s in await programme.list_sessions(db, event_id=event.id)}
    return event, sessions


def room_of(sessions, slug: str) -> int:
    return sessions[slug].room.id


async def _grants(db, event, *invitations, now=NOW):
    grants, _ = await access.grants_of(
        db, event_id=event.id, invitation_ids=[i.id for i in invitations], now=now
    )
    return grants


async def test_programme_moderator_moderates_their_session_only(db, summit) -> None:
    event, sessions = summit
    person = await access.find_person(db, event_id=event.id, name="Begüm Özden Fırat")
    invitation = await access.create_invitation(
        db, event_id=event.id, role="moderator", person_id=person.id, now=NOW
    )
    grants = await _grants(db, event, invitation)
    assert (grants.organizer, grants.moderates, grants.panelist_in) == (
        False,
        frozenset({room_of(sessions, "workshop-3-dialogue-solidarity")}),
        frozenset(),
    )


async def test_programme_panelist_sits_on_every_panel_they_appear_in(db, summit) -> None:
    event, sessions = summit
    person = await access.find_person(db, event_id=event.id, name="Sameh Wahba")
    invitation = await access.create_invitation(
        db, event_id=event.id, role="panelist", person_id=person.id, now=NOW
    )
    grants = await _grants(db, event, invitation)
    assert grants.panelist_in == frozenset({room_of(sessions, "workshop-1-building-resilience")})
    assert grants.moderates == frozenset()


async def test_session_invitation_grants_that_room(db, summit) -> None:
    event, sessions = summit
    invitation = await access.create_invitation(
        db,
        event_id=event.id,
        role="moderator",
        now=NOW,
        session_id=sessions["workshop-2-diversity-equity-inclusion"].id,
    )
    grants = await _grants(db, event, invitation)
    assert grants.moderates == frozenset(
        {room_of(sessions, "workshop-2-diversity-equity-inclusion")}
    )


async def test_expired_and_revoked_invitations_grant_nothing(db, summit) -> None:
    event, _ = summit
    expiring = await access.create_invitation(
        db, event_id=event.id, role="organizer", now=NOW, valid_for=timedelta(hours=1)
    )
    revoked = await access.create_invitation(db, event_id=event.id, role="organizer", now=NOW)
    await access.revoke_invitation(db, invitation_id=revoked.id, now=NOW)
    assert (await _grants(db, event, expiring)).organizer is True
    assert (await _grants(db, event, expiring, now=NOW + timedelta(hours=2))).organizer is False
    assert (await _grants(db, event, revoked)).organizer is False
    assert access.invitation_state(revoked, NOW) == "revoked"


async def test_redeeming_checks_the_nonce_and_state(db, summit) -> None:
    event, _ = summit
    invitation = await access.create_invitation(db, event_id=event.id, role="organizer", now=NOW)
    with pytest.raises(NotFound):
        await access.redeem_invitation(db, invitation_id=invitation.id, nonce="forged", now=NOW)
    redeemed = await access.redeem_invitation(
        db, invitation_id=invitation.id, nonce=invitation.nonce, now=NOW
    )
    assert (redeemed.redeemed_at, redeemed.participant_id is not None) == (NOW, True)
    await access.revoke_invitation(db, invitation_id=invitation.id, now=NOW)
    with pytest.raises(Invalid) as caught:
        await access.redeem_invitation(
            db, invitation_id=invitation.id, nonce=invitation.nonce, now=NOW
        )
    assert caught.value.code == "invitation.revoked"


async def test_invitation_scope_rules(db, summit) -> None:
    event, sessions = summit
    with pytest.raises(Invalid) as no_scope:
        await access.create_invitation(db, event_id=event.id, role="moderator", now=NOW)
    with pytest.raises(Invalid) as organizer_session:
        await access.create_invitation(
            db,
            event_id=event.id,
            role="organizer",
            now=NOW,
            session_id=sessions["mayors-dialogue"].id,
        )
    with pytest.raises(Invalid) as role:
        await access.create_invitation(db, event_id=event.id, role="king", now=NOW)
    assert [e.value.code for e in (no_scope, organizer_session, role)] == [
        "invitation.scope",
        "invitation.scope",
        "invitation.role",
    ]


async def test_find_person_by_key_name_or_unique_part(db, summit) -> None:
    event, _ = summit
    by_part = await access.find_person(db, event_id=event.id, name="wahba")
    assert by_part.name == "Sameh Wahba"
    assert (await access.find_person(db, event_id=event.id, name=by_part.key)).id == by_part.id
    with pytest.raises(NotFound):
        await access.find_person(db, event_id=event.id, name="Nobody Atall")
