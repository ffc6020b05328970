"""An invitation's link: resending one makes a new link and kills the old.

The link carries the invitation's id and its nonce (see ``townhall.realtime.identity``); a new
nonce makes every earlier link of the invitation fail. Whoever already accepted the invitation
keeps the role it gives (their cookie names the invitation, not the link): revoking is what
ends someone's access.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from .access import get_invitation, invitation_state
from .errors import InvalidState
from .models import Invitation


async def resend_invitation(db: AsyncSession, *, invitation_id: int, now: datetime) -> Invitation:
    """A new nonce (so a new link); an expired invitation runs again for its original span."""
    invitation = await get_invitation(db, invitation_id=invitation_id)
    state = invitation_state(invitation, now)
    if state == "revoked":
        raise InvalidState(
            "a revoked invitation cannot be sent again: issue a new one",
            code="invitation.revoked",
        )
    if state == "expired":
        invitation.expires_at = now + (invitation.expires_at - invitation.created_at)
    old = invitation.nonce
    while invitation.nonce == old:
        invitation.nonce = secrets.token_urlsafe(8)
    await db.flush()
    return invitation
