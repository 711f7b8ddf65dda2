// Rule outcomes count only when the chain backs them. A rule event names the transaction the
// rules engine sent (public.tx_hash) to a rule contract (public.contract): the page reads that
// transaction's receipt from the witness's own node and requires that the contract runs our
// audited code (runtime code hash with immutables zeroed, TABLE.contracts), that the transaction
// went to it, in the block and with the status the event states, and — for the events a contract
// emits (collusion flags, failed sections, drawn experts …) — that the contract emitted exactly
// that event with exactly those values. Then it asks the chain for every such event of the
// section (or draw) and reports those the timeline left out.
import { TABLE } from "./table.js";
import { Failure, chainId, fromHex, rpc } from "./verify.js";
import { sha256, toHex } from "./sha256.js";

const ruleAnswers = new Map();
function once(key, read) {
  if (!ruleAnswers.has(key)) ruleAnswers.set(key, read().catch((e) => { ruleAnswers.delete(key); throw e; }));
  return ruleAnswers.get(key);
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

// Which of our rule contracts runs at `address` (by its code), or null.
export function ruleContract(rpcUrl, address) {
  return once(`code ${rpcUrl} ${address.toLowerCase()}`, async () => {
    const code = fromHex((await rpc(rpcUrl, "eth_getCode", [address, "latest"])).slice(2));
    for (const [name, known] of Object.entries(TABLE.contracts)) {
      if (code.length !== known.size) continue;
      const masked = code.slice();
      for (const [start, length] of known.immutables) masked.fill(0, start, start + length);
      if (toHex(sha256(masked)) === known.code_sha256) return name;
    }
    return null;
  });
}

// --- ABI words of the contract events (static types and arrays of them) ---------------------
function decodeWord(type, word) {
  if (/^uint\d*$/.test(type)) return BigInt("0x" + word);
  if (/^int\d*$/.test(type)) {
    const v = BigInt("0x" + word);
    return v >= 1n << 255n ? v - (1n << 256n) : v;
  }
  if (type === "address") return "0x" + word.slice(24);
  if (type === "bool") return BigInt("0x" + word) === 1n;
  const bytes = /^bytes(\d+)$/.exec(type);
  if (bytes) return word.slice(0, 2 * Number(bytes[1]));
  throw new Failure("malformed", { what: `ABI type ${type}` });
}

export function decodeLog(spec, log) {
  const data = log.data.slice(2);
  const word = (i) => data.slice(64 * i, 64 * i + 64);
  const values = {};
  let topic = 1, head = 0;
  for (const input of spec.inputs) {
    if (input.indexed) {
      values[input.name] = decodeWord(input.type, (log.topics[topic++] || "").slice(2));
      continue;
    }
    const array = /^(.*)\[\]$/.exec(input.type);
    if (array) {
      const at = Number(BigInt("0x" + word(head))) / 32;
      const n = Number(BigInt("0x" + word(at)));
      values[input.name] = Array.from({ length: n }, (_, i) => decodeWord(array[1], word(at + 1 + i)));
    } else {
      values[input.name] = decodeWord(input.type, word(head));
    }
    head++;
  }
  return values;
}

// One normal form for a value as the chain holds it and as the event states it.
function norm(type, value) {
  const array = /^(.*)\[\]$/.exec(type);
  if (array) return Array.isArray(value) ? value.map((v) => norm(array[1], v)).join(",") : "?";
  if (/^u?int\d*$/.test(type)) {
    try { return BigInt(value).toString(); } catch { return "?"; }
  }
  if (type === "bool") return String(value === true);
  if (typeof value !== "string") return "?";
  return value.toLowerCase().replace(/^0x/, "");
}

function matches(spec, log, stated) {
  const onChain = decodeLog(spec, log);
  return spec.inputs.every((i) => Object.hasOwn(stated, i.name) && norm(i.type, stated[i.name]) === norm(i.type, onChain[i.name]));
}

// The public form a contract event would have had (for an event the timeline left out).
export function publicOfLog(spec, log) {
  const out = {};
  for (const [k, v] of Object.entries(decodeLog(spec, log))) {
    const plain = (x) => (typeof x === "bigint" ? (x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x);
    out[k] = Array.isArray(v) ? v.map(plain) : plain(v);
  }
  return out;
}

const specOfType = (type) => Object.entries(TABLE.events).find(([, s]) => s.type === type);

// Check one rule event against the chain; resolves to {contract, spec?} or throws a Failure.
export async function checkRuleEvent(event, rpcUrl) {
  const p = event.public || {};
  if (!HEX32.test(p.tx_hash || "") || !ADDRESS.test(p.contract || "")) {
    throw new Failure("rule_unbacked", { why: "no_tx" });
  }
  if (p.chain_id !== await chainId(rpcUrl)) throw new Failure("rule_unbacked", { why: "other_chain" });
  const contract = await ruleContract(rpcUrl, p.contract);
  if (!contract) throw new Failure("rule_unbacked", { why: "unknown_contract", contract: p.contract });
  const tx = await once(`tx ${rpcUrl} ${p.tx_hash}`, () => rpc(rpcUrl, "eth_getTransactionReceipt", [p.tx_hash]));
  if (!tx) throw new Failure("rule_unbacked", { why: "no_such_tx", tx: p.tx_hash });
  if ((tx.to || "").toLowerCase() !== p.contract.toLowerCase()) throw new Failure("rule_unbacked", { why: "other_contract", tx: p.tx_hash });
  if (Number(BigInt(tx.blockNumber)) !== p.block_number) throw new Failure("rule_unbacked", { why: "other_block", tx: p.tx_hash });
  const refused = event.type.endsWith(".rejected");
  if ((tx.status === "0x1") === refused || p.status !== (refused ? "rejected" : "accepted")) {
    throw new Failure("rule_unbacked", { why: "other_status", tx: p.tx_hash });
  }
  const ours = (tx.logs || []).filter((l) => l.address.toLowerCase() === p.contract.toLowerCase());
  const found = specOfType(event.type);
  if (found) { // an event the contract emitted: it must be in the transaction, with these values
    const [name, spec] = found;
    if (spec.contract === contract && ours.some((l) => l.topics[0] === spec.topic && matches(spec, l, p))) {
      return { contract, name, spec };
    }
    if (!Object.hasOwn(TABLE.steps, event.type)) throw new Failure("rule_unbacked", { why: "no_such_log", name, tx: p.tx_hash });
  }
  // a step: the transaction must call the contract function that takes it
  const base = refused ? event.type.slice(0, -".rejected".length) : event.type;
  const sent = await once(`txin ${rpcUrl} ${p.tx_hash}`, () => rpc(rpcUrl, "eth_getTransactionByHash", [p.tx_hash]));
  if (!Object.hasOwn(TABLE.steps, base) || !sent || !TABLE.steps[base].includes((sent.input || "").slice(0, 10))) {
    throw new Failure("rule_unbacked", { why: found ? "no_such_log" : "other_step", name: found && found[0], tx: p.tx_hash });
  }
  const id = contract === "ExpertDraw" ? p.draw_id : p.section_id;
  if (!refused && typeof id === "string" && !ours.some((l) => (l.topics[1] || "") === "0x" + id.toLowerCase())) {
    throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
  }
  return { contract };
}

// Contract events of the sections and draws the checked events name that none of the `shown`
// (verified) events states: [{name, type, tx, public}], found by asking the witness's node.
export async function missingRuleLogs(checked, shown, rpcUrl) {
  const subjects = new Map(); // "address key id" → {address, contract, key, id}
  for (const { event, contract } of checked) {
    const p = event.public || {};
    for (const key of contract === "ExpertDraw" ? ["draw_id"] : ["section_id"]) {
      if (typeof p[key] === "string" && /^[0-9a-f]{64}$/.test(p[key])) {
        subjects.set(`${p.contract.toLowerCase()} ${key} ${p[key]}`, { address: p.contract, contract, key, id: p[key] });
      }
    }
  }
  const missing = [];
  for (const { address, contract, key, id } of subjects.values()) {
    const specs = Object.entries(TABLE.events).filter(([, s]) => s.contract === contract && s.key === key);
    if (!specs.length) continue;
    // one query per event kind (not every node takes alternatives in a topic position), one at a time
    const logs = [];
    for (const [, s] of specs) {
      logs.push(...await rpc(rpcUrl, "eth_getLogs", [{ address: [address], fromBlock: "0x0", toBlock: "latest", topics: [s.topic, "0x" + id] }]));
    }
    for (const log of logs) {
      const [name, spec] = specs.find(([, s]) => s.topic === log.topics[0]);
      const stated = shown.some((event) => event.type === spec.type &&
        (event.public || {}).tx_hash === log.transactionHash && matches(spec, log, event.public || {}));
      if (!stated) missing.push({ name, type: spec.type, tx: log.transactionHash, public: publicOfLog(spec, log) });
    }
  }
  return missing;
}
