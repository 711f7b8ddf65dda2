// Rule outcomes count only when the chain backs them. The registry the witness trusts names each
// region's rule contracts (rulesOf, bound by the registrar); a rule event must name one of them,
// be about the section (or draw) it says — the ids are derived here from region, project and
// section as the contracts derive them — and name the transaction that made it: that transaction,
// read from the witness's own node, went to that contract in the stated block with the stated
// status, called the function that takes the step, and emitted the contract event with exactly the
// values shown. Then the page asks the chain for every event the rule contracts emitted about the
// section and its draws, whatever the timeline holds, and reports those it leaves out.
import { TABLE } from "./table.js";
import { Failure, chainId, fromHex, rpc } from "./verify.js";
import { sha256, toHex } from "./sha256.js";
import { keccak256 } from "./keccak.js";

export const RULES_OF = "0x62a381c8"; // rulesOf(uint32)

const ruleAnswers = new Map();
function once(key, read) {
  if (!ruleAnswers.has(key)) ruleAnswers.set(key, read().catch((e) => { ruleAnswers.delete(key); throw e; }));
  return ruleAnswers.get(key);
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;
const words = (n) => BigInt(n).toString(16).padStart(64, "0");

// --- the ids the contracts derive ------------------------------------------------------------
function abiString(bytes) {
  const padded = new Uint8Array(32 + Math.ceil(bytes.length / 32) * 32);
  padded.set(fromHex(words(bytes.length)));
  padded.set(bytes, 32);
  return padded;
}

// TenderRules.sectionIdOf / ExpertDraw.sectionIdOf: keccak256(abi.encode(uint32, string, string)).
export function sectionIdOf(region, project, section) {
  const p = abiString(new TextEncoder().encode(project)), s = abiString(new TextEncoder().encode(section));
  const head = fromHex(words(region) + words(96) + words(96 + p.length));
  const all = new Uint8Array(head.length + p.length + s.length);
  all.set(head);
  all.set(p, head.length);
  all.set(s, head.length + p.length);
  return toHex(keccak256(all));
}

// ExpertDraw.drawIdOf: keccak256(abi.encode(bytes32 sectionId, uint32 round)).
export const drawIdOf = (sectionId, round) => toHex(keccak256(fromHex(sectionId + words(round))));

// The rule contracts the registry names for a region: {tender: Set, draw: Set} of lowercase addresses.
export function boundRules(rpcUrl, registry, region) {
  return once(`rules ${rpcUrl} ${registry.toLowerCase()} ${region}`, async () => {
    const out = (await rpc(rpcUrl, "eth_call", [{ to: registry, data: RULES_OF + words(region) }, "latest"])).slice(2);
    const word = (i) => out.slice(64 * i, 64 * i + 64);
    const at = Number(BigInt("0x" + (word(0) || "0"))) / 32;
    const n = Number(BigInt("0x" + (word(at) || "0")));
    const bound = { tender: new Set(), draw: new Set() };
    for (let i = 0; i < n; i++) {
      bound.tender.add("0x" + word(at + 1 + 2 * i).slice(24));
      bound.draw.add("0x" + word(at + 2 + 2 * i).slice(24));
    }
    return bound;
  });
}

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
  if (type === "string" || type === "bytes") return null; // not compared (only DrawCreated has them)
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

// One normal form for a value as the chain holds it and as the event states it; "?" never matches.
function norm(type, value) {
  const array = /^(.*)\[\]$/.exec(type);
  if (array) return Array.isArray(value) ? value.map((v) => norm(array[1], v)).join(",") : "?";
  if (/^u?int\d*$/.test(type)) {
    if (typeof value === "bigint") return value.toString();
    if (Number.isSafeInteger(value) || (typeof value === "string" && DECIMAL.test(value))) return BigInt(value).toString();
    return "?";
  }
  if (type === "bool") return typeof value === "boolean" ? String(value) : "?";
  if (typeof value !== "string") return "?";
  return type === "address" ? value.toLowerCase() : value.replace(/^0x/, "");
}

const differs = (type, a, b) => { const x = norm(type, a); return x === "?" || x !== norm(type, b); };

// Every argument of the event as the row states it (contract events are notarized with their arguments).
function matches(spec, log, stated) {
  const onChain = decodeLog(spec, log);
  return spec.inputs.every((i) => Object.hasOwn(stated, i.name) && !differs(i.type, stated[i.name], onChain[i.name]));
}

// The step's values the row shows, against the event the step emitted (fields the row leaves out
// are not shown either); texts the contract only hashed, against their hash.
function stepMatches(stepLog, spec, log, stated) {
  const onChain = decodeLog(spec, log);
  const types = Object.fromEntries(spec.inputs.map((i) => [i.name, i.type]));
  for (const [field, arg] of Object.entries(stepLog.fields)) {
    if (Object.hasOwn(stated, field) && differs(types[arg], stated[field], onChain[arg])) return false;
  }
  for (const [text, hash] of Object.entries(stepLog.hashed)) {
    if (!Object.hasOwn(stated, text)) continue;
    if (typeof stated[text] !== "string" || toHex(sha256(new TextEncoder().encode(stated[text]))) !== norm("bytes32", stated[hash])) return false;
  }
  return true;
}

// The public form a contract event would have had (for an event the timeline left out), in the
// names the rules engine uses for it.
export function publicOfLog(spec, log) {
  const out = {};
  const plain = (x) => (typeof x === "bigint" ? (x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x);
  for (const [k, v] of Object.entries(decodeLog(spec, log))) out[k] = Array.isArray(v) ? v.map(plain) : plain(v);
  const step = TABLE.step_logs[spec.type];
  if (step && !spec.notarized) for (const [field, arg] of Object.entries(step.fields)) out[field] = out[arg];
  return out;
}

const notarizedSpec = (type) => Object.entries(TABLE.events).find(([, s]) => s.notarized && s.type === type);
const baseOf = (type) => (type.endsWith(".rejected") ? type.slice(0, -".rejected".length) : type);

// Check one rule event against the chain the witness chose. Resolves to {contract, key} (key: what
// on chain backs it, so that one transaction's event backs one row) or throws a Failure;
// `rule_unbacked` with why "untransacted" for the types recorded without a transaction.
export async function checkRuleEvent(event, rpcUrl, registry) {
  const p = event.public && typeof event.public === "object" ? event.public : {};
  const base = baseOf(event.type);
  const refused = base !== event.type;
  if (!HEX32.test(p.tx_hash || "") || !ADDRESS.test(p.contract || "")) {
    throw new Failure("rule_unbacked", { why: TABLE.untransacted.includes(base) ? "untransacted" : "no_tx" });
  }
  if (p.chain_id !== await chainId(rpcUrl)) throw new Failure("rule_unbacked", { why: "other_chain" });
  const region = Number(event.region);
  const bound = await boundRules(rpcUrl, registry, region);
  const address = p.contract.toLowerCase();
  const contract = bound.tender.has(address) ? "TenderRules" : bound.draw.has(address) ? "ExpertDraw" : null;
  if (!contract) throw new Failure("rule_unbacked", { why: "unbound_contract", contract: p.contract, region: event.region });
  if (await ruleContract(rpcUrl, p.contract) !== contract) throw new Failure("rule_unbacked", { why: "unknown_contract", contract: p.contract });
  // the subject: the section (and draw) the event is about, derived, never taken from the event
  let subject = null;
  if (typeof event.section === "string") {
    const section = sectionIdOf(region, event.project, event.section);
    if (p.section_id !== section) throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
    subject = section;
    if (contract === "ExpertDraw") {
      if (!Number.isSafeInteger(p.round) || p.round < 0 || p.draw_id !== drawIdOf(section, p.round)) {
        throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
      }
      subject = p.draw_id;
    }
  } else if (!TABLE.registry_steps.includes(base) || contract !== "TenderRules") {
    throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
  }
  const tx = await once(`tx ${rpcUrl} ${p.tx_hash}`, () => rpc(rpcUrl, "eth_getTransactionReceipt", [p.tx_hash]));
  if (!tx) throw new Failure("rule_unbacked", { why: "no_such_tx", tx: p.tx_hash });
  if ((tx.to || "").toLowerCase() !== address) throw new Failure("rule_unbacked", { why: "other_contract", tx: p.tx_hash });
  if (Number(BigInt(tx.blockNumber)) !== p.block_number) throw new Failure("rule_unbacked", { why: "other_block", tx: p.tx_hash });
  if ((tx.status === "0x1") === refused || p.status !== (refused ? "rejected" : "accepted")) {
    throw new Failure("rule_unbacked", { why: "other_status", tx: p.tx_hash });
  }
  const ours = (tx.logs || []).filter((l) => l.address.toLowerCase() === address);
  const about = (l) => subject === null || (l.topics[1] || "") === "0x" + subject;
  const found = notarizedSpec(event.type);
  if (found) { // an event the contract emitted: in the transaction, about the subject, with these values
    const [name, spec] = found;
    const log = ours.find((l) => l.topics[0] === spec.topic && about(l) && matches(spec, l, p));
    if (spec.contract === contract && log) return { contract, key: `${p.tx_hash} ${Number(BigInt(log.logIndex))}` };
    if (!Object.hasOwn(TABLE.steps, event.type)) throw new Failure("rule_unbacked", { why: "no_such_log", name, tx: p.tx_hash });
  }
  // a step: the transaction called the function that takes it (a refused one: about the subject)
  const sent = await once(`txin ${rpcUrl} ${p.tx_hash}`, () => rpc(rpcUrl, "eth_getTransactionByHash", [p.tx_hash]));
  const input = (sent && sent.input) || "";
  const fn = (TABLE.steps[base] || []).find((f) => f.selector === input.slice(0, 10));
  if (!fn) throw new Failure("rule_unbacked", { why: found ? "no_such_log" : "other_step", name: found && found[0], tx: p.tx_hash });
  if (refused) {
    if (subject !== null && (!fn.subject_arg || input.slice(10, 74) !== subject)) {
      throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
    }
    return { contract, key: `${p.tx_hash} refused` };
  }
  const stepLog = TABLE.step_logs[base];
  if (stepLog) {
    const spec = TABLE.events[stepLog.event];
    if (!ours.some((l) => l.topics[0] === spec.topic && about(l) && stepMatches(stepLog, spec, l, p))) {
      throw new Failure("rule_unbacked", { why: "no_such_log", name: stepLog.event, tx: p.tx_hash });
    }
  } else if (subject !== null && !ours.some(about)) {
    throw new Failure("rule_unbacked", { why: "other_subject", tx: p.tx_hash });
  }
  return { contract, key: `${p.tx_hash} ${base}` };
}

async function logsOf(rpcUrl, address, topics) {
  return rpc(rpcUrl, "eth_getLogs", [{ address: [address], fromBlock: "0x0", toBlock: "latest", topics }]);
}

// Every event the region's bound rule contracts emitted about (project, section) and the section's
// draws, whatever the timeline holds, that no `shown` (verified) event states:
// [{name, type, tx, public}]. One query per event kind (not every node takes alternatives in a topic
// position), one at a time (nodes limit callers in flight).
export async function missingRuleLogs(region, project, sections, shown, rpcUrl, registry) {
  const bound = await boundRules(rpcUrl, registry, region);
  const scanned = Object.entries(TABLE.events).filter(([, s]) => s.type);
  const missing = [];
  const look = async (address, contract, id) => {
    for (const [name, spec] of scanned.filter(([, s]) => s.contract === contract)) {
      for (const log of await logsOf(rpcUrl, address, [spec.topic, "0x" + id])) {
        const stated = shown.some((event) => {
          const p = event.public && typeof event.public === "object" ? event.public : {};
          // a notarized contract event states its arguments; a step row of the same type (its
          // function checked already, e.g. failUnsealed's SectionFailed) states the transaction
          const step = !spec.inputs.every((i) => Object.hasOwn(p, i.name));
          return event.type === spec.type && p.tx_hash === log.transactionHash && (!spec.notarized || step || matches(spec, log, p));
        });
        if (!stated) missing.push({ name, type: spec.type, tx: log.transactionHash, public: publicOfLog(spec, log) });
      }
    }
  };
  const created = TABLE.events.DrawCreated;
  for (const section of sections) {
    const id = sectionIdOf(region, project, section);
    for (const address of bound.tender) await look(address, "TenderRules", id);
    for (const address of bound.draw) {
      const draws = new Set((await logsOf(rpcUrl, address, [created.topic, null, "0x" + id])).map((l) => l.topics[1].slice(2)));
      for (const draw of draws) await look(address, "ExpertDraw", draw);
    }
  }
  return missing;
}
