"""A mirror copies a notary's log from its C2SP tlog-tiles: across full tiles and at the partial
tile of the right edge, resuming, checking every bundle entry against its tile and naming the
first bad entry; the JSON API stays for notaries without tiles and for event ids. The tile
paths and parsing (``alliance.tiles``) are checked on their own first."""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from lianzheng.alliance import tiles
from lianzheng.alliance.errors import MirrorError
from lianzheng.alliance.mirror import Mirror
from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.sdk.client import NotaryClient
from lianzheng.sdk.errors import MalformedError
from lianzheng.sdk.merkle import SHA256, verify_inclusion
from tests.helpers import make_event

# --- alliance.tiles on its own ------------------------------------------------------------


@pytest.mark.parametrize("index, path", [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"),
                                         (1234067, "x001/x234/067"), (10**9, "x001/x000/x000/000")])
def test_tile_index_paths_are_written_as_c2sp_says(index, path):
    assert tiles.encode_index(index) == path
    assert tiles.tile_path(0, index) == f"tile/0/{path}"
    assert tiles.tile_path(2, index, 17) == f"tile/2/{path}.p/17"
    assert tiles.entries_path(index) == f"tile/entries/{path}"
    assert tiles.entries_path(index, 255) == f"tile/entries/{path}.p/255"


def test_bad_tile_coordinates_are_refused():
    for call in (lambda: tiles.encode_index(-1), lambda: tiles.tile_path(-1, 0), lambda: tiles.tile_path(0, 0, 0),
                 lambda: tiles.tile_path(0, 0, 257), lambda: tiles.entries_path(0, 0)):
        with pytest.raises(ValueError):
            call()


def test_the_tiles_covering_a_range_end_in_a_partial_tile_of_exactly_the_width_needed():
    assert list(tiles.tiles_covering(0, 600)) == [(0, 256), (1, 256), (2, 88)]
    assert list(tiles.tiles_covering(300, 512)) == [(1, 256)]
    assert list(tiles.tiles_covering(300, 513)) == [(1, 256), (2, 1)]
    assert list(tiles.tiles_covering(10, 44)) == [(0, 44)]
    assert list(tiles.tiles_covering(5, 5)) == []


def test_tiles_and_bundles_parse_and_malformed_ones_name_the_entry():
    hashes = [bytes([i]) * 32 for i in range(5)]
    assert tiles.parse_tile(b"".join(hashes), 5) == hashes
    with pytest.raises(MalformedError, match="width 5 has 160 bytes, got 159"):
        tiles.parse_tile(b"".join(hashes)[:-1], 5)
    digests = [bytes([i]) * 32 for i in range(3)] + [b"", b"\xff" * 300]
    bundle = tiles.encode_bundle(digests)
    assert bundle[:2] == b"\x00\x20" and len(bundle) == 3 * 34 + 2 + 302
    assert tiles.parse_bundle(bundle, 5) == digests
    cases = {bundle[:-1]: ("cut short in entry 4", 4), bundle[:3 * 34 + 1]: ("length of entry 3", 3),
             bundle + b"\x00": ("after its 5 entries", 4)}
    for data, (message, position) in cases.items():
        with pytest.raises(MalformedError, match=message) as refused:
            tiles.parse_bundle(data, 5)
        assert refused.value.evidence["position"] == position
    with pytest.raises(MalformedError, match="has 5 entries, 6 expected"):
        tiles.parse_bundle(bundle, 6)


# --- against a real notary ------------------------------------------------------------------


class Proxy(httpx.BaseTransport):
    """What stands between the mirror and the real notary (ours to tamper with): it records the
    paths asked for, can hide paths (404) or fail them (connection refused), and can change a
    response's body."""

    def __init__(self, notary: httpx.BaseTransport) -> None:
        self.notary, self.paths = notary, []
        self.hide: set[str] = set()
        self.down: set[str] = set()
        self.tamper: dict[str, callable] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if path in self.hide:
            return httpx.Response(404, json={"code": "not_found", "message": "not here"})
        response = self.notary.handle_request(request)
        if path not in self.tamper:
            return response
        body = bytearray(response.read())
        self.tamper[path](body)
        return httpx.Response(response.status_code, content=bytes(body), request=request,
                              headers={"content-type": response.headers.get("content-type", "")})

    def tiles(self) -> list[str]:
        return [p for p in self.paths if p.startswith("/tile/")]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A notary of 600 events anchored at sizes 100, 300 and 600 (tiles 0 and 1 full, tile 2 of 88)."""
    data = tmp_path_factory.mktemp("tiles-source")
    with TestClient(create_app(Settings(data_dir=data / "src", anchor_interval=0.2))) as api:
        notary = api.app.state.notary
        writer = NotaryClient("http://testserver", create_key(notary.store, "w"), transport=api._transport)
        for start, end in ((0, 100), (100, 300), (300, 600)):
            receipts = writer.notarize_batch([make_event(i) for i in range(start, end)], batch_size=500)
            writer.wait_anchored(receipts[-1].event_id, timeout=30)
        yield SimpleNamespace(notary=notary, transport=api._transport, rpc=notary.chain.rpc)


def connect(source, retries: int = 2) -> tuple[NotaryClient, Proxy]:
    proxy = Proxy(source.transport)
    return NotaryClient("http://testserver", transport=proxy, retries=retries), proxy


def ids(path) -> list[tuple]:
    db = sqlite3.connect(path / "mirror.db")
    return db.execute("SELECT idx, event_id, digest FROM entries ORDER BY idx").fetchall()


def test_sync_from_tiles_across_full_tiles_to_a_partial_edge_resumes_and_matches_the_json_api(source, tmp_path):
    client, proxy = connect(source)
    mirror = Mirror(tmp_path / "t", client, source.rpc)
    assert [size for size, _ in mirror.anchored()] == [100, 300, 600]
    first = mirror.sync(limit=300)  # checkpoints 100 and 300: tile 0 whole, tile 1 only as far as 300
    assert (first.source, first.verified_size, first.root) == ("tiles", 300, source.notary.log.tree.root(300))
    assert sorted(proxy.tiles()) == ["/tile/0/000", "/tile/0/001.p/44", "/tile/entries/000", "/tile/entries/001.p/44"]
    assert "/v1/entries" not in proxy.paths and proxy.paths.count("/checkpoint") == 1
    mirror.close()

    proxy.paths.clear()
    proxy.down = {"/tile/entries/002.p/88"}  # the connection breaks on the last bundle
    resumed = Mirror(tmp_path / "t", NotaryClient("http://testserver", transport=proxy, retries=0), source.rpc)
    assert resumed.verified_size == 300
    with pytest.raises(httpx.ConnectError):
        resumed.sync()
    assert resumed.verified_size == 300  # nothing past the last anchored checkpoint verified whole
    proxy.down.clear()
    done = resumed.sync()
    assert (done.verified_size, done.root, done.copied) == (600, source.notary.log.tree.root(600), 300)
    assert sorted(set(proxy.tiles())) == ["/tile/0/001", "/tile/0/002.p/88", "/tile/entries/001",
                                          "/tile/entries/002.p/88"]
    assert proxy.paths.count("/checkpoint") == 2  # once a sync: how far the source serves tiles

    proxy.paths.clear()
    by_json = Mirror(tmp_path / "j", client, source.rpc).sync(source="json")
    assert (by_json.source, by_json.verified_size, by_json.root) == ("json", 600, done.root)
    assert proxy.tiles() == [] and "/v1/entries" in proxy.paths
    from_tiles, from_json = ids(tmp_path / "t"), ids(tmp_path / "j")
    assert [(i, d) for i, _, d in from_tiles] == [(i, d) for i, _, d in from_json]
    assert {e for _, e, _ in from_tiles} == {None} and from_json[1234 % 600][1] == f"evt-{1234 % 600}"

    # Event ids are not in tiles: a lookup asks the source once, checked against the verified digest
    proof = resumed.proof("evt-345")
    assert proof["index"] == 345 and proof["tree_size"] == 600
    verify_inclusion(SHA256, 345, 600, SHA256.hash_leaf(bytes.fromhex(proof["event_digest"])),
                     [bytes.fromhex(h) for h in proof["hashes"]], done.root)
    proxy.paths.clear()
    assert resumed.proof("evt-345") == proof and proxy.paths == []  # kept
    with pytest.raises(MirrorError, match="not in the verified mirror"):
        resumed.proof("evt-nope")
    assert resumed.fill_event_ids() == 599
    assert ids(tmp_path / "t") == from_json  # now as if copied over the JSON API


def test_a_notary_without_tiles_is_mirrored_over_the_json_api(source, tmp_path):
    client, proxy = connect(source)
    proxy.hide = {"/checkpoint"}
    mirror = Mirror(tmp_path / "m", client, source.rpc)
    result = mirror.sync(limit=300)
    assert (result.source, result.verified_size) == ("json", 300)
    assert proxy.tiles() == [] and ids(tmp_path / "m")[299][1] == "evt-299"
    assert mirror.sync().source == "json" and proxy.paths.count("/checkpoint") == 1  # asked once
    other = Mirror(tmp_path / "t", client, source.rpc)
    with pytest.raises(MirrorError, match="serves no tlog-tiles"):  # asked for tiles: never an empty success
        other.sync(source="tiles")
    assert other.verified_size == 0


def test_from_tiles_a_mirror_goes_only_as_far_as_the_source_serves_them(source, tmp_path):
    """A notary may learn of its anchor after the chain shows it: its /checkpoint says how far its
    tiles go, and the rest waits for the next sync instead of failing."""
    client, proxy = connect(source)
    behind = source.notary.log.checkpoint(300)["note"].encode()
    proxy.tamper = {"/checkpoint": lambda body: body.__setitem__(slice(None), behind)}
    mirror = Mirror(tmp_path / "m", client, source.rpc)
    assert (mirror.sync().verified_size, max(mirror.anchored())[0]) == (300, 600)
    assert "/tile/0/002.p/88" not in proxy.paths
    proxy.tamper = {}
    assert mirror.sync().verified_size == 600


def flip(offset: int):
    def change(body: bytearray) -> None:
        body[offset] ^= 0x01
    return change


def test_a_bundle_or_tile_that_disagrees_or_a_wrong_entry_is_rejected_with_its_index(source, tmp_path):
    client, proxy = connect(source)
    mirror = Mirror(tmp_path / "m", client, source.rpc)
    assert mirror.sync(limit=300).verified_size == 300

    cases = {
        400: ({"/tile/entries/001": flip(144 * 34 + 2 + 5)}, "disagrees with its tile"),  # a bundle's digest
        450: ({"/tile/0/001": flip(194 * 32 + 31)}, "disagrees with its tile"),  # a tile's leaf hash
        590: ({"/tile/0/002.p/88": flip(78 * 32)}, "disagrees with its tile"),  # the partial tile at the edge
        513: ({"/tile/entries/002.p/88": lambda b: b.__delitem__(slice(34 + 1, None))},
              "malformed entry bundle"),  # the bundle cut short in the length of entry 513
    }
    for index, (tamper, message) in cases.items():
        proxy.tamper = tamper
        with pytest.raises(MirrorError, match=message) as rejected:
            mirror.sync()
        assert rejected.value.index == index and f"entry {index}" in str(rejected.value)
        assert mirror.verified_size == 300  # nothing past the last good checkpoint kept

    def rewrite(position: int, tile_position: int):
        """Entry ``position`` of the bundle changed and its tile's hash made to agree."""
        new = b"\x13" * 32

        def bundle(body: bytearray) -> None:
            body[position * 34 + 2:position * 34 + 34] = new

        def tile(body: bytearray) -> None:
            body[tile_position * 32:tile_position * 32 + 32] = SHA256.hash_leaf(new)
        return bundle, tile

    bundle, tile = rewrite(500 - 256, 500 - 256)  # tile and bundle agree, the anchored root does not
    proxy.tamper = {"/tile/entries/001": bundle, "/tile/0/001": tile}
    with pytest.raises(MirrorError, match="entry 500 does not belong to the log anchored at size 600") as rejected:
        mirror.sync()
    assert rejected.value.index == 500 and mirror.verified_size == 300
    bundle, tile = rewrite(266 - 256, 266 - 256)  # an entry verified before, served differently now
    proxy.tamper = {"/tile/entries/001": bundle, "/tile/0/001": tile}
    with pytest.raises(MirrorError, match="differs from the entry verified before") as rejected:
        mirror.sync()
    assert rejected.value.index == 266

    proxy.tamper = {}
    again = Mirror(tmp_path / "m", client, source.rpc)  # what was kept is the verified state
    assert again.verified_size == 300
    assert again.sync().root == source.notary.log.tree.root(600)


def test_a_mirror_made_before_tiles_is_migrated_and_keeps_its_entries(source, tmp_path):
    """Old mirrors had ``event_id NOT NULL``: the table is copied once into one that allows none."""
    client, _ = connect(source)
    Mirror(tmp_path / "j", client, source.rpc).sync(limit=300, source="json")
    (tmp_path / "old").mkdir()
    old = sqlite3.connect(tmp_path / "old" / "mirror.db", isolation_level=None)
    old.executescript(f"""
        CREATE TABLE entries (idx INTEGER PRIMARY KEY, event_id TEXT NOT NULL, digest BLOB NOT NULL);
        CREATE UNIQUE INDEX entries_event ON entries(event_id);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        ATTACH '{tmp_path / "j" / "mirror.db"}' AS j;
        INSERT INTO entries SELECT * FROM j.entries; INSERT INTO meta SELECT * FROM j.meta;
    """)
    old.close()
    before = ids(tmp_path / "old")
    mirror = Mirror(tmp_path / "old", client, source.rpc)
    columns = {c[1]: c[3] for c in mirror.db.execute("PRAGMA table_info(entries)")}
    assert columns == {"idx": 0, "event_id": 0, "digest": 1} and ids(tmp_path / "old") == before
    assert mirror.verified_size == 300 and mirror.proof("evt-7")["index"] == 7
    assert mirror.sync().verified_size == 600  # and then from tiles, with no ids
    rows = ids(tmp_path / "old")
    assert rows[:300] == before and rows[300][1] is None
    mirror.close()
    assert Mirror(tmp_path / "old", client, source.rpc).verified_size == 600  # migrated once
