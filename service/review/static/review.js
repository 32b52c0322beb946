/* faithgate review page: the session (API key in sessionStorage), calls to the JSON API,
   messages, sign-in, keyboard shortcuts, and the queue. Case text is only ever placed with
   textContent / text nodes (never parsed as HTML), so nothing a chain says can become markup. */
"use strict";

const FG = (() => {
  const KEY = "faithgate.review.key";
  const QUEUE = "faithgate.review.queue";
  const FLASH = "faithgate.review.flash";
  const PREFIX = "faithgate.review.";
  const store = window.sessionStorage;
  const $ = (id) => document.getElementById(id);

  const NO_SCOPE = "This key cannot review cases: it lacks the review scope.";
  const REFUSED = "This key is not accepted: it is unknown, revoked or expired.";
  const UNREACHABLE = "The server could not be reached; check your connection and try again.";

  /** An element with attributes and children (strings become text nodes, never markup). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  const ICONS = {
    verified: "✓", faithful: "✓", reviewed: "✓",
    error: "✗", unfaithful: "✗", laundering: "⚠",
    unsupported: "!", open: "●",
    unchecked: "–", unverifiable: "?",
  };

  /** A status badge: colour (class), icon and the word itself, so colour is never alone. */
  function badge(kind, text) {
    const icon = ICONS[kind] || "•";
    return el("span", { class: `badge s-${kind}` },
      el("span", { class: "icon", "aria-hidden": "true" }, icon), text || kind);
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status; // 0: the server could not be reached
      this.code = code;
    }
  }

  /** Call the JSON API with the session's key; ApiError on any failure. */
  async function api(path, options = {}) {
    const headers = { Accept: "application/json" };
    const key = options.key || store.getItem(KEY);
    if (key) headers.Authorization = "Bearer " + key;
    let body;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response;
    try {
      response = await fetch(path, {
        method: options.method || "GET", headers, body,
        cache: "no-store", credentials: "omit", redirect: "error",
      });
    } catch (err) {
      throw new ApiError(0, "unreachable", UNREACHABLE);
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      const e = (data && data.error) || {};
      throw new ApiError(response.status, e.code || `http_${response.status}`,
        e.message || response.statusText || `HTTP ${response.status}`);
    }
    return data;
  }

  // --- messages -----------------------------------------------------------------------------
  function say(text) { $("status").textContent = text || ""; }
  function warn(text) {
    $("alert").textContent = text || "";
    if (text) $("alert").scrollIntoView({ block: "nearest" });
  }
  function clear() { say(""); warn(""); }
  function flash(text) { store.setItem(FLASH, text); }

  // --- session and sign-in --------------------------------------------------------------------
  let handlers = {};
  let started = false;

  function showSignIn(message) {
    $("signin").hidden = false;
    $("session").hidden = true;
    $("signin-error").textContent = message || "";
    $("signin-key").focus();
  }

  function signedIn(me) {
    $("who").textContent = `Signed in as ${me.name}`;
    $("session").hidden = false;
    $("signin").hidden = true;
    $("signin-error").textContent = "";
    $("app").hidden = false;
    if (!started) {
      started = true;
      handlers.ready(me);
    } else if (handlers.resumed) {
      handlers.resumed(me);
    }
  }

  async function signIn(key) {
    let me;
    try {
      me = await api("/v1/keys/me", { key });
    } catch (err) {
      store.removeItem(KEY);
      if (err.status === 401) showSignIn(REFUSED);
      else if (err.status === 0) showSignIn(UNREACHABLE);
      else showSignIn(`Sign-in failed (${err.status}): ${err.message}`);
      return;
    }
    if (!me.can_review) {
      store.removeItem(KEY);
      showSignIn(NO_SCOPE);
      return;
    }
    store.setItem(KEY, key);
    signedIn(me);
  }

  /** The key stopped working mid-session: back to sign-in; what is on the page stays. */
  function requireSignIn(message) {
    store.removeItem(KEY);
    showSignIn(message);
  }

  function signOut() {
    // Drafts and the queue hold case text: a shared computer must not keep them.
    for (const name of Object.keys(store)) if (name.startsWith(PREFIX)) store.removeItem(name);
    window.location.assign("/review");
  }

  /** Wire the session up and call pageHandlers.ready(me) once a review key is signed in. */
  function start(pageHandlers) {
    handlers = pageHandlers;
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("signin-key");
      const key = input.value.trim();
      input.value = "";
      if (key) signIn(key);
      else showSignIn("Paste an API key first.");
    });
    $("sign-out").addEventListener("click", signOut);
    const note = store.getItem(FLASH);
    if (note) {
      store.removeItem(FLASH);
      say(note);
    }
    const key = store.getItem(KEY);
    if (key) signIn(key);
    else showSignIn("");
  }

  /** The standard answer to an API failure outside the review form. */
  function failed(err, what) {
    if (err.status === 401) requireSignIn("Your key is no longer accepted (expired or revoked). Sign in again.");
    else if (err.status === 403) requireSignIn(NO_SCOPE);
    else if (err.status === 0) warn(`${UNREACHABLE} (${what})`);
    else warn(`Could not ${what}: ${err.message}`);
  }

  // --- keyboard -----------------------------------------------------------------------------
  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  /** Shortcuts: map of key -> action; "ctrl+enter" works everywhere, letters not while typing. */
  function keys(map) {
    document.addEventListener("keydown", (event) => {
      if (!$("signin").hidden) return; // the sign-in form has the keyboard to itself
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        if (map["ctrl+enter"]) {
          event.preventDefault();
          map["ctrl+enter"](event);
        }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      const action = map[event.key];
      if (action && action(event) !== false) event.preventDefault();
    });
  }

  // --- the queue's filters ------------------------------------------------------------------
  const PAGE = 50;

  /** The queue filters of a query string (the page's own URL: shareable). */
  function filtersOf(search) {
    const p = new URLSearchParams(search);
    const int = (name, dflt) => {
      const n = Number.parseInt(p.get(name) || "", 10);
      return Number.isFinite(n) && n >= 0 ? n : dflt;
    };
    const f = { status: p.get("status") || "open", offset: int("offset", 0), limit: int("limit", PAGE) || PAGE };
    for (const name of ["verdict", "laundering", "domain", "model", "adapter", "since", "until"]) {
      f[name] = (p.get(name) || "").trim();
    }
    return f;
  }

  function dayStart(day, plusDays) {
    const bad = new Error(`"${day}" is not a date (YYYY-MM-DD)`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw bad;
    const date = new Date(`${day}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) throw bad;
    date.setUTCDate(date.getUTCDate() + plusDays);
    return date.toISOString();
  }

  /** The /v1/cases query for queue filters (dates are whole UTC days, `until` inclusive). */
  function casesQuery(f, offset, limit) {
    const q = new URLSearchParams();
    if (f.status && f.status !== "all") q.set("status", f.status);
    for (const name of ["verdict", "domain", "model", "adapter"]) if (f[name]) q.set(name, f[name]);
    if (f.laundering === "yes") q.set("laundering", "true");
    else if (f.laundering === "no") q.set("laundering", "false");
    if (f.since) q.set("since", dayStart(f.since, 0));
    if (f.until) q.set("until", dayStart(f.until, 1));
    q.set("limit", String(limit));
    q.set("offset", String(offset));
    return q.toString();
  }

  function caseUrl(id, search) {
    return `/review/cases/${encodeURIComponent(id)}${search || ""}`;
  }

  /** The ids of the queue page last shown, for next/previous from a case. */
  function rememberQueue(search, ids) { store.setItem(QUEUE, JSON.stringify({ search, ids })); }
  function rememberedQueue() {
    try { return JSON.parse(store.getItem(QUEUE) || "null") || { search: "", ids: [] }; }
    catch (err) { return { search: "", ids: [] }; }
  }

  const number = new Intl.NumberFormat("en");
  function utc(text) {
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? String(text) : date.toISOString().slice(0, 16).replace("T", " ");
  }

  function short(text, max) {
    const s = String(text ?? "").replace(/\s+/g, " ").trim();
    return s.length > max ? `${s.slice(0, max - 1)}…` : s;
  }

  return {
    $, el, badge, api, say, warn, clear, flash, start, requireSignIn, failed, keys,
    filtersOf, casesQuery, caseUrl, rememberQueue, rememberedQueue, number, utc, short,
    NO_SCOPE, UNREACHABLE, PREFIX, store,
  };
})();

// --- the queue page -----------------------------------------------------------------------------
const Queue = (() => {
  const { $, el } = FG;
  let rows = [];
  let selected = -1;

  function cell(label, ...children) {
    return el("td", { "data-label": label }, ...children);
  }

  function row(c, search) {
    const question = (c.chain && c.chain.question) || (c.purged ? "(content purged by retention)" : "(no question)");
    const link = el("a", { href: FG.caseUrl(c.id, search), class: "case-link" }, FG.short(question, 140));
    const where = [el("span", { class: "nowrap" }, c.model || "—"), el("span", { class: "sub" }, c.adapter || "no adapter")];
    const tr = el("tr", { "data-case-id": c.id },
      el("td", { class: "question" }, link),
      cell("Verdict", FG.badge(c.verdict || "unverifiable", c.verdict || "unknown")),
      cell("Laundering", c.laundering ? FG.badge("laundering", "laundering") : el("span", { class: "plain" }, "no")),
      cell("Domain", c.domain || "—"),
      cell("Model · adapter", ...where),
      el("td", { class: "when", "data-label": "Flagged" }, FG.utc(c.created_at)),
      cell("Status", FG.badge(c.status, c.status)));
    tr.addEventListener("click", (event) => {
      if (event.target !== link) select(rows.indexOf(tr), false);
    });
    return tr;
  }

  function select(index, focus) {
    if (!rows.length) return;
    const next = Math.max(0, Math.min(rows.length - 1, index));
    if (selected >= 0 && rows[selected]) {
      rows[selected].classList.remove("selected");
      rows[selected].removeAttribute("aria-current");
    }
    selected = next;
    rows[selected].classList.add("selected");
    rows[selected].setAttribute("aria-current", "true");
    if (focus !== false) rows[selected].querySelector("a").focus();
  }

  function pageLink(id, offset, show) {
    const link = $(id);
    link.hidden = !show;
    const p = new URLSearchParams(window.location.search);
    p.set("offset", String(offset));
    link.href = `/review?${p.toString()}`;
  }

  async function load() {
    const f = FG.filtersOf(window.location.search);
    let query;
    try {
      query = FG.casesQuery(f, f.offset, f.limit);
    } catch (err) {
      FG.warn(`The filters are not valid: ${err.message}`);
      return;
    }
    let page;
    try {
      page = await FG.api(`/v1/cases?${query}`);
    } catch (err) {
      if (err.status === 422) FG.warn(`The filters are not valid: ${err.message}`);
      else FG.failed(err, "load the cases");
      return;
    }
    render(page);
  }

  function render(page) {
    const search = window.location.search;
    const body = $("queue-rows");
    body.replaceChildren(...page.cases.map((c) => row(c, search)));
    rows = Array.from(body.querySelectorAll("tr"));
    selected = -1;
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.cases.length;
    $("counts").textContent = page.total
      ? `Cases ${FG.number.format(first)}–${FG.number.format(last)} of ${FG.number.format(page.total)}`
      : "No cases";
    $("backlog").textContent = typeof page.backlog === "number"
      ? `Backlog: ${FG.number.format(page.backlog)} open` : "";
    $("empty").hidden = page.cases.length > 0;
    $("queue").hidden = page.cases.length === 0;
    pageLink("prev-page", Math.max(0, page.offset - page.limit), page.offset > 0);
    pageLink("next-page", page.offset + page.limit, last < page.total);
    FG.rememberQueue(search, page.cases.map((c) => c.id));
    if (rows.length) select(0, false);
  }

  function open() {
    if (selected < 0 || !rows[selected]) return false;
    window.location.assign(rows[selected].querySelector("a").href);
    return true;
  }

  function init() {
    // Tabbing to a row selects it, so that o / Enter open the row that has the focus.
    $("queue-rows").addEventListener("focusin", (event) => {
      const tr = event.target.closest("tr");
      if (tr) select(rows.indexOf(tr), false);
    });
    FG.keys({
      j: () => select(selected + 1),
      k: () => select(selected - 1),
      o: open,
      Enter: (event) => {
        // Enter keeps its own meaning on buttons, form fields and links outside the table.
        const inTable = event.target === document.body || $("queue").contains(event.target);
        return inTable ? open() : false;
      },
    });
    FG.start({ ready: load, resumed: load });
  }

  return { init };
})();

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "queue") Queue.init();
});
