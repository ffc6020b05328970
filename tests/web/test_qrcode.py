"""The big screen's QR code (segno): what it draws decodes, by zxing-cpp, to the join link.

The picture is read back out of the SVG path the big screen shows (not from segno's own
matrix), rasterised, and handed to an independent decoder.
"""

from __future__ import annotations

import re

import pytest
import zxingcpp

from townhall.web import qrcode

Matrix = list[list[bool]]


def raster(matrix: Matrix, *, scale: int = 4) -> memoryview:
    """A grayscale image of the symbol (quiet zone included): black modules on white."""
    size = len(matrix) * scale
    pixels = bytearray(b"\xff" * (size * size))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (y * scale + dy) * size + x * scale
                    pixels[start : start + scale] = b"\x00" * scale
    return memoryview(bytes(pixels)).cast("B", (size, size))


def decode(matrix: Matrix) -> bytes:
    found = zxingcpp.read_barcodes(raster(matrix), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"zxing-cpp found {len(found)} QR codes"
    return found[0].bytes


def matrix_of_svg(svg: str) -> Matrix:
    """The dark modules of the SVG: one stroked path of horizontal runs, one module high."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]*)"', svg).group(1)
    matrix = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            end = values[0] if command == "H" else x + values[0]
            for column in range(int(x), int(end)):
                matrix[int(y)][column] = True
            x = end
    return matrix


@pytest.mark.parametrize(
    "link",
    [
        "http://testserver/events/mayors-summit-2021/rooms/3",
        "https://townhall.example/events/mayors-summit-2021/rooms/3 ✓",
        "https://townhall.example/events/" + "a-very-long-event-slug-" * 8 + "/rooms/12345",
    ],
)
def test_svg_draws_a_code_that_decodes_to_the_link(link: str):
    svg = qrcode.svg(link, label="Join")

    assert decode(matrix_of_svg(svg)) == link.encode()


def test_svg_has_its_label_escaped_and_the_quiet_zone():
    link = "http://testserver/events/mayors-summit-2021/rooms/3"
    svg = qrcode.svg(link, label="Join: <room 3>")
    matrix = matrix_of_svg(svg)
    border = [row[:4] + row[-4:] for row in matrix] + matrix[:4] + matrix[-4:]

    assert (
        svg.startswith('<svg role="img" aria-label="Join: &lt;room 3&gt;"'),
        'xmlns="http://www.w3.org/2000/svg"' in svg,
        "<title>Join: &lt;room 3&gt;</title>" in svg,
        any(any(row) for row in border),
    ) == (True, True, True, False)
