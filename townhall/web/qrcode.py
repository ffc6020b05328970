"""A small QR code encoder (ISO/IEC 18004): byte mode, error correction level M, versions 1–10.

Enough for a room's join link on the big screen (up to 213 bytes), drawn as an SVG path so it
stays sharp at any size and needs no image library. :func:`encode` returns the module matrix
(``True`` = dark), :func:`svg` the picture with the standard four-module quiet zone.
"""

from __future__ import annotations

from html import escape

MAX_VERSION = 10
FORMAT_BITS_M = 0b00  # level M in the format information
# Per version (level M): (EC codewords per block, [(blocks, data codewords per block), ...]).
BLOCKS_M: dict[int, tuple[int, list[tuple[int, int]]]] = {
    1: (10, [(1, 16)]),
    2: (16, [(1, 28)]),
    3: (26, [(1, 44)]),
    4: (18, [(2, 32)]),
    5: (24, [(2, 43)]),
    6: (16, [(4, 27)]),
    7: (18, [(4, 31)]),
    8: (22, [(2, 38), (2, 39)]),
    9: (22, [(3, 36), (2, 37)]),
    10: (26, [(4, 43), (1, 44)]),
}
ALIGNMENT = {
    1: [],
    2: [6, 18],
    3: [6, 22],
    4: [6, 26],
    5: [6, 30],
    6: [6, 34],
    7: [6, 22, 38],
    8: [6, 24, 42],
    9: [6, 26, 46],
    10: [6, 28, 50],
}
REMAINDER_BITS = {1: 0, 2: 7, 3: 7, 4: 7, 5: 7, 6: 7, 7: 0, 8: 0, 9: 0, 10: 0}

Matrix = list[list[bool]]


class DataTooLong(ValueError):
    """The data does not fit a version-10 symbol at level M."""


# ---- Reed–Solomon over GF(256), polynomial x^8 + x^4 + x^3 + x^2 + 1 -----------------------
EXP = [0] * 512
LOG = [0] * 256
_value = 1
for _power in range(255):
    EXP[_power] = _value
    LOG[_value] = _power
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _power in range(255, 512):
    EXP[_power] = EXP[_power - 255]


def _multiply(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def _generator(degree: int) -> list[int]:
    """Coefficients (highest power first) of (x - α^0)(x - α^1)…(x - α^(degree-1))."""
    poly = [1]
    for i in range(degree):
        poly = [*poly, 0]
        for j in range(len(poly) - 1, 0, -1):
            poly[j] ^= _multiply(poly[j - 1], EXP[i])
    return poly


def error_correction(data: list[int], degree: int) -> list[int]:
    """The remainder of data·x^degree divided by the generator polynomial."""
    generator = _generator(degree)
    remainder = [*data, *([0] * degree)]
    for i in range(len(data)):
        factor = remainder[i]
        if factor:
            for j in range(1, len(generator)):
                remainder[i + j] ^= _multiply(generator[j], factor)
    return remainder[len(data) :]


# ---- data codewords ---------------------------------------------------------------------
def capacity(version: int) -> int:
    """Data codewords of a version at level M."""
    return sum(blocks * size for blocks, size in BLOCKS_M[version][1])


def choose_version(length: int) -> int:
    for version in range(1, MAX_VERSION + 1):
        count_bits = 8 if version < 10 else 16
        if 4 + count_bits + 8 * length <= 8 * capacity(version):
            return version
    raise DataTooLong(f"{length} bytes do not fit a version {MAX_VERSION} QR code at level M")


def data_codewords(payload: bytes, version: int) -> list[int]:
    bits: list[int] = []

    def put(value: int, width: int) -> None:
        bits.extend((value >> i) & 1 for i in range(width - 1, -1, -1))

    put(0b0100, 4)  # byte mode
    put(len(payload), 8 if version < 10 else 16)
    for byte in payload:
        put(byte, 8)
    room = 8 * capacity(version)
    if len(bits) > room:
        raise DataTooLong(f"{len(payload)} bytes do not fit version {version} at level M")
    bits.extend([0] * min(4, room - len(bits)))  # terminator
    bits.extend([0] * (-len(bits) % 8))
    words = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pads = (0xEC, 0x11)
    words.extend(pads[i % 2] for i in range(capacity(version) - len(words)))
    return words


def interleave(words: list[int], version: int) -> list[int]:
    """Split into blocks, add each block's EC codewords, and interleave them all."""
    degree, groups = BLOCKS_M[version]
    blocks: list[list[int]] = []
    start = 0
    for count, size in groups:
        for _ in range(count):
            blocks.append(words[start : start + size])
            start += size
    ecc = [error_correction(block, degree) for block in blocks]
    result = [b[i] for i in range(max(map(len, blocks))) for b in blocks if i < len(b)]
    result.extend(e[i] for i in range(degree) for e in ecc)
    return result


# ---- the matrix -------------------------------------------------------------------------
class _Symbol:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = 17 + 4 * version
        self.dark: Matrix = [[False] * self.size for _ in range(self.size)]
        self.reserved: Matrix = [[False] * self.size for _ in range(self.size)]

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.reserved[y][x] = True

    def draw_function_patterns(self) -> None:
        size = self.size
        for i in range(size):
            self.set(6, i, i % 2 == 0)  # timing patterns
            self.set(i, 6, i % 2 == 0)
        for cx, cy in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    x, y = cx + dx, cy + dy
                    if 0 <= x < size and 0 <= y < size:
                        ring = max(abs(dx), abs(dy))
                        self.set(x, y, ring not in (2, 4))
        centres = ALIGNMENT[self.version]
        last = len(centres) - 1
        for i, cx in enumerate(centres):
            for j, cy in enumerate(centres):
                if (i, j) in ((0, 0), (0, last), (last, 0)):
                    continue  # these overlap the finder patterns
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1)
        self.draw_format(0)  # reserve the areas; the real bits come after masking
        self.draw_version()

    def draw_format(self, mask: int) -> None:
        data = FORMAT_BITS_M << 3 | mask
        remainder = data
        for _ in range(10):
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        bits = (data << 10 | remainder) ^ 0x5412
        size = self.size

        def bit(i: int) -> bool:
            return (bits >> i) & 1 == 1

        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(size - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, size - 15 + i, bit(i))
        self.set(8, size - 8, True)  # the dark module

    def draw_version(self) -> None:
        if self.version < 7:
            return
        remainder = self.version
        for _ in range(12):
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        bits = self.version << 12 | remainder
        for i in range(18):
            dark = (bits >> i) & 1 == 1
            a, b = self.size - 11 + i % 3, i // 3
            self.set(a, b, dark)
            self.set(b, a, dark)

    def place(self, codewords: list[int]) -> None:
        """Zig-zag two columns at a time from the bottom right, skipping the timing column."""
        bits = [(word >> (7 - i)) & 1 for word in codewords for i in range(8)]
        bits.extend([0] * REMAINDER_BITS[self.version])
        index = 0
        right = self.size - 1
        while right >= 1:
            if right == 6:
                right = 5
            for vertical in range(self.size):
                for offset in range(2):
                    x = right - offset
                    upward = ((right + 1) & 2) == 0
                    y = self.size - 1 - vertical if upward else vertical
                    if not self.reserved[y][x] and index < len(bits):
                        self.dark[y][x] = bits[index] == 1
                        index += 1
            right -= 2

    def apply_mask(self, mask: int) -> None:
        test = MASKS[mask]
        for y in range(self.size):
            for x in range(self.size):
                if not self.reserved[y][x] and test(x, y):
                    self.dark[y][x] = not self.dark[y][x]


MASKS = (
    lambda x, y: (x + y) % 2 == 0,
    lambda x, y: y % 2 == 0,
    lambda x, y: x % 3 == 0,
    lambda x, y: (x + y) % 3 == 0,
    lambda x, y: (x // 3 + y // 2) % 2 == 0,
    lambda x, y: x * y % 2 + x * y % 3 == 0,
    lambda x, y: (x * y % 2 + x * y % 3) % 2 == 0,
    lambda x, y: ((x + y) % 2 + x * y % 3) % 2 == 0,
)


# 1:1:3:1:1 (dark, light, dark×3, light, dark) then four light modules.
FINDER_LIKE = [c == "#" for c in "#.###.#...."]


def penalty(matrix: Matrix) -> int:
    """The four penalty rules of ISO/IEC 18004 §7.8.3: the mask with the lowest wins."""
    size = len(matrix)
    score = 0
    lines = [*matrix, *([matrix[y][x] for y in range(size)] for x in range(size))]
    finder_like = (FINDER_LIKE, FINDER_LIKE[::-1])
    for line in lines:
        run = 1
        for i in range(1, size + 1):
            if i < size and line[i] == line[i - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + run - 5  # N1: runs of five or more of one colour
            run = 1
        for i in range(size - 10):
            if line[i : i + 11] in finder_like:
                score += 40  # N3: 1:1:3:1:1 with four light modules on one side
    for y in range(size - 1):
        for x in range(size - 1):
            colour = matrix[y][x]
            if colour == matrix[y][x + 1] == matrix[y + 1][x] == matrix[y + 1][x + 1]:
                score += 3  # N2: 2x2 blocks of one colour
    dark = sum(map(sum, matrix))
    total = size * size
    score += 10 * (abs(dark * 20 - total * 10) // total)  # N4: each 5 % away from half dark
    return score


def encode(data: str | bytes, *, mask: int | None = None, version: int | None = None) -> Matrix:
    """The module matrix of ``data`` (UTF-8 for text); the best mask unless one is given."""
    payload = data.encode() if isinstance(data, str) else data
    version = version or choose_version(len(payload))
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(f"versions 1 to {MAX_VERSION} are supported, not {version}")
    codewords = interleave(data_codewords(payload, version), version)
    candidates = range(8) if mask is None else (mask,)
    best: tuple[int, Matrix] | None = None
    for candidate in candidates:
        symbol = _Symbol(version)
        symbol.draw_function_patterns()
        symbol.place(codewords)
        symbol.apply_mask(candidate)
        symbol.draw_format(candidate)
        score = penalty(symbol.dark) if mask is None else 0
        if best is None or score < best[0]:
            best = (score, symbol.dark)
    assert best is not None
    return best[1]


def svg(data: str | bytes, *, label: str | None = None, quiet_zone: int = 4) -> str:
    """An SVG picture of the code: one path of dark runs on a light square."""
    matrix = encode(data)
    size = len(matrix) + 2 * quiet_zone
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start + quiet_zone} {y + quiet_zone}h{x - start}v1h-{x - start}z")
    title = f"<title>{escape(label)}</title>" if label else ""
    aria = f' aria-label="{escape(label)}"' if label else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" shape-rendering="crispEdges" class="qr-code"{aria}>{title}'
        f'<path fill="#fff" d="M0 0h{size}v{size}h-{size}z"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
