// Receipt verification in the browser: event → public form → digest → leaf → RFC 9162
// inclusion proof → checkpoint signed by the key the registry holds for the log → root the
// registry anchored at that size, by the transaction the receipt names. The chain is read
// through the JSON-RPC URL and registry the *witness* chose; the notary server is not trusted
// here: it only hands over the receipt. Mirrors sdk/verifier.py, for SHA-256 and SM3 logs.

import { sha256, toHex } from "./sha256.js";
import { sm3 } from "./sm3.js";

// The log's hash (receipt.log.hash) for the event digest, the sealed part and the tree.
const HASHES = { sha256, sm3 };

// Selectors and the anchor event's topic (keccak256 of the signatures); tests/notary/web checks them.
export const CHECKPOINT_AT = "0x60f867b2"; // checkpointAt(uint32,uint64)
export const LOG_OF = "0xb613c26b"; // logOf(uint32)
export const CHECKPOINT_KEY_AT = "0xe0c79cb7"; // checkpointKeyAt(uint32,uint64)
export const CHECKPOINT_ANCHORED = "0x8b987044b6e3ae2d2879175b66638b191a86cd33538edf6dfbfdfb1a3f3adb94";
const HASH_NAMES = ["sha256", "sm3"]; // EvidenceRegistry.HashAlgorithm

export class Failure extends Error {
  constructor(code, params = {}) {
    super(code);
    this.code = code;
    this.params = params;
  }
}

const utf8 = new TextEncoder();

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function fromHex(hex) {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Failure("malformed", { what: "hex" });
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function fromB64(text) {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new Failure("malformed", { what: "base64" });
  }
}

// RFC 8785 (JCS): for JSON values, ECMAScript's own serialization with keys sorted by UTF-16 units.
export function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

const PUBLIC_FIELDS = ["id", "type", "region", "project", "section", "occurred_at", "actor", "public", "prev"];
export const GENESIS = "0".repeat(64); // the prev of a section's first event
const SEALED_FIELDS = ["payload", "documents", "salt"];

export function publicForm(event, hash = sha256) {
  if ("sealed" in event && !("salt" in event)) return event;
  if (!event.salt) throw new Failure("malformed", { what: "event without salt" });
  const shown = {};
  for (const k of PUBLIC_FIELDS) if (k in event) shown[k] = event[k];
  if (event.documents && event.documents.length) {
    shown.documents = event.documents.map((d) => {
      const h = { sha256: d.sha256 };
      if ("sm3" in d) h.sm3 = d.sm3; // as sdk/event.py: present is kept, whatever its value
      return h;
    });
  }
  const sealed = {};
  for (const k of SEALED_FIELDS) if (k in event) sealed[k] = event[k];
  shown.sealed = toHex(hash(utf8.encode(canonical(sealed))));
  return shown;
}

export function eventDigest(event, hash = sha256) {
  return hash(utf8.encode(canonical(publicForm(event, hash))));
}

const leafHash = (digest, hash = sha256) => hash(concat(new Uint8Array([0]), digest));

// RFC 9162 §2.1.3.2: the root an inclusion proof leads to.
export function rootFromInclusion(index, size, leaf, proof, hash = sha256) {
  const nodeHash = (l, r) => hash(concat(new Uint8Array([1]), l, r));
  if (!(index >= 0 && index < size)) throw new Failure("proof_invalid", { why: "index outside the tree" });
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Failure("proof_invalid", { why: "proof too long" });
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Failure("proof_invalid", { why: "proof too short" });
  return r;
}

// C2SP tlog-proof: header, [extra], "index N", base64 hashes, blank line, signed checkpoint.
export function parseProof(text) {
  const cut = text.indexOf("\n\n");
  if (cut < 0) throw new Failure("malformed", { what: "tlog-proof" });
  const lines = text.slice(0, cut).split("\n");
  if (lines[0] !== "c2sp.org/tlog-proof@v1") throw new Failure("malformed", { what: "tlog-proof header" });
  let i = 1;
  if (lines[i] && lines[i].startsWith("extra ")) i++;
  const m = /^index (\d+)$/.exec(lines[i] || "");
  if (!m) throw new Failure("malformed", { what: "tlog-proof index" });
  const hashes = lines.slice(i + 1).map(fromB64);
  const note = text.slice(cut + 2);
  const body = note.split("\n");
  return { index: Number(m[1]), hashes, origin: body[0], size: Number(body[1]), root: fromB64(body[2] || ""), note };
}

// C2SP signed note: the body, a blank line, "— <name> <base64(key hash[4] ‖ Ed25519 signature)>" lines.
// Verified with the key the registry holds for the log at this checkpoint's size.
export async function verifyNote(note, origin, publicKey) {
  const cut = note.indexOf("\n\n");
  if (cut < 0) throw new Failure("malformed", { what: "signed checkpoint" });
  const body = note.slice(0, cut + 1);
  const want = (await sha256Async(concat(utf8.encode(origin + "\n"), new Uint8Array([1]), publicKey))).slice(0, 4);
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(cut + 2).split("\n")) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== origin) continue;
    const raw = fromB64(m[2]);
    if (raw.length !== 68 || toHex(raw.slice(0, 4)) !== toHex(want)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, raw.slice(4), utf8.encode(body))) return;
    throw new Failure("signature_invalid", { origin });
  }
  throw new Failure("signature_invalid", { origin });
}

const sha256Async = async (bytes) => sha256(bytes);

export async function rpc(url, method, params) {
  let response;
  for (let attempt = 0; ; attempt++) {
    try {
      response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    } catch (e) {
      throw new Failure("rpc_unreachable", { url });
    }
    if (response.status !== 429 || attempt === 3) break; // a busy node says when to come back
    const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, 5);
    await new Promise((resolve) => setTimeout(resolve, 1000 * wait));
  }
  const body = await response.json().catch(() => ({}));
  if (body.error || body.result === undefined) throw new Failure("rpc_error", { method, error: JSON.stringify(body.error || body) });
  return body.result;
}

// Answers already read from the chain in this page (a timeline reads one checkpoint for many events).
// Keyed by everything the answer depends on; failures are not kept, so a retry asks the node again.
const answers = new Map();
function remembered(key, read) {
  if (!answers.has(key)) answers.set(key, read().catch((e) => { answers.delete(key); throw e; }));
  return answers.get(key);
}

// (root, anchoredAt, blockNumber) the registry holds for `region` at `size`, or null.
export async function checkpointOnChain(rpcUrl, registry, region, size) {
  const key = `cp ${rpcUrl} ${registry.toLowerCase()} ${region} ${size}`;
  const found = await remembered(key, () => readCheckpoint(rpcUrl, registry, region, size));
  if (!found) answers.delete(key); // not anchored (yet): ask again next time
  return found;
}

async function readCheckpoint(rpcUrl, registry, region, size) {
  const data = CHECKPOINT_AT + word(region) + word(size);
  let out;
  try {
    out = await rpc(rpcUrl, "eth_call", [{ to: registry, data }, "latest"]);
  } catch (e) {
    if (e.code === "rpc_error") return null; // reverted: EvidenceRegistryUnknownCheckpoint
    throw e;
  }
  if (out.length < 2 + 3 * 64) return null;
  return { root: out.slice(2, 66), anchoredAt: Number(BigInt("0x" + out.slice(66, 130))),
           blockNumber: Number(BigInt("0x" + out.slice(130, 194))) };
}

const word = (n) => BigInt(n).toString(16).padStart(64, "0");
const readWord = (hex, i) => BigInt("0x" + hex.slice(2 + 64 * i, 66 + 64 * i));

// The registry's record of a region's log: {origin, hash, key (newest)}; null when none.
export function logOf(rpcUrl, registry, region) {
  return remembered(`log ${rpcUrl} ${registry.toLowerCase()} ${region}`, async () => {
    const out = await rpc(rpcUrl, "eth_call", [{ to: registry, data: LOG_OF + word(region) }, "latest"]);
    if (out.length < 2 + 5 * 64) throw new Failure("not_a_registry", { registry });
    const key = out.slice(66, 130);
    if (/^0+$/.test(key)) return null;
    const at = Number(readWord(out, 3)) * 2 + 2;
    const length = Number(BigInt("0x" + out.slice(at, at + 64)));
    const origin = new TextDecoder().decode(fromHex(out.slice(at + 64, at + 64 + 2 * length)));
    return { origin, hash: HASH_NAMES[Number(readWord(out, 2))], key };
  });
}

export function checkpointKeyAt(rpcUrl, registry, region, size) {
  return remembered(`key ${rpcUrl} ${registry.toLowerCase()} ${region} ${size}`, async () => {
    const out = await rpc(rpcUrl, "eth_call", [{ to: registry, data: CHECKPOINT_KEY_AT + word(region) + word(size) }, "latest"]);
    return fromHex(out.slice(2, 66));
  });
}

// The transaction the receipt names must be the registry's anchor of (region, size, root).
async function checkAnchorTx(rpcUrl, registry, anchor, region, size, root) {
  const tx = await remembered(`tx ${rpcUrl} ${anchor.tx_hash}`, () => rpc(rpcUrl, "eth_getTransactionReceipt", [anchor.tx_hash]));
  const anchored = tx && tx.status === "0x1" && (tx.to || "").toLowerCase() === registry.toLowerCase() &&
    Number(BigInt(tx.blockNumber)) === anchor.block_number && (tx.logs || []).some((l) =>
      l.address.toLowerCase() === registry.toLowerCase() && l.topics[0] === CHECKPOINT_ANCHORED &&
      l.topics[1] === "0x" + word(region) && l.topics[2] === "0x" + word(size) && l.data.slice(2, 66) === root);
  if (!anchored) throw new Failure("anchor_tx", { tx: anchor.tx_hash });
}

export function chainId(rpcUrl) {
  return remembered(`chain ${rpcUrl}`, async () => Number(BigInt(await rpc(rpcUrl, "eth_chainId", []))));
}

// Numbers as the notary accepts them (RFC 7493): integers within ±(2^53−1), finite.
function exactNumbers(value) {
  if (typeof value === "number") return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER;
  if (Array.isArray(value)) return value.every(exactNumbers);
  if (value && typeof value === "object") return Object.values(value).every(exactNumbers);
  return true;
}

// Verify a receipt against the chain the witness chose (rpcUrl, registry); resolves to
// {index, size, block, time, event, digest} or throws a Failure that says which link broke.
export async function verifyReceipt(receipt, { rpcUrl, registry, documentSha256 = null, heldEvent = null }) {
  if (!registry) throw new Failure("no_registry");
  if (!rpcUrl) throw new Failure("no_rpc");
  if (!receipt || receipt.format !== "lianzheng-receipt/1" || typeof receipt.event !== "object" || !receipt.event) {
    throw new Failure("malformed", { what: "receipt" });
  }
  const name = receipt.log && receipt.log.hash;
  if (!Object.hasOwn(HASHES, name)) throw new Failure("malformed", { what: "log hash" });
  const hash = HASHES[name];
  const event = receipt.event;
  if (event.id !== receipt.event_id) throw new Failure("id_mismatch", { named: receipt.event_id, event: event.id });
  if (!/^[1-8][0-9]{5}$/.test(String(receipt.log && receipt.log.region))) throw new Failure("malformed", { what: "log region" });
  if (!exactNumbers(event)) throw new Failure("malformed", { what: "a number JSON cannot carry exactly (beyond ±(2^53−1))" });
  if (event.region !== receipt.log.region) throw new Failure("wrong_region", { event: event.region, log: receipt.log.region });
  if (heldEvent) {
    if (!event.salt) throw new Failure("public_receipt");
    const held = { ...heldEvent, salt: event.salt, id: heldEvent.id || event.id };
    if ("prev" in event && !("prev" in held)) held.prev = event.prev;
    if (toHex(eventDigest(held, hash)) !== toHex(eventDigest(event, hash))) throw new Failure("event_differs");
  }
  if (documentSha256) {
    const docs = (event.documents || []).map((d) => d.sha256);
    if (!docs.includes(documentSha256)) throw new Failure("document_not_in_event", { sha256: documentSha256 });
  }
  const digest = toHex(eventDigest(event, hash));
  if (digest !== receipt.event_digest) throw new Failure("digest_mismatch", { computed: digest });
  if (receipt.status !== "anchored" || !receipt.proof || !receipt.anchor) throw new Failure("pending");
  const proof = parseProof(receipt.proof);
  if (proof.index !== receipt.index) throw new Failure("proof_invalid", { why: "proof index differs" });
  if (proof.size !== receipt.anchor.tree_size) throw new Failure("proof_invalid", { why: "checkpoint size differs" });
  if (proof.origin !== receipt.log.origin) throw new Failure("proof_invalid", { why: "checkpoint of another log" });
  const root = toHex(rootFromInclusion(proof.index, proof.size, leafHash(fromHex(digest), hash), proof.hashes, hash));
  if (root !== toHex(proof.root)) throw new Failure("proof_invalid", { why: "the proof does not lead to the signed root" });
  if (receipt.anchor.registry.toLowerCase() !== registry.toLowerCase()) {
    throw new Failure("wrong_registry", { named: receipt.anchor.registry, trusted: registry });
  }
  const chain = await chainId(rpcUrl);
  if (chain !== receipt.anchor.chain_id) throw new Failure("wrong_chain", { named: receipt.anchor.chain_id, chain });
  const region = Number(receipt.log.region);
  const log = await logOf(rpcUrl, registry, region);
  if (!log) throw new Failure("log_unknown", { region: receipt.log.region });
  if (log.origin !== receipt.log.origin || log.hash !== name) {
    throw new Failure("log_differs", { region: receipt.log.region, origin: log.origin, hash: log.hash,
                                       named: receipt.log.origin, namedHash: name });
  }
  await verifyNote(proof.note, log.origin, await checkpointKeyAt(rpcUrl, registry, region, proof.size));
  const onChain = await checkpointOnChain(rpcUrl, registry, region, proof.size);
  if (!onChain) throw new Failure("not_anchored", { size: proof.size });
  if (onChain.root !== root) throw new Failure("root_mismatch", { computed: root, anchored: onChain.root });
  if (onChain.blockNumber !== receipt.anchor.block_number || onChain.anchoredAt !== receipt.anchor.block_time) {
    throw new Failure("anchor_differs", { block: onChain.blockNumber });
  }
  await checkAnchorTx(rpcUrl, registry, receipt.anchor, region, proof.size, root);
  return { index: receipt.index, size: proof.size, block: onChain.blockNumber, time: onChain.anchoredAt, event, digest };
}
