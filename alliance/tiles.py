"""Reading a log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), the client side: pure code, no I/O.

Tile height 8: a tile holds up to 256 hashes of one tree level, level 0 being the RFC 9162 leaf
hashes H(0x00 ‖ leaf data). A tile is named ``tile/<L>/<N>`` and its entry bundle (the leaf data
of the same 256 entries, each prefixed with its big-endian 2-byte length)
``tile/entries/<N>``; the rightmost, not yet full tile of a log is read at the width it has,
``…/<N>.p/<W>``. ``<N>`` is written in zero-padded 3-digit path elements, all but the last
prefixed with ``x`` (1234067 → ``x001/x234/067``).
"""
from __future__ import annotations

from collections.abc import Iterator

from lianzheng.sdk.errors import MalformedError

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes (or entries) in a full tile


def encode_index(index: int) -> str:
    """The C2SP path form of a tile index: ``1234067`` → ``x001/x234/067``."""
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    digits = str(index)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= WIDTH:
        raise ValueError(f"tile width {width} is outside 1..{WIDTH}")
    return "" if width == WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``: the hashes of tree level 8·``level``, nodes index·256 … (+ width)."""
    if level < 0:
        raise ValueError(f"tile level {level} is negative")
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]``: the entry bundle of entries index·256 … (+ width)."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


def tiles_covering(start: int, end: int) -> Iterator[tuple[int, int]]:
    """The level-0 tiles (index, width) to read for entries [start, end): full tiles, and at the
    right edge the partial tile of exactly the width that reaches ``end``."""
    if not 0 <= start <= end:
        raise ValueError(f"bad entry range [{start}, {end})")
    for index in range(start // WIDTH, (end + WIDTH - 1) // WIDTH if end > start else 0):
        yield index, min(WIDTH, end - index * WIDTH)


def parse_tile(data: bytes, width: int, hash_size: int = 32) -> list[bytes]:
    """The ``width`` hashes of a tile's body (exactly ``width`` × ``hash_size`` bytes)."""
    if len(data) != width * hash_size:
        raise MalformedError(f"a tile of width {width} has {width * hash_size} bytes, got {len(data)}",
                             position=min(len(data) // hash_size, width - 1))
    return [data[i:i + hash_size] for i in range(0, len(data), hash_size)]


def parse_bundle(data: bytes, width: int) -> list[bytes]:
    """The leaf data of an entry bundle of ``width`` entries (2-byte big-endian length, then the
    data). A malformed bundle (cut short, bytes left over, another count) names, as ``position``
    in its evidence, the first entry that cannot be read."""
    entries: list[bytes] = []
    view, pos, end = memoryview(data), 0, len(data)
    while pos < end:
        if len(entries) == width:
            raise MalformedError(f"entry bundle has bytes after its {width} entries", position=width - 1)
        if pos + 2 > end:
            raise MalformedError(f"entry bundle cut short in the length of entry {len(entries)}",
                                 position=len(entries))
        length = (data[pos] << 8) | data[pos + 1]
        pos += 2
        if pos + length > end:
            raise MalformedError(f"entry bundle cut short in entry {len(entries)} ({length} bytes announced)",
                                 position=len(entries))
        entries.append(bytes(view[pos:pos + length]))
        pos += length
    if len(entries) != width:
        raise MalformedError(f"entry bundle has {len(entries)} entries, {width} expected",
                             position=min(len(entries), width - 1))
    return entries


def encode_bundle(entries: list[bytes]) -> bytes:
    """An entry bundle of ``entries`` (the notary's side of ``parse_bundle``; for tests and tools)."""
    out = bytearray()
    for e in entries:
        if len(e) >= 1 << 16:
            raise ValueError("an entry of a bundle is at most 65535 bytes")
        out += len(e).to_bytes(2, "big") + e
    return bytes(out)
