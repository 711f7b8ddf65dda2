// What a witness is told about an event: its label and rule outcome, recomputed in the browser
// from the event's verified public form. The words come from sdk/witness.json (TABLE); the
// choice of outcome below is sdk/witness.py's, line for line (tests/notary/web/test_witness_table.py
// runs both over every event type and requires the same answers).
import { TABLE } from "./table.js";
import { canonical } from "./verify.js";

const REJECTED = ".rejected";

export function label(type) {
  const base = type.endsWith(REJECTED) ? type.slice(0, -REJECTED.length) : type;
  let [zh, en] = TABLE.labels[base] || [base, base];
  if (type.endsWith(REJECTED)) [zh, en] = TABLE.rejected_label.map((t, i) => t.replace("{label}", [zh, en][i]));
  return { zh, en };
}

// Reserved to the rules engine: the rule types, and every refusal (no trading system may brand a step refused).
export function isRuleType(type) {
  const base = type.endsWith(REJECTED) ? type.slice(0, -REJECTED.length) : type;
  return type !== base || TABLE.rule_types.includes(base) || TABLE.rule_prefixes.some((p) => base.startsWith(p));
}

// A time a JavaScript Date (and Python's datetime) can show: year 1970 to 9999.
const showable = (seconds) => Number.isInteger(seconds) && seconds >= 0 && seconds <= 253402300799;

export function text(value, fallback = "?") {
  if (value === null || value === undefined) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Number.isInteger(value)) return String(value);
  return canonical(value);
}

const short = (value) => {
  const shown = text(value, "");
  return [...shown].length > 12 ? [...shown].slice(0, 10).join("") + "…" : shown;
};
const isInt = (value) => Number.isInteger(value);
const own = (object, key) => (Object.hasOwn(object, key) ? object[key] : undefined);
export const utcIso = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

function make(code, level, values = {}) {
  const key = code.startsWith("collusion") || code.startsWith("rejected") ? code.split(":")[0] : code;
  let [fallback, zh, en] = TABLE.outcomes[key];
  for (const [name, value] of Object.entries(values)) {
    zh = zh.replaceAll("{" + name + "}", value);
    en = en.replaceAll("{" + name + "}", value);
  }
  return { level: level || fallback, code, zh, en };
}

export function outcome(event) {
  const kind = event.type;
  let data = event.public || {};
  if (typeof data !== "object" || Array.isArray(data)) data = {};
  const get = (key) => own(data, key);
  if (kind.endsWith(REJECTED) && isRuleType(kind.slice(0, -REJECTED.length))) {
    const reason = text(get("reason"), "");
    const name = reason.split("(")[0];
    const code = name ? `rejected:${name}` : "rejected";
    if (Object.hasOwn(TABLE.reasons, name)) {
      const [zh, en] = TABLE.reasons[name];
      return { level: "notice", code, zh, en };
    }
    return make(code, null, { reason });
  }
  switch (kind) {
    case "tender.flag.shared_signal": {
      const k = get("kind");
      const signal = isInt(k) && k >= 0 && k < TABLE.signals.length ? TABLE.signals[k] : TABLE.signal_unknown;
      const out = make("collusion:" + signal.code, signal.level, { a: short(get("firstPseudonym")), b: short(get("secondPseudonym")) });
      return { ...out, zh: out.zh.replaceAll("{what}", signal.zh), en: out.en.replaceAll("{what}", signal.en) };
    }
    case "tender.flag.bid_file_inconsistent": return make("inconsistent", null, { who: short(get("bidderId")) });
    case "tender.section_failed":
      if (get("reason") === 2 || get("reason") === "not_sealed") return make("section_failed:not_sealed");
      return make("section_failed", null, { bids: text(get("bids")) });
    case "tender.box_sealed": return make("box_sealed", null, { box_size: text(get("box_size")) });
    case "bid.opened": return make("bid_opened");
    case "bid.undecryptable": return make(get("byBidder") === true ? "revoked" : "withdrawn");
    case "bid.replaced": return make("replaced", null, { replaced: text(get("replaced")), by: text(get("by")) });
    case "tender.holder_withheld": return make("holder_withheld", null, { who: short(get("holder")) });
    case "tender.opening_closed": return make("opening_closed", null, { valid_bids: text(get("valid_bids")) });
    case "tender.deadline_extended":
      if (showable(get("deadline"))) return make("deadline_extended", null, { when: utcIso(get("deadline")), reason: text(get("reason"), "") });
      break;
    case "tender.bids_rejected": return make("bids_rejected", null, { decision: text(get("decision"), "") });
    case "experts.draw_voided": {
      const d = get("defaulters");
      return make("draw_voided", null, { who: Array.isArray(d) ? d.map(short).join(", ") : "" });
    }
    case "experts.drawn": {
      const p = Array.isArray(get("positions")) ? get("positions") : [];
      return make("experts_drawn", null, { count: String(p.length), positions: "[" + p.map((x) => text(x)).join(", ") + "]" });
    }
    case "experts.expert_replaced": return make("expert_replaced", null, { ordinal: text(get("ordinal")), reason: text(get("reason"), "") });
    case "experts.secret_recovered": return make("seed_withheld", null, { who: short(get("party")) });
    case "tender.section_opened":
      if (showable(get("deadline"))) return make("section_opened", null, { when: utcIso(get("deadline")) });
      break;
    case "bid.sealed": return make("bid_in_time");
    default: break;
  }
  return make("recorded");
}
