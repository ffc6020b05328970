"""The big screen's QR code: a room's join link drawn by segno as an inline SVG.

segno picks the smallest symbol for the link at error correction level M or better (it
raises the level when the symbol has room to spare), and draws it as one path with the
standard four-module quiet zone, so it stays sharp at any size and needs no image library.
"""

from __future__ import annotations

import io
from html import escape

import segno

QUIET_ZONE = 4


def svg(data: str, *, label: str | None = None) -> str:
    """An SVG picture of ``data`` as a QR code, with ``label`` as its accessible name."""
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        omitsize=True,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        svgclass="qr-code",
        lineclass=None,
        title=label,
        encoding="utf-8",
    )
    picture = out.getvalue().decode()
    # An image with a name for screen readers (segno writes the <title> only), and square
    # modules without anti-aliased seams between them.
    name = f' aria-label="{escape(label)}"' if label else ""
    return picture.replace("<svg ", f'<svg role="img"{name} shape-rendering="crispEdges" ', 1)
