"""Server messages encoded once and shared: JSON bytes plus the WebSocket frame around them.

A server-to-client WebSocket frame is never masked (RFC 6455, 5.1) and Townhall negotiates no
compression, so the bytes on the wire are the same for every socket a message goes to. An
:class:`Outbound` holds them, built once per message however many sockets it reaches; a
connection writes them as they are (see :mod:`.connection`).
"""

from __future__ import annotations

import struct

_TEXT_FIN = 0x81  # FIN bit + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """One unmasked, unfragmented text frame carrying ``payload`` (UTF-8 JSON)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _TEXT_FIN, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return header + payload


class Outbound:
    """One encoded message. ``wire`` (the framed bytes) is built on first use and kept."""

    __slots__ = ("_wire", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.payload)
        return self._wire

    def __len__(self) -> int:
        return len(self.payload)
