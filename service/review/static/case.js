/* faithgate review page: one case, its steps with evidence, and the review form.
   The draft is saved per case in sessionStorage on every keystroke and restored on load, so a
   failed submit (expired key, conflict, server down) never loses a half-written review. */
"use strict";

const CaseView = (() => {
  const { $, el } = FG;
  const caseId = document.body.dataset.caseId;
  const DRAFT = `${FG.PREFIX}draft.${caseId}`;
  const STATUSES = {
    verified: "verified: every claim in it was checked and holds",
    error: "error: a claim in it is wrong",
    unsupported: "unsupported: it uses something that comes from nowhere",
    unchecked: "unchecked: nothing in it could be checked",
  };
  // Findings that make a chain laundering: the stated answer is not what the reasoning supports.
  const LAUNDERING = new Set([
    "linkage.answer_not_derived", "linkage.right_answer_wrong_steps", "logic.answer_not_derived",
    "rules.reason_does_not_support", "rules.citation_not_in_context",
  ]);

  let current = null; // the case as loaded
  let original = []; // the corrected-reasoning text it starts with, line by line
  let busy = false;

  // --- evidence ---------------------------------------------------------------------------------
  function scalar(value) {
    if (value === null || value === undefined) return "—";
    if (Array.isArray(value)) return value.map(scalar).join(", ");
    if (typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${k} ${scalar(v)}`).join(", ");
    }
    return String(value);
  }

  /** One readable line for a finding's evidence, e.g. "48 + 24 = 70 — computes to 72". */
  function evidenceLine(e) {
    if (!e || typeof e !== "object") return "";
    if ("expression" in e && "computed" in e) {
      return `${e.expression} = ${scalar(e.claimed)} — computes to ${scalar(e.computed)}`;
    }
    if ("answer" in e && "derived" in e) return `answer ${scalar(e.answer)} — the steps give ${scalar(e.derived)}`;
    if ("needs" in e) {
      const cited = e.cited !== undefined ? e.cited
        : (e.facts || []).map((f) => (f && (f.value || f.stated)) || scalar(f));
      let line = `needs ${e.needs}; the step cites ${scalar(cited) || "nothing"}`;
      if (e.context_facts && e.context_facts.length) line += `; the context states ${scalar(e.context_facts)}`;
      return line;
    }
    if ("quantities" in e) return `comes from nowhere: ${scalar(e.quantities)}`;
    if ("equation" in e) {
      return e.expected !== undefined ? `${e.equation} — expected ${scalar(e.expected)}` : String(e.equation);
    }
    const skip = new Set(["source", "pack", "rule", "requires"]);
    return Object.entries(e).filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${FG.short(scalar(v), 200)}`).join("; ");
  }

  function finding(f) {
    const item = el("li", { class: `finding sev-${f.severity}` },
      FG.badge(f.severity === "error" ? "error" : f.severity === "warning" ? "unsupported" : "unchecked", f.severity),
      " ", f.message || f.code, " ",
      el("span", { class: "code" }, `(${f.code})`));
    const line = evidenceLine(f.evidence);
    if (line) item.append(el("span", { class: "evidence" }, line));
    if (f.evidence && f.evidence.source) item.append(el("span", { class: "source" }, `Source: ${f.evidence.source}`));
    return item;
  }

  // --- rendering --------------------------------------------------------------------------------
  function meta(c) {
    const pairs = [
      ["Status", FG.badge(c.status, c.status)],
      ["Flagged", `${FG.utc(c.created_at)} UTC`],
      ["Domain", c.domain || "—"],
      ["Model", c.model || "—"],
      ["Adapter", c.adapter || "—"],
      ["Audit record", `#${c.record_id}`],
    ];
    $("case-meta").replaceChildren(...pairs.map(([k, v]) => el("div", null, el("dt", null, k), el("dd", null, v))));
  }

  function summary(c, report) {
    $("verdict-badge").replaceChildren(FG.badge(report.verdict || "unverifiable", `verdict: ${report.verdict || "unknown"}`));
    $("laundering-badge").replaceChildren(report.laundering
      ? FG.badge("laundering", "laundering") : FG.badge("none", "no laundering"));
    $("score").textContent = typeof report.score === "number"
      ? `${Math.round(report.score * 100)} % of checked claims hold` : "nothing checkable";
    const stated = report.answer ?? (c.chain && c.chain.answer);
    $("stated").textContent = stated === null || stated === undefined ? "(none)" : String(stated);
    const derived = report.derived_answer;
    $("derived").textContent = derived === null || derived === undefined ? "(none derived)" : String(derived);
    const same = derived !== null && derived !== undefined && String(stated) === String(derived);
    $("answers-agree").textContent = derived === null || derived === undefined
      ? "The steps do not derive an answer of their own."
      : same ? "= The stated answer is the one the steps derive." : "≠ The stated answer is not the one the steps derive.";

    const all = [...(report.findings || [])];
    for (const s of report.steps || []) for (const f of s.findings || []) all.push({ ...f, step: s.index });
    const reasons = all.filter((f) => LAUNDERING.has(f.code));
    $("laundering-why").hidden = !report.laundering;
    $("laundering-reasons").replaceChildren(...(reasons.length ? reasons : [{ message: "the stated answer is not what the steps support" }])
      .map((f) => el("li", null, f.step !== null && f.step !== undefined ? `Step ${f.step + 1}: ` : "", f.message || f.code)));
    // Chain-level findings, less those the laundering box already explains.
    const chainLevel = (report.findings || []).filter((f) => (f.step === null || f.step === undefined) &&
      !(report.laundering && LAUNDERING.has(f.code)));
    $("chain-findings-box").hidden = chainLevel.length === 0;
    $("chain-findings").replaceChildren(...chainLevel.map(finding));
  }

  function question(c) {
    const chain = c.chain || {};
    $("question").textContent = chain.question ?? (c.purged ? "(content purged by retention)" : "(none)");
    const ctx = chain.context;
    const items = Array.isArray(ctx) ? ctx : ctx ? [ctx] : [];
    $("context-box").hidden = items.length === 0;
    $("context").replaceChildren(...items.map((t) => el("p", { class: "context-item" }, String(t))));
  }

  function earlier(c) {
    const reviews = c.reviews || [];
    $("earlier").hidden = reviews.length === 0;
    $("reviews").replaceChildren(...reviews.map((r) => el("li", null,
      FG.badge(r.verdict === "faithful" ? "faithful" : r.verdict === "unfaithful" ? "unfaithful" : "unverifiable", r.verdict),
      ` on ${FG.utc(r.created_at)} UTC by key ${r.key_id || "?"}`, r.comment ? ` — “${r.comment}”` : "")));
  }

  function statusSelect(step) {
    const id = `status-${step.index}`;
    const pick = el("select", { id, name: id, disabled: true });
    const alternative = step.status === "error" || step.status === "unsupported" ? "verified" : "error";
    for (const [value, text] of Object.entries(STATUSES)) {
      pick.append(el("option", { value, selected: value === alternative }, text));
    }
    return el("span", { class: "status-pick", hidden: true }, el("label", { for: id }, "It is"), pick);
  }

  function stepItem(step, extra) {
    const n = step.index + 1;
    const name = `judge-${step.index}`;
    const findings = [...(step.findings || []), ...extra];
    const judge = el("fieldset", { class: "judge" },
      el("legend", null, `Your judgement of step ${n} (faithgate: ${step.status})`),
      el("label", null, el("input", { type: "radio", name, value: "agree" }), ` Agree: ${step.status}`),
      el("label", null, el("input", { type: "radio", name, value: "disagree" }), " Disagree"),
      statusSelect(step));
    return el("li", { class: `step st-${step.status}`, id: `step-${step.index}` },
      el("div", { class: "step-head" }, el("span", { class: "step-no" }, `Step ${n}`), FG.badge(step.status, step.status)),
      el("p", { class: "step-text" }, step.text),
      findings.length ? el("ul", { class: "findings", "aria-label": `Findings on step ${n}` }, ...findings.map(finding)) : null,
      judge);
  }

  function steps(report) {
    const byStep = new Map();
    for (const f of report.findings || []) {
      if (f.step !== null && f.step !== undefined) byStep.set(f.step, [...(byStep.get(f.step) || []), f]);
    }
    const list = report.steps || [];
    $("steps").replaceChildren(...list.map((s) => stepItem(s, byStep.get(s.index) || [])));
    if (!list.length) $("steps").append(el("li", { class: "step" }, "The report has no steps (purged or not recorded)."));
  }

  function render(c) {
    current = c;
    const report = c.report || {};
    meta(c);
    summary(c, report);
    question(c);
    earlier(c);
    steps(report);
    original = (report.steps || []).map((s) => String(s.text).trim()).filter(Boolean);
    if (report.answer !== null && report.answer !== undefined) original.push(`#### ${report.answer}`);
    const form = $("review-form");
    form.reset();
    $("corrected").value = original.join("\n");
    restoreDraft();
    syncSelects();
    $("case").hidden = false;
    document.title = `Case ${c.id} · faithgate review`;
  }

  // --- the draft --------------------------------------------------------------------------------
  function saveDraft() {
    const values = {};
    for (const [name, value] of new FormData($("review-form"))) values[name] = value;
    // A disabled select is not in FormData; keep the choice anyway.
    for (const pick of $("review-form").querySelectorAll("select")) values[pick.name] = pick.value;
    FG.store.setItem(DRAFT, JSON.stringify(values));
  }

  function restoreDraft() {
    let values;
    try { values = JSON.parse(FG.store.getItem(DRAFT) || "null"); } catch (err) { values = null; }
    if (!values) return;
    const form = $("review-form");
    for (const [name, value] of Object.entries(values)) {
      for (const field of form.querySelectorAll(`[name="${CSS.escape(name)}"]`)) {
        if (field.type === "radio") field.checked = field.value === value;
        else field.value = value;
      }
    }
    FG.say("Your unsent review of this case was restored.");
  }

  function syncSelects() {
    for (const pick of $("review-form").querySelectorAll("select[name^='status-']")) {
      const index = pick.name.slice("status-".length);
      const choice = $("review-form").querySelector(`input[name="judge-${index}"]:checked`);
      pick.disabled = !choice || choice.value !== "disagree";
      pick.parentElement.hidden = pick.disabled; // the status picker only matters on disagreement
    }
  }

  // --- submitting -------------------------------------------------------------------------------
  function lines(text) {
    return String(text || "").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  }

  /** The review body from the form, or null (with the reason shown) when it is incomplete. */
  function collect() {
    const form = $("review-form");
    const data = new FormData(form);
    const verdict = data.get("verdict");
    if (!verdict) {
      $("form-error").textContent = "Choose a final verdict before you submit.";
      form.querySelector("input[name=verdict]").focus();
      return null;
    }
    const judgements = [];
    const wrong = [];
    for (const step of (current.report && current.report.steps) || []) {
      const choice = data.get(`judge-${step.index}`);
      if (!choice) continue;
      const status = choice === "agree" ? step.status : $(`status-${step.index}`).value;
      judgements.push(choice === "agree" ? { index: step.index, agree: true } : { index: step.index, agree: false, status });
      if (status === "error" || status === "unsupported") wrong.push(step.index);
    }
    const laundering = data.get("laundering");
    const corrected = lines(data.get("corrected"));
    const unchanged = corrected.join("\n") === original.join("\n");
    const comment = String(data.get("comment") || "").trim();
    return {
      verdict,
      laundering: laundering === "yes" ? true : laundering === "no" ? false : null,
      wrong_steps: wrong,
      step_judgements: judgements,
      corrected_reasoning: corrected.length && !unchanged ? corrected : null,
      comment: comment || null,
      expected_status: current.status,
      expected_reviews: (current.reviews || []).length,
    };
  }

  function refused(err) {
    const kept = "your review is kept";
    if (err.status === 0) FG.warn(`The server could not be reached; ${kept}, try again.`);
    else if (err.status === 401) FG.requireSignIn(`Your key is no longer accepted (expired or revoked). Sign in again; ${kept}.`);
    else if (err.status === 403) FG.requireSignIn(`${FG.NO_SCOPE} Sign in with another key; ${kept}.`);
    else if (err.status === 409) {
      FG.warn(`This case was reviewed by someone else meanwhile. Your review is kept: reload the case to see their review, then submit again if you still disagree.`);
      $("reload").hidden = false;
    } else if (err.status === 404) FG.warn("This case no longer exists.");
    else if (err.status === 422 || err.status === 413) FG.warn(`The review was refused: ${err.message}. Your review is kept; correct it and submit again.`);
    else FG.warn(`The server could not record the review (error ${err.status}: ${err.message}); ${kept}, try again.`);
  }

  async function submit() {
    if (busy || !current) return;
    $("form-error").textContent = "";
    const review = collect();
    if (!review) return;
    busy = true;
    const button = $("submit");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    FG.clear();
    FG.say("Submitting your review…");
    try {
      await FG.api(`/v1/cases/${encodeURIComponent(caseId)}/review`, { method: "POST", body: review });
    } catch (err) {
      FG.say("");
      refused(err);
      return;
    } finally {
      busy = false;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
    FG.store.removeItem(DRAFT);
    FG.flash(`Your review of case ${caseId} was saved.`);
    await openNext();
  }

  // --- moving between cases ---------------------------------------------------------------------
  function neighbour(step) {
    const { ids } = FG.rememberedQueue();
    const at = ids.indexOf(caseId);
    return at >= 0 ? ids[at + step] : undefined;
  }

  /** After a review: the next case of the queue (same filters), else the queue itself. */
  async function openNext() {
    let next = neighbour(1);
    if (!next) {
      try {
        const f = FG.filtersOf(window.location.search);
        const page = await FG.api(`/v1/cases?${FG.casesQuery(f, 0, 2)}`);
        next = page.cases.map((c) => c.id).find((id) => id !== caseId);
      } catch (err) {
        next = undefined;
      }
    }
    window.location.assign(next ? FG.caseUrl(next, window.location.search) : $("back").href);
  }

  function go(step) {
    const id = neighbour(step);
    if (id) window.location.assign(FG.caseUrl(id, window.location.search));
    else FG.say(step > 0 ? "This is the last case of this queue page." : "This is the first case of this queue page.");
  }

  async function load() {
    try {
      render(await FG.api(`/v1/cases/${encodeURIComponent(caseId)}`));
    } catch (err) {
      if (err.status === 404) FG.warn(`There is no case ${caseId}.`);
      else FG.failed(err, "load the case");
    }
  }

  function init() {
    const form = $("review-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", () => {
      syncSelects();
      saveDraft();
    });
    $("reload").addEventListener("click", () => {
      saveDraft();
      $("reload").hidden = true;
      FG.clear();
      load();
    });
    FG.keys({
      "ctrl+enter": () => form.requestSubmit(),
      j: () => go(1),
      k: () => go(-1),
      u: () => window.location.assign($("back").href),
    });
    FG.start({
      ready: load,
      resumed: () => FG.say("Signed in again. Your review is as you left it; submit when ready."),
    });
  }

  return { init };
})();

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "case") CaseView.init();
});
