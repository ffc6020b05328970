"""The QR encoder: exact matrices against reference symbols, and real decoding by zxing-cpp.

The reference matrices were made by an independent encoder (python-qrcode 8.2) with the same
version, level and mask; zxing-cpp decodes what :mod:`townhall.web.qrcode` draws, both from
the module matrix and from the SVG path the big screen shows.
"""

from __future__ import annotations

import random
import re

import pytest
import zxingcpp

from townhall.web import qrcode

TOWNHALL_1M_MASK2 = """\
#######..###..#######
#.....#..#....#.....#
#.###.#.#...#.#.###.#
#.###.#.#...#.#.###.#
#.###.#.#.###.#.###.#
#.....#.###.#.#.....#
#######.#.#.#.#######
........#..##........
#.#####.....#.#####..
.##.#..###..######..#
###..#####.#.....#.#.
.#..#..###.....#.##..
.##...#....#....##.#.
........##.#########.
#######..#..#.#..#.#.
#.....#.##.####..##..
#.###.#.#.#.#..#....#
#.###.#.###.#..###...
#.###.#.#.##.#.......
#.....#...#....#.##..
#######.#..#.#.##..#.
"""

LINK_7M_MASK5 = """\
#######..#.###.###.....#...#..#.#...#.#######
#.....#.#..##.#...#..#..#..##......#..#.....#
#.###.#.####...#.##....##..#####...#..#.###.#
#.###.#.#.##..#.#.#..#.####.#.#.##.##.#.###.#
#.###.#..##......########.....##.####.#.###.#
#.....#..#.##.#.##..#...##............#.....#
#######.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#######
........#.#..#.#...##...#...#.#..#.#.........
#.....#.##.##.#.##..######...#####.####..###.
..#.##..#..#......###.#####.#.#..##.#.##.#.#.
#.##.########..###.#....#.##############.#.#.
#...##.....###.#.......####..#.##...###..##..
.###.##..#.#.#.#..#.#.###....#..#........#.#.
##.#...#......#..#...##.##..##.#.#.###..##...
..#..#####...###..#..###.##.#.#.#.#####.#..##
.###...#.#.######..#.#....####...#.#.#.###...
#.##.##..#.....#....##.#.#.#..##.###..##..###
.##.....#..##.#########....#.##..#######..#..
.#...##.#.#.#..##..#....#.####.#.##..####.###
###..#.#####...##....#.#.#####.....#....#.###
.#.######..#.###.#.######.##.####..########..
#...#...#..##.###.###...##....#...#.#...###..
.##.#.#.#.###.....#.#.#.#..#.#.##...#.#.#.#..
.##.#...#..#...####.#...######.#.##.#...#####
###.########..###########.#.##.##...#####..##
##..#..##..#.#..#####.##.#.#.#.#.#..##.#.#..#
..#.###.#########....#...##...#...#.#....###.
....##.##.#######..#.#.##.###.#..##..##..##..
#..######.....#.#....#..#.##.###...##.#.#..##
..#.#...####.#..##..#.##.#.#..##.#.#..##..##.
##....#....##...#...#..###.##.#..#..#####.###
.#.###.##....##..#.##.##.##..#..#..##.#...##.
.#...####....##.#####.#...#.#.##.........##..
.##..#.....##.####..#.##.#....#...###...##.##
....#.##...##.#..#..##.##...#..##...##......#
.####..####.#.#.###..#..#..##.##.######..#...
#..##.##.....#..#########.####.###.########..
........###.##...####...#.....##.####...#####
#######..##..##.#..##.#.##.#.#...#.##.#.#.##.
#.....#...######.##.#...#.#...#.#####...###.#
#.###.#...#.###.....#####....####.########.#.
#.###.#...#..####..##..###..#.#.##..#.....###
#.###.#...#.#.#.###...####....#..#....#...###
#.....#..##.#....#.###...##..#..###.....###..
#######.#...##...###...####.#..#...#.#..##.#.
"""

LINK = "https://townhall.example/events/mayors-summit-2021/rooms/3 ✓"


def rows(matrix: qrcode.Matrix) -> str:
    return "\n".join("".join("#" if dark else "." for dark in row) for row in matrix) + "\n"


def raster(matrix: qrcode.Matrix, *, scale: int = 4, quiet: int = 4) -> memoryview:
    """A grayscale image of the symbol: black modules on white, with a quiet zone."""
    size = (len(matrix) + 2 * quiet) * scale
    pixels = bytearray(b"\xff" * (size * size))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = ((y + quiet) * scale + dy) * size + (x + quiet) * scale
                    pixels[start : start + scale] = b"\x00" * scale
    return memoryview(bytes(pixels)).cast("B", (size, size))


def decode(matrix: qrcode.Matrix) -> bytes:
    found = zxingcpp.read_barcodes(raster(matrix), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, f"zxing-cpp found {len(found)} QR codes"
    return found[0].bytes


def matrix_of_svg(svg: str) -> qrcode.Matrix:
    """Read the dark runs back out of the SVG path (quiet zone included)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    dark_path = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
    matrix = [[False] * size for _ in range(size)]
    for x, y, length in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", dark_path):
        for column in range(int(x), int(x) + int(length)):
            matrix[int(y)][column] = True
    return matrix


def test_error_correction_matches_the_standard_example():
    # ISO/IEC 18004 Annex I: "01234567" in a version 1-M symbol.
    data = [16, 32, 12, 86, 97, 128, 236, 17, 236, 17, 236, 17, 236, 17, 236, 17]

    assert qrcode.error_correction(data, 10) == [165, 36, 212, 193, 237, 54, 199, 135, 44, 85]


def test_encode_version_1_matches_the_reference_symbol():
    assert rows(qrcode.encode(b"Townhall", version=1, mask=2)) == TOWNHALL_1M_MASK2


def test_encode_version_7_with_version_information_matches_the_reference_symbol():
    assert rows(qrcode.encode(LINK, version=7, mask=5)) == LINK_7M_MASK5


@pytest.mark.parametrize("version", range(1, 11))
def test_encode_every_version_and_mask_decodes(version: int):
    chance = random.Random(version)
    length = qrcode.capacity(version) - (2 if version < 10 else 3)  # full to the last byte
    decoded = {}
    for mask in range(8):
        data = bytes(chance.randrange(256) for _ in range(length))
        decoded[mask] = decode(qrcode.encode(data, version=version, mask=mask)) == data

    assert decoded == dict.fromkeys(range(8), True)


def test_encode_chooses_the_smallest_version():
    sizes = {n: len(qrcode.encode(b"x" * n)) for n in (1, 14, 15, 26, 27, 213)}

    assert sizes == {1: 21, 14: 21, 15: 25, 26: 25, 27: 29, 213: 57}


def test_encode_refuses_data_beyond_version_10():
    with pytest.raises(qrcode.DataTooLong):
        qrcode.encode(b"x" * 214)


def test_svg_draws_a_decodable_code_with_its_label():
    link = "http://testserver/events/mayors-summit-2021/rooms/3"
    svg = qrcode.svg(link, label="Join: <room 3>")

    assert (
        decode([row[4:-4] for row in matrix_of_svg(svg)[4:-4]]),
        svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"'),
        "<title>Join: &lt;room 3&gt;</title>" in svg,
        'aria-label="Join: &lt;room 3&gt;"' in svg,
    ) == (link.encode(), True, True, True)
