// Receipt verification in the browser: event → public form → digest → leaf → RFC 9162
// inclusion proof → root, compared with the root the registry contract holds on chain
// (read through the JSON-RPC URL the user trusts). The notary server is not trusted here:
// it only hands over the receipt. Mirrors sdk/verifier.py, for SHA-256 and SM3 logs.

import { sha256, toHex } from "./sha256.js";
import { sm3 } from "./sm3.js";

// The log's hash (receipt.log.hash) for the event digest, the sealed part and the tree.
const HASHES = { sha256, sm3 };

// keccak256("checkpointAt(uint32,uint64)")[:4]; tests/web checks it against web3.
export const CHECKPOINT_AT = "0x60f867b2";

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

const PUBLIC_FIELDS = ["id", "type", "region", "project", "section", "occurred_at", "actor", "public"];
const SEALED_FIELDS = ["payload", "documents", "salt"];

export function publicForm(event, hash = sha256) {
  if ("sealed" in event && !("salt" in event)) return event;
  if (!event.salt) throw new Failure("malformed", { what: "event without salt" });
  const shown = {};
  for (const k of PUBLIC_FIELDS) if (k in event) shown[k] = event[k];
  if (event.documents && event.documents.length) {
    shown.documents = event.documents.map((d) => {
      const h = { sha256: d.sha256 };
      if (d.sm3) h.sm3 = d.sm3;
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
  const body = text.slice(cut + 2).split("\n");
  return { index: Number(m[1]), hashes, origin: body[0], size: Number(body[1]), root: fromB64(body[2] || "") };
}

async function rpc(url, method, params) {
  let response;
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  } catch (e) {
    throw new Failure("rpc_unreachable", { url });
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
  const word = (n) => BigInt(n).toString(16).padStart(64, "0");
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

export function chainId(rpcUrl) {
  return remembered(`chain ${rpcUrl}`, async () => Number(BigInt(await rpc(rpcUrl, "eth_chainId", []))));
}

// Verify a receipt; resolves to {index, size, block, time, event} or throws a Failure.
export async function verifyReceipt(receipt, { rpcUrl, registry, documentSha256 = null, heldEvent = null }) {
  if (!receipt || receipt.format !== "lianzheng-receipt/1" || typeof receipt.event !== "object") {
    throw new Failure("malformed", { what: "receipt" });
  }
  const name = receipt.log && receipt.log.hash;
  if (!Object.hasOwn(HASHES, name)) throw new Failure("malformed", { what: "log hash" });
  const hash = HASHES[name];
  const event = receipt.event;
  if (heldEvent) {
    if (!event.salt) throw new Failure("public_receipt");
    const held = { ...heldEvent, salt: event.salt, id: heldEvent.id || event.id };
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
  const root = toHex(rootFromInclusion(proof.index, proof.size, leafHash(fromHex(digest), hash), proof.hashes, hash));
  if (registry && receipt.anchor.registry.toLowerCase() !== registry.toLowerCase()) {
    throw new Failure("wrong_registry", { named: receipt.anchor.registry, trusted: registry });
  }
  const chain = await chainId(rpcUrl);
  if (chain !== receipt.anchor.chain_id) throw new Failure("wrong_chain", { named: receipt.anchor.chain_id, chain });
  const onChain = await checkpointOnChain(rpcUrl, receipt.anchor.registry, Number(receipt.log.region), proof.size);
  if (!onChain) throw new Failure("not_anchored", { size: proof.size });
  if (onChain.root !== root) throw new Failure("root_mismatch", { computed: root, anchored: onChain.root });
  if (onChain.blockNumber !== receipt.anchor.block_number || onChain.anchoredAt !== receipt.anchor.block_time) {
    throw new Failure("anchor_differs", { block: onChain.blockNumber });
  }
  return { index: receipt.index, size: proof.size, block: onChain.blockNumber, time: onChain.anchoredAt, event };
}
