// The witness page: file and receipt verification in the browser, and a section's timeline.
// It trusts the chain the witness chose (node and registry, remembered in this browser), never
// the notary: every label, outcome and warning shown is recomputed here from verified public
// events, rule outcomes count only when the rule contract's own logs back them, and a section's
// events must link one to the next (prev) from its first.
import { hashFile } from "./sha256.js";
import { Failure, GENESIS, canonical, verifyReceipt } from "./verify.js";
import { isRuleType, label, outcome } from "./witness.js";
import { checkRuleEvent, missingRuleLogs } from "./rules.js";

const TEXT = {
  zh: {
    title: "链证 · 见证核验", lang: "English", notary: "公证服务地址（被核验方）",
    trust_title: "您信任的区块链",
    no_registry: (sug) => `尚未选择存证合约：请填写您信任的存证合约地址（由交易中心或黄河联盟公布）。` +
      (sug ? `公证服务自称使用 ${sug}，请另行核对后再使用。` : ""),
    use_suggestion: "使用公证服务提供的地址",
    own_rpc: "您正在使用公证服务自己的区块链节点（/chain/rpc）：说谎的公证服务也可以让它说谎。请改用独立节点（其他省份、联盟或您自己的节点）。",
    complete: (n) => `完整性：每个标段的事件从第一条起逐条相链，中间无缺漏（共 ${n} 条；最后一条之后是否还有事件，需由日志核对）`,
    no_rpc_chosen: (sug) => "尚未选择区块链节点：请填写您信任的节点地址。" + (sug ? `公证服务建议 ${sug}。` : ""),
    use_rpc_suggestion: "使用公证服务建议的节点",
    incomplete: "不完整 INCOMPLETE：时间线缺少事件或混入了其他项目的事件",
    stated_complete: (n) => `公证服务声明：截至日志第 ${n} 条，此列表完整`,
    unbacked: "⚠ 规则结果未经链上合约日志印证：不计入",
    hidden: (l, o, tx) => `核验失败 FAILED：链上规则合约记录了“${l}”（${o}，交易 ${tx}），时间线却未显示`,
    lead: "在浏览器中核验交易证据：文件只在您的电脑上计算哈希，不会上传；证明直接与区块链上的根哈希比对。",
    rpc: "区块链节点 (JSON-RPC)", registry: "存证合约", file_title: "核验文件", drop: "把文件拖到这里，或",
    receipt_title: "核验回执", receipt_placeholder: "粘贴回执 JSON", receipt_file: "或上传回执",
    receipt_doc: "对应文件（可选）", receipt_event: "或您持有的事件 JSON（可选）", verify: "核验", timeline_title: "项目 / 标段时间线", project: "项目",
    section: "标段", show: "查看", certificate: "下载电子见证证书 (PDF)",
    footer: "只显示公开信息（哈希与规则结果）；事件内容需持有读取密钥。",
    hashing: (done, total) => `正在计算 SHA-256：${Math.floor(100 * done / Math.max(total, 1))}%`,
    sha: (s) => `文件 SHA-256：${s}`,
    verified: (r, e) => `已核验 verified：事件 ${e.event_id}（${e.type}），区域 ${r.event.region}，` +
      `项目 ${r.event.project}${r.event.section ? " 标段 " + r.event.section : ""}，发生于 ${r.event.occurred_at}；` +
      `${published(r.event)}第 ${r.index} 条，锚定于区块 ${r.block}（${iso(r.time)}）`,
    not_found: "未找到 not found：没有公证事件引用此文件。文件只要改动一个字节，哈希就完全不同。",
    failed: (why) => `核验失败 FAILED：${why}`,
    no_receipt: "请粘贴或上传回执",
    anchored_at: (a) => a ? `锚定：区块 ${a.block_number}` : "待锚定",
    warnings: (n) => `风险预警：${n} 项`, no_events: "没有事件",
    checking: "正在链上核验…", check_ok: (r) => `✓ 已在链上核验（区块 ${r.block}）`, check_pending: "待锚定，尚不能核验",
    check_summary: (ok, n, bad) => `已在浏览器中对照链上根哈希核验 ${ok} / ${n} 条事件` + (bad ? `；${bad} 条核验失败` : ""),
    reasons: {
      malformed: (p) => `格式错误（${p.what}）`,
      public_receipt: "这是公开回执（内容已封存），无法与您持有的事件比对",
      event_differs: "您持有的事件与公证的事件不同", document_not_in_event: () => "该文件不在此事件的文件清单中",
      digest_mismatch: () => "回执中的事件已被改动：其哈希与回执的事件摘要不符",
      pending: "回执尚未锚定，请稍后再取回执", proof_invalid: (p) => `包含证明无效（${p.why}）`,
      wrong_registry: (p) => `回执指向合约 ${p.named}，本页信任的是 ${p.trusted}`,
      wrong_chain: (p) => `回执锚定在链 ${p.named}，节点是链 ${p.chain}`,
      not_anchored: (p) => `链上没有树大小 ${p.size} 的锚定`,
      root_mismatch: (p) => `证明得到的根 ${p.computed} 与链上锚定的根 ${p.anchored} 不同`,
      anchor_differs: (p) => `回执的锚定区块与链上记录（区块 ${p.block}）不符`,
      rpc_unreachable: (p) => `无法连接区块链节点 ${p.url}`, rpc_error: (p) => `区块链节点返回错误：${p.error}`,
      http: (p) => `公证服务返回 ${p.status}：${p.message}`,
      timeline_differs: (p) => `时间线显示的内容与公证的事件不符（${p.what}）`,
      no_registry: "未选择存证合约：请先填写您信任的存证合约地址", no_rpc: "未填写区块链节点地址",
      id_mismatch: (p) => `回执名为事件 ${p.named}，其中公证的事件却是 ${p.event}`,
      wrong_region: (p) => `事件区域 ${p.event} 不是该日志的区域 ${p.log}`,
      log_unknown: (p) => `存证合约中没有区域 ${p.region} 的日志`,
      log_differs: (p) => `存证合约登记区域 ${p.region} 的日志为 ${p.origin}（${p.hash}），回执却是 ${p.named}（${p.namedHash}）`,
      signature_invalid: (p) => `检查点签名与链上登记的 ${p.origin} 公钥不符`,
      not_a_registry: (p) => `${p.registry} 不是存证合约`,
      anchor_tx: (p) => `交易 ${p.tx} 不是该检查点的锚定交易`,
      spliced: (p) => `这是项目 ${p.project}${p.section ? " 标段 " + p.section : ""} 的事件，不属于本时间线`,
      chain_break: "此前的事件缺失：本事件链接的上一条事件不在时间线中",
      chain_start: "本标段更早的事件缺失：第一条显示的事件并非标段的第一条",
      unlinked: "事件没有标段链接（prev），无法核验完整性",
      other_region: (p) => `事件属于区域 ${p.region}，本时间线是区域 ${p.expected}`,
      reused: (p) => `与另一条事件引用同一链上记录（交易 ${p.tx}）`,
      rule_unbacked: (p) => ({ no_tx: "规则事件未指明交易", other_chain: "规则事件属于另一条链",
        unbound_contract: `合约 ${p.contract} 不是存证合约为区域 ${p.region} 登记的规则合约`,
        unknown_contract: `合约 ${p.contract} 不是经审计的规则合约`, no_such_tx: `链上没有交易 ${p.tx}`,
        other_contract: `交易 ${p.tx} 并非发给该规则合约`, other_block: `交易 ${p.tx} 不在事件所述的区块`,
        other_status: `交易 ${p.tx} 的结果与事件所述不同`, no_such_log: `交易 ${p.tx} 中合约没有发出事件 ${p.name}（或数值不同）`,
        other_subject: `交易 ${p.tx} 与事件所述的标段无关`, other_step: `交易 ${p.tx} 调用的合约函数不是此规则步骤` })[p.why] || p.why,
    },
  },
  en: {
    title: "Lianzheng · witness verification", lang: "中文", notary: "Notary URL (the one being checked)",
    trust_title: "The chain you trust",
    no_registry: (sug) => "No registry chosen: enter the evidence registry you trust (published by the trading centre " +
      "or the Yellow River alliance)." + (sug ? ` The notary says it uses ${sug}: check that elsewhere before using it.` : ""),
    use_suggestion: "use the notary's address",
    own_rpc: "You are reading the chain through the notary's own node (/chain/rpc): a lying notary can make it lie too. " +
      "Use an independent node (another province's, the alliance's, or your own).",
    complete: (n) => `complete: each section's events link one to the next from its first, no gap (${n} events; ` +
      "whether any follow the last one needs the log itself)",
    no_rpc_chosen: (sug) => "No chain node chosen: enter a node you trust." + (sug ? ` The notary suggests ${sug}.` : ""),
    use_rpc_suggestion: "use the notary's node",
    incomplete: "INCOMPLETE: the timeline leaves out events or splices in another project's",
    stated_complete: (n) => `the notary states this list is complete up to log entry ${n}`,
    unbacked: "⚠ rule outcome not backed by the rule contract's logs on chain: not counted",
    hidden: (l, o, tx) => `FAILED: the rule contract recorded "${l}" (${o}, tx ${tx}) on chain; the timeline leaves it out`,
    lead: "Verify trading evidence in your browser: files are hashed on your computer and never uploaded; proofs are checked against the root held on chain.",
    rpc: "Chain node (JSON-RPC)", registry: "Evidence registry", file_title: "Verify a file",
    drop: "Drop a file here, or", receipt_title: "Verify a receipt", receipt_placeholder: "Paste a receipt (JSON)",
    receipt_file: "or upload a receipt", receipt_doc: "its file (optional)",
    receipt_event: "or the event JSON you hold (optional)", verify: "Verify",
    timeline_title: "Project / section timeline", project: "Project", section: "Section", show: "Show",
    certificate: "Download the witness certificate (PDF)",
    footer: "Only public information is shown (hashes and rule outcomes); event contents need a reader key.",
    hashing: (done, total) => `Computing SHA-256: ${Math.floor(100 * done / Math.max(total, 1))}%`,
    sha: (s) => `File SHA-256: ${s}`,
    verified: (r, e) => `verified: event ${e.event_id} (${e.type}), region ${r.event.region}, ` +
      `project ${r.event.project}${r.event.section ? " section " + r.event.section : ""}, occurred ${r.event.occurred_at}; ` +
      `${published(r.event)}entry ${r.index}, anchored in block ${r.block} (${iso(r.time)})`,
    not_found: "not found: no notarized event references this file. Changing a single byte changes its hash entirely.",
    failed: (why) => `FAILED: ${why}`,
    no_receipt: "Paste or upload a receipt",
    anchored_at: (a) => a ? `anchored: block ${a.block_number}` : "waiting for its anchor",
    warnings: (n) => `Warnings (风险预警): ${n}`, no_events: "No events",
    checking: "verifying on chain…", check_ok: (r) => `✓ verified on chain (block ${r.block})`,
    check_pending: "waiting for its anchor: not verifiable yet",
    check_summary: (ok, n, bad) => `${ok} of ${n} events verified in this browser against the root on chain` +
      (bad ? `; ${bad} FAILED` : ""),
    reasons: {
      malformed: (p) => `malformed input (${p.what})`,
      public_receipt: "this is a public receipt (contents sealed): it cannot be compared with the event you hold",
      event_differs: "the event you hold differs from the notarized one",
      document_not_in_event: () => "this file is not among the event's documents",
      digest_mismatch: () => "the receipt's event was changed: it does not hash to the receipt's event digest",
      pending: "the receipt is not anchored yet: fetch it again later", proof_invalid: (p) => `inclusion proof invalid (${p.why})`,
      wrong_registry: (p) => `the receipt names registry ${p.named}; this page trusts ${p.trusted}`,
      wrong_chain: (p) => `the receipt is anchored on chain ${p.named}; the node is chain ${p.chain}`,
      not_anchored: (p) => `nothing is anchored on chain at tree size ${p.size}`,
      root_mismatch: (p) => `the proof leads to root ${p.computed}, the chain holds ${p.anchored}`,
      anchor_differs: (p) => `the receipt's anchor block differs from the chain's record (block ${p.block})`,
      rpc_unreachable: (p) => `cannot reach the chain node ${p.url}`, rpc_error: (p) => `the chain node answered an error: ${p.error}`,
      http: (p) => `the notary answered ${p.status}: ${p.message}`,
      timeline_differs: (p) => `the timeline shows something other than the notarized event (${p.what})`,
      no_registry: "no registry chosen: enter the evidence registry you trust first", no_rpc: "no chain node given",
      id_mismatch: (p) => `the receipt names event ${p.named}, its notarized event is ${p.event}`,
      wrong_region: (p) => `the event's region ${p.event} is not the log's region ${p.log}`,
      log_unknown: (p) => `the registry holds no log for region ${p.region}`,
      log_differs: (p) => `the registry records region ${p.region}'s log as ${p.origin} (${p.hash}); the receipt names ${p.named} (${p.namedHash})`,
      signature_invalid: (p) => `the checkpoint is not signed by the key registered on chain for ${p.origin}`,
      not_a_registry: (p) => `${p.registry} is not an evidence registry`,
      anchor_tx: (p) => `transaction ${p.tx} is not the anchor of this checkpoint`,
      spliced: (p) => `this is an event of project ${p.project}${p.section ? " section " + p.section : ""}, not of this timeline`,
      chain_break: "an event is missing before this one: the event it links to is not in the timeline",
      chain_start: "the section's earlier events are missing: the first event shown is not the section's first",
      unlinked: "the event carries no section link (prev): completeness cannot be checked",
      other_region: (p) => `the event is of region ${p.region}; this timeline is region ${p.expected}'s`,
      reused: (p) => `another event cites the same record on chain (tx ${p.tx})`,
      rule_unbacked: (p) => ({ no_tx: "the rule event names no transaction", other_chain: "the rule event is of another chain",
        unbound_contract: `contract ${p.contract} is not a rule contract the registry binds to region ${p.region}`,
        unknown_contract: `contract ${p.contract} is not an audited rule contract`, no_such_tx: `transaction ${p.tx} is not on this chain`,
        other_contract: `transaction ${p.tx} did not go to the rule contract`, other_block: `transaction ${p.tx} is not in the block the event states`,
        other_status: `transaction ${p.tx} ended otherwise than the event states`,
        no_such_log: `in transaction ${p.tx} the contract emitted no ${p.name} with these values`,
        other_subject: `transaction ${p.tx} is not about the section the event names`,
        other_step: `transaction ${p.tx} called another contract function than this rule step` })[p.why] || p.why,
    },
  },
};

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const STANDALONE = Boolean(globalThis.LIANZHENG_STANDALONE);
const FIXED = globalThis.LIANZHENG_FIXED || {}; // an exported page's own registry and node: never changed here
let lang = params.get("lang") === "en" || localStorage.getItem("lianzheng.lang") === "en" ? "en" : "zh";
const t = (key, ...args) => {
  const v = TEXT[lang][key];
  return typeof v === "function" ? v(...args) : v;
};
// What the writer published about the event (e.g. the archive's location), as "k v; ".
const published = (event) => Object.entries(event.public || {})
  .filter(([, v]) => typeof v === "string" || typeof v === "number").map(([k, v]) => `${k} ${v}; `).join("");
const iso = (s) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
let suggested = { rpc: "", registry: "" }; // what the notary says (shown, never used unasked)
let lastTimeline = null; // {data, rows: [{claim, status, result?, error?, rule?}], hidden: [], chain: {...}}

function reason(err) {
  if (err instanceof Failure) {
    const r = TEXT[lang].reasons[err.code];
    return typeof r === "function" ? r(err.params) : (r || err.code);
  }
  return String(err && err.message ? err.message : err);
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  $("lang").textContent = t("lang");
  renderTrust();
  if (lastTimeline) renderTimeline();
}

function line(container, status, text) {
  const div = document.createElement("div");
  div.className = status;
  div.dataset.status = status;
  div.textContent = text;
  container.appendChild(div);
  return div;
}

// The notary's API: this page's own origin, or (standalone) the URL the witness typed.
const notaryBase = () => (STANDALONE ? $("notary").value.trim().replace(/\/+$/, "") : "");

async function getJson(path) {
  let r;
  try {
    r = await fetch(notaryBase() + path);
  } catch {
    throw new Failure("rpc_unreachable", { url: notaryBase() + path });
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Failure("http", { status: r.status, message: body.message || r.statusText });
  return body;
}

const settings = () => ({ rpcUrl: $("rpc").value.trim(), registry: $("registry").value.trim() });

// Whether the node is the notary's own /chain/rpc (or the one it suggested): then nothing read
// through it is independent of the notary.
function ownRpc(url) {
  if (!url) return false;
  try {
    const u = new URL(url.trim(), location.href);
    const notary = new URL(notaryBase() || location.href, location.href);
    const same = (a, b) => { try { return new URL(a.trim(), location.href).href === new URL(b.trim(), location.href).href; } catch { return false; } };
    return (suggested.rpc && same(url, suggested.rpc)) || (u.origin === notary.origin && u.pathname.replace(/\/+$/, "") === "/chain/rpc");
  } catch {
    return false;
  }
}

function renderTrust() {
  const out = $("trust");
  out.replaceChildren();
  const { rpcUrl, registry } = settings();
  if (!registry) {
    const div = line(out, "failed", t("no_registry", suggested.registry));
    div.dataset.kind = "no_registry";
    if (suggested.registry && !FIXED.registry) {
      const use = Object.assign(document.createElement("button"), { type: "button", id: "use-suggestion", textContent: t("use_suggestion") });
      use.addEventListener("click", () => { setSetting("registry", suggested.registry); });
      div.appendChild(document.createTextNode(" "));
      div.appendChild(use);
    }
  }
  if (!rpcUrl) {
    const div = line(out, "failed", t("no_rpc_chosen", suggested.rpc));
    div.dataset.kind = "no_rpc";
    if (suggested.rpc && !FIXED.rpc) {
      const use = Object.assign(document.createElement("button"), { type: "button", id: "use-rpc-suggestion", textContent: t("use_rpc_suggestion") });
      use.addEventListener("click", () => { setSetting("rpc", suggested.rpc); });
      div.appendChild(document.createTextNode(" "));
      div.appendChild(use);
    }
  }
  if (ownRpc(rpcUrl)) line(out, "not_found", t("own_rpc")).dataset.kind = "own_rpc";
}

let chosen = { rpc: null, registry: null }; // what the notices were drawn for
function setSetting(name, value) {
  if (FIXED[name]) return;
  $(name).value = value;
  localStorage.setItem(`lianzheng.${name}`, value.trim());
  if (chosen[name] === value.trim()) return; // unchanged (a blur after typing): keep the notices as they are
  chosen[name] = value.trim();
  renderTrust();
}

async function verifyFile(file) {
  const out = $("file-result");
  out.replaceChildren();
  const sha = await hashFile(file, (done, total) => { $("file-progress").textContent = t("hashing", done, total); });
  $("file-progress").textContent = "";
  const shaLine = line(out, "hash", t("sha", sha));
  shaLine.dataset.sha256 = sha;
  let found;
  try {
    found = await getJson(`/v1/documents/${sha}`);
  } catch (e) {
    line(out, "failed", t("failed", reason(e)));
    return;
  }
  if (!found.events.length) {
    line(out, "not_found", t("not_found"));
    return;
  }
  for (const e of found.events) {
    try {
      const receipt = await getJson(`/v1/receipts/${encodeURIComponent(e.event_id)}`);
      const r = await verifyReceipt(receipt, { ...settings(), documentSha256: sha });
      // what is shown is what was verified: the event's own id and type, not the notary's listing
      line(out, "verified", t("verified", r, { event_id: r.event.id, type: r.event.type })).dataset.block = r.block;
    } catch (err) {
      line(out, "failed", t("failed", reason(err)));
    }
  }
}

async function verifyPastedReceipt() {
  const out = $("receipt-result");
  out.replaceChildren();
  let text = $("receipt-text").value.trim();
  const upload = $("receipt-file").files[0];
  if (!text && upload) text = await upload.text();
  if (!text) {
    line(out, "failed", t("no_receipt"));
    return;
  }
  try {
    let receipt;
    try {
      receipt = JSON.parse(text);
    } catch {
      throw new Failure("malformed", { what: "JSON" });
    }
    const doc = $("receipt-doc").files[0];
    const documentSha256 = doc ? await hashFile(doc) : null;
    const held = $("receipt-event").files[0];
    let heldEvent = null;
    if (held) {
      try {
        heldEvent = JSON.parse(await held.text());
      } catch {
        throw new Failure("malformed", { what: "event JSON" });
      }
    }
    const r = await verifyReceipt(receipt, { ...settings(), documentSha256, heldEvent });
    line(out, "verified", t("verified", r, { event_id: r.event.id, type: r.event.type })).dataset.block = r.block;
  } catch (err) {
    line(out, "failed", t("failed", reason(err)));
  }
}

// --- the timeline ------------------------------------------------------------------------------

// What the notary's listing says of an event, against what the verified event shows.
function misstated(claim, r) {
  const e = r.event;
  const shown = outcome(e);
  const checks = [
    ["id", claim.event_id, e.id], ["index", claim.index, r.index], ["digest", claim.event_digest, r.digest],
    ["type", claim.type, e.type], ["occurred_at", claim.occurred_at, e.occurred_at],
    ["section", claim.section ?? null, e.section ?? null], ["public", canonical(claim.public ?? null), canonical(e.public ?? null)],
    ["documents", canonical((claim.documents || []).map((d) => d.sha256)), canonical((e.documents || []).map((d) => d.sha256))],
    ["label", canonical(claim.label ?? null), canonical(label(e.type))],
    ["outcome", canonical(claim.outcome ? [claim.outcome.level, claim.outcome.code] : null), canonical([shown.level, shown.code])],
  ];
  const wrong = checks.find(([, a, b]) => a !== b);
  return wrong ? wrong[0] : null;
}

// Each section's events must link one to the next from its first; returns {eventId: Failure}.
function chainBreaks(rows) {
  const breaks = new Map();
  const sections = new Map();
  // every event whose receipt verified takes part (one misstated by the listing is still in the log)
  for (const row of rows.filter((x) => x.result).sort((a, b) => a.result.index - b.result.index)) {
    const key = canonical([row.result.event.project, row.result.event.section ?? null]);
    const last = sections.get(key);
    const prev = row.result.event.prev;
    if (typeof prev !== "string") breaks.set(row, new Failure("unlinked"));
    else if (!last && prev !== GENESIS) breaks.set(row, new Failure("chain_start"));
    else if (last && prev !== last.result.digest) breaks.set(row, new Failure("chain_break"));
    sections.set(key, row);
  }
  return breaks;
}

function renderTimeline() {
  const { data, rows, hidden } = lastTimeline;
  const list = $("timeline");
  list.replaceChildren();
  if (!rows.length) list.appendChild(Object.assign(document.createElement("li"), { textContent: t("no_events") }));
  let warnings = 0;
  for (const row of rows) {
    const li = document.createElement("li");
    const check = document.createElement("div");
    check.className = `check ${row.status}`;
    check.dataset.status = row.status;
    if (row.status === "verified" || (row.status === "failed" && row.result)) {
      const e = row.result.event;
      const counted = !isRuleType(e.type) || row.rule === "backed";
      const shown = counted ? outcome(e) : { level: "info", zh: t("unbacked"), en: t("unbacked") };
      // a verified event's warning counts even when the listing misstated it; another project's does not
      if (shown.level === "warning" && !(row.error && row.error.code === "spliced")) warnings++;
      li.className = shown.level;
      li.dataset.type = e.type;
      li.dataset.eventId = e.id;
      li.textContent = `${e.occurred_at} · ${label(e.type)[lang]} · ${shown[lang]} · ${t("anchored_at", { block_number: row.result.block })}`;
      const hash = document.createElement("div");
      hash.className = "hash";
      hash.textContent = `#${row.result.index} ${e.id} ${row.result.digest}` + (e.documents || []).map((d) => ` · file ${d.sha256}`).join("");
      li.appendChild(hash);
      if (row.rule === "unbacked") li.appendChild(Object.assign(document.createElement("div"), { className: "unbacked", textContent: t("unbacked") }));
    } else {
      li.dataset.type = "";
      li.textContent = `#${row.claim.index} ${row.claim.event_id}`;
    }
    check.textContent = row.status === "verified" ? t("check_ok", row.result)
      : row.status === "failed" ? t("failed", reason(row.error)) : t(`check_${row.status}`);
    li.appendChild(check);
    list.appendChild(li);
  }
  for (const h of hidden) {
    const o = outcome({ type: h.type, public: h.public });
    if (o.level === "warning") warnings++;
    const li = Object.assign(document.createElement("li"), { className: "failed hidden-log" });
    li.dataset.type = h.type;
    li.dataset.status = "failed";
    li.textContent = t("hidden", label(h.type)[lang], o[lang], h.tx);
    li.appendChild(Object.assign(document.createElement("div"), { className: "check failed", textContent: t("incomplete") }))
      .dataset.status = "failed";
    list.appendChild(li);
  }
  const banner = $("timeline-warnings");
  banner.classList.toggle("hidden", !warnings);
  banner.textContent = warnings ? t("warnings", warnings) : "";
  const out = $("timeline-check");
  const done = rows.every((r) => r.status !== "checking") && lastTimeline.finished;
  const ok = rows.filter((r) => r.status === "verified").length;
  const bad = rows.filter((r) => r.status === "failed").length + hidden.length;
  out.dataset.done = String(done);
  out.className = bad ? "failed" : "muted";
  const complete = done && !bad && rows.length && ok === rows.length ? " · " + t("complete", rows.length) : "";
  const incomplete = lastTimeline.incomplete ? " · " + t("incomplete") : "";
  const stated = data.log_size ? " · " + t("stated_complete", data.log_size) : "";
  out.textContent = t("check_summary", ok, rows.length, bad) + complete + incomplete + stated;
  out.dataset.complete = String(Boolean(complete));
}

async function checkTimeline(data, project, section) {
  const options = settings();
  const state = { data, rows: data.events.map((claim) => ({ claim, status: "checking" })), hidden: [], finished: false };
  const backing = new Set(); // what on chain backs a rule row: one record, one row
  let region = null; // one timeline, one region: the first verified event's
  lastTimeline = state;
  renderTimeline();
  const queue = [...state.rows];
  const worker = async () => {
    for (let row = queue.shift(); row && lastTimeline === state; row = queue.shift()) {
      try {
        const receipt = await getJson(`/v1/receipts/${encodeURIComponent(row.claim.event_id)}`);
        row.result = await verifyReceipt(receipt, options);
        const e = row.result.event;
        if (e.project !== project || (section && e.section !== section)) {
          throw new Failure("spliced", { project: e.project, section: e.section });
        }
        region = region || e.region;
        if (e.region !== region) throw new Failure("other_region", { region: e.region, expected: region });
        if (isRuleType(e.type)) {
          try {
            row.checked = await checkRuleEvent(e, options.rpcUrl, options.registry);
            if (backing.has(row.checked.key)) throw new Failure("reused", { tx: e.public.tx_hash });
            backing.add(row.checked.key);
            row.rule = "backed";
          } catch (err) {
            if (!(err instanceof Failure && err.code === "rule_unbacked" && err.params.why === "untransacted")) throw err;
            row.rule = "unbacked"; // recorded without a transaction of its own (e.g. a sealed bid): shown, not counted
          }
        }
        const wrong = misstated(row.claim, row.result); // the event is what it is; the listing lied about it
        if (wrong) throw new Failure("timeline_differs", { what: wrong });
        row.status = "verified";
      } catch (error) {
        Object.assign(row, error instanceof Failure && error.code === "pending" ? { status: "pending" } : { status: "failed", error });
      }
      if (lastTimeline === state) renderTimeline();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  if (lastTimeline !== state) return;
  for (const [row, error] of chainBreaks(state.rows)) if (row.status === "verified") Object.assign(row, { status: "failed", error });
  const incomplete = () => state.hidden.length > 0 ||
    state.rows.some((r) => r.error && ["chain_break", "chain_start", "unlinked", "spliced", "other_region"].includes(r.error.code));
  try {
    // what the chain holds about the section (and its draws), whatever rows the notary chose to show
    const stated = state.rows.filter((r) => r.status === "verified" || (r.error && r.error.code === "timeline_differs"));
    const sections = section ? [section] : [...new Set(stated.map((r) => r.result.event.section).filter((x) => typeof x === "string"))];
    state.hidden = region ? await missingRuleLogs(Number(region), project, sections, stated.map((r) => r.result.event),
      options.rpcUrl, options.registry) : [];
  } catch (error) {
    state.hidden = [];
    state.rows.push({ claim: { index: "-", event_id: "chain" }, status: "failed", error });
  }
  state.incomplete = incomplete();
  state.finished = true;
  renderTimeline();
}

async function showTimeline() {
  const project = $("project").value.trim();
  const section = $("section").value.trim();
  const query = new URLSearchParams({ project });
  if (section) query.set("section", section);
  const cert = $("certificate");
  lastTimeline = null;
  $("timeline-check").dataset.done = "false"; // a new answer is on its way
  try {
    const data = await getJson(`/v1/timeline?${query}`);
    cert.classList.toggle("hidden", !section || !/^(https?:\/\/[^\s]*)?$/i.test(notaryBase()));
    cert.href = `${notaryBase()}/v1/certificates/${encodeURIComponent(section)}?${new URLSearchParams({ project })}`;
    await checkTimeline(data, project, section);
  } catch (err) {
    lastTimeline = null;
    $("timeline-check").className = "failed";
    $("timeline-check").dataset.done = "true";
    $("timeline-check").textContent = t("failed", reason(err));
    $("timeline").replaceChildren(Object.assign(document.createElement("li"), { className: "warning", textContent: reason(err) }));
    cert.classList.add("hidden");
  }
}

async function loadSuggestions() {
  try {
    const config = await getJson("/v1/config");
    suggested = { rpc: config.rpc_url || "", registry: config.registry || "" };
  } catch (err) {
    suggested = { rpc: "", registry: "" };
    if (!STANDALONE || notaryBase()) line($("file-result"), "failed", t("failed", reason(err)));
  }
  // Neither the node nor the registry is ever filled in from the notary: both are shown to check.
  renderTrust();
}

async function init() {
  document.body.classList.toggle("standalone", STANDALONE);
  $("notary-setting").classList.toggle("hidden", !STANDALONE);
  $("notary").value = localStorage.getItem("lianzheng.notary") || params.get("notary") || "";
  $("rpc").value = FIXED.rpc || localStorage.getItem("lianzheng.rpc") || "";
  $("registry").value = FIXED.registry || localStorage.getItem("lianzheng.registry") || "";
  $("rpc").readOnly = Boolean(FIXED.rpc);
  $("registry").readOnly = Boolean(FIXED.registry);
  applyLanguage();
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lianzheng.lang", lang);
    applyLanguage();
  });
  await loadSuggestions();
  $("rpc").addEventListener("change", () => setSetting("rpc", $("rpc").value));
  $("registry").addEventListener("change", () => setSetting("registry", $("registry").value));
  $("notary").addEventListener("change", () => { localStorage.setItem("lianzheng.notary", $("notary").value.trim()); loadSuggestions(); });
  $("file-input").addEventListener("change", () => { if ($("file-input").files[0]) verifyFile($("file-input").files[0]); });
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer.files[0]) verifyFile(ev.dataTransfer.files[0]);
  });
  $("receipt-verify").addEventListener("click", verifyPastedReceipt);
  $("timeline-show").addEventListener("click", showTimeline);
  document.body.dataset.ready = "1";
  if (params.get("project")) {
    $("project").value = params.get("project");
    $("section").value = params.get("section") || "";
    showTimeline();
  }
}

init();
