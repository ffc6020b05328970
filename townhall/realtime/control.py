"""The control channel: process-wide notices (presence changed, access changed, participant
banned). A notice runs its listener here at once and on every other process when the broker
brings it; a process ignores its own notices coming back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .broker import Broker
from .channels import Channels
from .messages import encoder

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]


class Control:
    def __init__(self, *, broker: Broker, channels: Channels, process_id: str) -> None:
        self.broker = broker
        self.channel = channels.control
        self.process_id = process_id
        self.listeners: dict[str, Listener] = {}

    def listen(self, kind: str, listener: Listener) -> None:
        self.listeners[kind] = listener

    async def publish(self, kind: str, **body: Any) -> None:
        notice = {"kind": kind, "from": self.process_id, **body}
        if kind in self.listeners:
            self.listeners[kind](notice)
        try:
            await self.broker.publish(self.channel, encoder.encode(notice))
        except Exception as exc:
            log.warning("control notice %s not published: %s", kind, exc)

    def received(self, notice: dict[str, Any]) -> None:
        if notice.get("from") == self.process_id:
            return  # already handled in publish()
        listener = self.listeners.get(notice.get("kind") or "")
        if listener is not None:
            listener(notice)
