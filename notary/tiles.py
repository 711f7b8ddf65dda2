"""The log's Merkle tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), kept in the store.

A tile at level L, index N holds up to 256 hashes of tree level 8·L: the nodes N·256 … N·256+255
(level 0: the RFC 9162 leaf hashes). A tile that is not yet full is stored as its current
prefix (a "partial tile"): it only ever grows, so every width W of it served as ``.p/W`` is
immutable. Memory holds only the right edge — the partial tile of each level, at most 255
hashes per level — so start time and memory do not depend on the log's size. Every other node
is read from a stored tile (full tiles are cached, expanded into their 8 inner levels).

``TileTree`` is a ``sdk.merkle.TreeReader`` whose nodes come from tiles: the proof and root
algorithms are the SDK's own (as ``MerkleTree``'s in memory), only where a node's hash comes from
differs; it grows only through ``extend`` and ``apply``, after its tiles are stored.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence

from lianzheng.sdk.merkle import Hasher, TreeReader

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes per full tile
CACHED_TILES = 1024  # expanded full tiles kept, least recently used out (≈ 38 KB each in Python objects)

ENTRIES = -1  # the level under which entry bundles are stored with the tiles
TileKey = tuple[int, int]  # (level, index); level ENTRIES: an entry bundle
ReadTile = Callable[[int, int], bytes | None]


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """The C2SP path of a tile (``level`` may be ``"entries"`` for an entry bundle)."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    path = "/".join([*("x" + p for p in parts[:-1]), parts[-1]])
    return f"tile/{level}/{path}" + (f".p/{width}" if width < WIDTH else "")


def parse_tile_index(path: str) -> tuple[int, int]:
    """``x001/x234/067[.p/W]`` → (1234067, W): ValueError for anything C2SP would not write."""
    width = WIDTH
    if ".p/" in path:
        path, w = path.split(".p/", 1)
        if not w.isdigit() or w != str(int(w)) or not 1 <= int(w) < WIDTH:
            raise ValueError("partial width must be 1..255 without leading zeros")
        width = int(w)
    parts = path.split("/")
    if len(parts) > 8 or any(not (p[1:] if i < len(parts) - 1 and p.startswith("x") else p).isdigit()
                             for i, p in enumerate(parts)):
        raise ValueError("not a tile index")
    *upper, last = parts
    if any(not p.startswith("x") or len(p) != 4 for p in upper) or len(last) != 3:
        raise ValueError("tile index elements are x### and a final ###")
    index = int("".join(p[1:] for p in upper) + last)
    if tile_path(0, index, width) != f"tile/0/{path}" + (f".p/{width}" if width < WIDTH else ""):
        raise ValueError("non-canonical tile index")
    return index, width


class TileTree(TreeReader):
    """The tree of a log of ``size`` leaves whose tiles ``read_tile(level, index)`` returns."""

    def __init__(self, h: Hasher, size: int, read_tile: ReadTile) -> None:
        self.hasher = h
        self._read = read_tile
        self._record = 2 + h.size  # an entry of a bundle: its length (2 bytes), then the leaf data (a digest)
        self._cache: OrderedDict[TileKey, list[bytes]] = OrderedDict()
        self.reload(size)

    def reload(self, size: int) -> None:
        """Read the right edge of the stored tree of ``size`` leaves (another process grew it)."""
        count = size % WIDTH
        stored = self._read(ENTRIES, size // WIDTH) if count else b""
        if stored is None or len(stored) < count * self._record:
            raise MissingTiles(f"the stored entry bundles stop short of the log's {size} entries")
        bundle = bytes(stored[:count * self._record])
        edge: list[bytes] = []
        level = 0
        while size >> (HEIGHT * level):
            count = (size >> (HEIGHT * level)) % WIDTH
            stored = self._read(level, (size >> (HEIGHT * level)) // WIDTH) if count else b""
            if stored is None or len(stored) < count * self.hasher.size:
                raise MissingTiles(f"the stored tiles stop short of the log's {size} entries (level {level})")
            edge.append(bytes(stored[:count * self.hasher.size]))
            level += 1
        # One attribute, replaced whole: a reader in another thread sees the old state or the new.
        self._state = (size, edge, bundle)

    def __len__(self) -> int:
        return self._state[0]

    # --- growing ---------------------------------------------------------------

    def extend(self, entries: Sequence[bytes]) -> "Growth":
        """The tiles and entry bundles that appending leaves with data ``entries`` (event digests)
        writes, without changing this tree: store them (with the entries, in one transaction),
        then ``apply`` the growth."""
        s = self.hasher.size
        size, edge_now, bundle_now = self._state
        edge = [bytearray(e) for e in edge_now]
        bundle = bytearray(bundle_now)
        dirty: dict[TileKey, bytes] = {}
        hash_leaf = self.hasher.hash_leaf
        for data in entries:
            if len(data) != s:
                raise ValueError(f"leaf data must be {s} bytes (an event digest)")
            bundle += s.to_bytes(2, "big") + data
            if len(bundle) == WIDTH * self._record:
                dirty[(ENTRIES, size // WIDTH)] = bytes(bundle)
                bundle = bytearray()
            else:
                dirty[(ENTRIES, size // WIDTH)] = bundle  # partial, final content read below
            node, level, position = hash_leaf(data), 0, size
            while True:
                if level == len(edge):
                    edge.append(bytearray())
                tile = edge[level]
                tile += node
                key = (level, position // WIDTH)
                if len(tile) < WIDTH * s:
                    dirty[key] = tile  # the partial tile, final content read below
                    break
                dirty[key] = bytes(tile)
                node = _expand(self.hasher, dirty[key])[HEIGHT][0]
                edge[level] = bytearray()
                level, position = level + 1, position // WIDTH
            size += 1
        tiles = {k: bytes(v) for k, v in dirty.items() if v}
        return Growth(size, [bytes(e) for e in edge], bytes(bundle), tiles)

    def apply(self, growth: "Growth") -> None:
        """Take a growth whose tiles are durably stored."""
        self._state = (growth.size, growth.edge, growth.bundle)

    # --- reading ---------------------------------------------------------------

    def _node(self, level: int, i: int) -> bytes:
        size, edge, _ = self._state
        tile_level, inner = divmod(level, HEIGHT)
        first = i << inner  # the node's first hash in its tile level
        index, offset = divmod(first, WIDTH)
        if (first + (1 << inner)) << (HEIGHT * tile_level) > size:
            raise IndexError(f"node ({level}, {i}) is beyond the tree of size {size}")
        s = self.hasher.size
        if index < (size >> (HEIGHT * tile_level)) // WIDTH:
            return self._full(tile_level, index)[inner][offset >> inner]
        hashes = edge[tile_level][offset * s:(offset + (1 << inner)) * s]
        return _reduce(self.hasher, hashes, inner)

    def tile(self, level: int, index: int, width: int = WIDTH) -> bytes | None:
        """The hashes of tile (level, index) at ``width``, or None when the tree has fewer."""
        size, edge, _ = self._state
        have = (size >> (HEIGHT * level)) - index * WIDTH if level >= 0 else 0
        if index < 0 or not 1 <= width <= WIDTH or have < width:
            return None
        if have >= WIDTH:
            cached = self._cache.get((level, index))
            data = b"".join(cached[0]) if cached is not None else self._stored(level, index)
        else:
            data = edge[level]
        return data[:width * self.hasher.size]

    def bundle(self, index: int, width: int = WIDTH) -> bytes | None:
        """The C2SP entry bundle ``index`` of ``width`` entries, or None when the log has fewer."""
        size, _, edge_bundle = self._state
        have = size - index * WIDTH
        if index < 0 or not 1 <= width <= WIDTH or have < width:
            return None
        data = edge_bundle if have < WIDTH else self._read(ENTRIES, index)
        if data is None or len(data) < width * self._record:
            raise MissingTiles(f"entry bundle {index} is missing from the store")
        return bytes(data[:width * self._record])

    def _stored(self, level: int, index: int) -> bytes:
        data = self._read(level, index)
        if data is None or len(data) < WIDTH * self.hasher.size:
            raise MissingTiles(f"tile {level}/{index} is missing from the store")
        return bytes(data)

    def _full(self, level: int, index: int) -> list[list[bytes]]:
        key = (level, index)
        levels = self._cache.get(key)
        if levels is not None:
            try:
                self._cache.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile
                pass
        else:
            levels = _expand(self.hasher, self._stored(level, index))
            self._cache[key] = levels
            if len(self._cache) > CACHED_TILES:
                try:
                    self._cache.popitem(last=False)
                except KeyError:  # emptied by another thread meanwhile
                    pass
        return levels


class MissingTiles(RuntimeError):
    """The store's tiles do not cover its entries (a store written before tiles: ``backfill``)."""


class Growth:
    __slots__ = ("size", "edge", "bundle", "tiles")

    def __init__(self, size: int, edge: list[bytes], bundle: bytes, tiles: dict[TileKey, bytes]) -> None:
        self.size, self.edge, self.bundle, self.tiles = size, edge, bundle, tiles


def _split_hashes(data: bytes, s: int) -> list[bytes]:
    return [data[i:i + s] for i in range(0, len(data), s)]


def _expand(h: Hasher, data: bytes) -> list[list[bytes]]:
    """A full tile's 9 levels: its 256 hashes, their 128 parents … its one root."""
    new, prefix = h.new, b"\x01"
    levels = [_split_hashes(data, h.size)]
    for _ in range(HEIGHT):
        below = levels[-1]
        levels.append([new(prefix + below[j] + below[j + 1]).digest() for j in range(0, len(below), 2)])
    return levels


def _reduce(h: Hasher, data: bytes, height: int) -> bytes:
    """The root of ``2**height`` consecutive hashes of one level."""
    nodes = _split_hashes(data, h.size)
    new, prefix = h.new, b"\x01"
    for _ in range(height):
        nodes = [new(prefix + nodes[j] + nodes[j + 1]).digest() for j in range(0, len(nodes), 2)]
    return nodes[0]


def backfill(h: Hasher, digests: Iterable[bytes], write: Callable[[dict[TileKey, bytes]], None],
             chunk: int = 65_536) -> int:
    """Build the tiles and entry bundles of a log stored before them, from its digests in order;
    ``write`` stores each chunk's. Returns the size. Memory stays bounded by ``chunk``."""
    tree = TileTree(h, 0, lambda level, index: None)
    batch: list[bytes] = []
    for digest in digests:
        batch.append(bytes(digest))
        if len(batch) == chunk:
            growth = tree.extend(batch)
            write(growth.tiles)
            tree.apply(growth)
            batch = []
    growth = tree.extend(batch)
    if growth.tiles:
        write(growth.tiles)
    return growth.size
