// The witness page: file and receipt verification in the browser, and a section's timeline.
import { hashFile } from "./sha256.js";
import { Failure, canonical, verifyReceipt } from "./verify.js";

const TEXT = {
  zh: {
    title: "链证 · 见证核验", lang: "English",
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
      timeline_differs: "时间线显示的内容与公证的事件不符",
    },
  },
  en: {
    title: "Lianzheng · witness verification", lang: "中文",
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
      timeline_differs: "the timeline shows something other than the notarized event",
    },
  },
};

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let lang = params.get("lang") === "en" || localStorage.getItem("lianzheng.lang") === "en" ? "en" : "zh";
const t = (key, ...args) => {
  const v = TEXT[lang][key];
  return typeof v === "function" ? v(...args) : v;
};
// What the writer published about the event (e.g. the archive's location), as "k v; ".
const published = (event) => Object.entries(event.public || {})
  .filter(([, v]) => typeof v === "string" || typeof v === "number").map(([k, v]) => `${k} ${v}; `).join("");
const iso = (s) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
let lastTimeline = null;
let checks = new Map(); // event_id → {status: "checking" | "verified" | "pending" | "failed", result?, error?}
let checkCells = new Map(); // event_id → the timeline element showing its check

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
  if (lastTimeline) renderTimeline(lastTimeline);
}

function line(container, status, text) {
  const div = document.createElement("div");
  div.className = status;
  div.dataset.status = status;
  div.textContent = text;
  container.appendChild(div);
  return div;
}

async function getJson(path) {
  const r = await fetch(path);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Failure("http", { status: r.status, message: body.message || r.statusText });
  return body;
}

const settings = () => ({ rpcUrl: $("rpc").value.trim(), registry: $("registry").value.trim() });

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
      line(out, "verified", t("verified", r, e)).dataset.block = r.block;
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
    line(out, "verified", t("verified", r, { event_id: receipt.event_id, type: r.event.type })).dataset.block = r.block;
  } catch (err) {
    line(out, "failed", t("failed", reason(err)));
  }
}

function renderTimeline(data) {
  const list = $("timeline");
  list.replaceChildren();
  checkCells = new Map();
  const banner = $("timeline-warnings");
  banner.classList.toggle("hidden", !data.warnings);
  banner.textContent = data.warnings ? t("warnings", data.warnings) : "";
  if (!data.events.length) list.appendChild(Object.assign(document.createElement("li"), { textContent: t("no_events") }));
  for (const e of data.events) {
    const li = document.createElement("li");
    li.className = e.outcome.level;
    li.dataset.type = e.type;
    li.textContent = `${e.occurred_at} · ${e.label[lang]} · ${e.outcome.text[lang]} · ${t("anchored_at", e.anchor)}`;
    const hash = document.createElement("div");
    hash.className = "hash";
    hash.textContent = `#${e.index} ${e.event_digest}` + e.documents.map((d) => ` · file ${d.sha256}`).join("");
    li.appendChild(hash);
    checkCells.set(e.event_id, li.appendChild(Object.assign(document.createElement("div"), { className: "check" })));
    list.appendChild(li);
    renderCheck(e.event_id);
  }
  renderCheckSummary();
}

function renderCheck(eventId) {
  const div = checkCells.get(eventId);
  const check = checks.get(eventId);
  if (!div || !check) return;
  div.dataset.status = check.status;
  div.className = `check ${check.status}`;
  div.textContent = check.status === "verified" ? t("check_ok", check.result)
    : check.status === "failed" ? t("failed", reason(check.error)) : t(`check_${check.status}`);
}

function renderCheckSummary() {
  const out = $("timeline-check");
  const all = [...checks.values()];
  const done = all.filter((c) => c.status !== "checking");
  out.dataset.done = String(all.length > 0 && done.length === all.length);
  const bad = all.filter((c) => c.status === "failed").length;
  out.className = `${bad ? "failed" : "muted"}${all.length ? "" : " hidden"}`;
  out.textContent = t("check_summary", all.filter((c) => c.status === "verified").length, all.length, bad);
}

// The timeline comes from the notary; each of its events is checked here against the chain: the
// event's public receipt must verify (digest, proof, root on chain) and say what the timeline shows.
async function checkEvent(e, options) {
  const receipt = await getJson(`/v1/receipts/${encodeURIComponent(e.event_id)}`);
  const r = await verifyReceipt(receipt, options);
  // What a witness is told about an event; the timeline entry and the receipt's event share these field names.
  const told = (digest, index, ev) => canonical({ digest, index, type: ev.type, occurred_at: ev.occurred_at,
    section: ev.section ?? null, public: ev.public ?? null, documents: (ev.documents || []).map((d) => d.sha256) });
  if (told(e.event_digest, e.index, e) !== told(receipt.event_digest, r.index, r.event)) {
    throw new Failure("timeline_differs");
  }
  return r;
}

async function checkTimeline(data) {
  const mine = new Map(data.events.map((e) => [e.event_id, { status: "checking" }]));
  checks = mine;
  renderTimeline(data);
  const options = settings();
  const queue = [...data.events];
  const worker = async () => {
    for (let e = queue.shift(); e && checks === mine; e = queue.shift()) {
      let check;
      try {
        check = { status: "verified", result: await checkEvent(e, options) };
      } catch (error) {
        check = error instanceof Failure && error.code === "pending" ? { status: "pending" } : { status: "failed", error };
      }
      if (checks !== mine) return; // another timeline was asked for meanwhile
      mine.set(e.event_id, check);
      renderCheck(e.event_id);
      renderCheckSummary();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

async function showTimeline() {
  const project = $("project").value.trim();
  const section = $("section").value.trim();
  const query = new URLSearchParams({ project });
  if (section) query.set("section", section);
  const cert = $("certificate");
  try {
    lastTimeline = await getJson(`/v1/timeline?${query}`);
    cert.classList.toggle("hidden", !section);
    cert.href = `/v1/certificates/${encodeURIComponent(section)}?${new URLSearchParams({ project })}`;
    await checkTimeline(lastTimeline);
  } catch (err) {
    lastTimeline = null;
    checks = new Map();
    renderCheckSummary();
    $("timeline").replaceChildren(Object.assign(document.createElement("li"), { className: "warning", textContent: reason(err) }));
    cert.classList.add("hidden");
  }
}

async function init() {
  applyLanguage();
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("lianzheng.lang", lang);
    applyLanguage();
  });
  try {
    const config = await getJson("/v1/config");
    $("rpc").value = localStorage.getItem("lianzheng.rpc") || config.rpc_url || "";
    $("registry").value = localStorage.getItem("lianzheng.registry") || config.registry || "";
  } catch (err) {
    line($("file-result"), "failed", t("failed", reason(err)));
  }
  $("rpc").addEventListener("change", () => localStorage.setItem("lianzheng.rpc", $("rpc").value.trim()));
  $("registry").addEventListener("change", () => localStorage.setItem("lianzheng.registry", $("registry").value.trim()));
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
  if (params.get("project")) {
    $("project").value = params.get("project");
    $("section").value = params.get("section") || "";
    showTimeline();
  }
  document.body.dataset.ready = "1";
}

init();
