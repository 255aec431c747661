// seatflow floor board. Reads GET /v1/board/stream with fetch() (so the key stays in the
// Authorization header, never in a URL): a `snapshot` event, then `delta` events that carry
// whole rows. Reconnects by itself; every (re)connection starts from a fresh snapshot.
//
// The board's clock is the server's: every message carries `now`. With a real server clock the
// page moves it on between messages; with a manual one (GET /v1/admin/clock says which) it shows
// exactly the server's time and moves only when that does.
//
// Clicking a seat (or Enter/Space on it) opens its details: open orders (GET /v1/agents/{id},
// GET /v1/orders/{id}), time today (GET /v1/utilization) and Force logout.
//
// It speaks English or Chinese: every text is in its language's catalogue (GET /i18n/{lang}.json,
// loaded before anything shows), chosen by the browser's language or the page's switch.
"use strict";

(function () {
  // -- strings -------------------------------------------------------------------------------
  // Every text the page shows comes from its language's catalogue, GET /i18n/{lang}.json,
  // section "board": the script's own (each whole, with {named} parts) and board.html's (named
  // by data-i18n for an element's text, data-i18n-aria-label, -title, -placeholder for an
  // attribute's). The page shows none of them until the catalogue is there.
  const LANGS = ["en", "zh-CN"];
  const LANG_KEY = "seatflow.board.lang";
  let S = null; // the shown language's strings
  let lang = "";
  const catalogues = new Map(); // language -> its strings, once loaded

  // The language chosen on this board before (in any tab), else the browser's: the first of
  // its languages that is Chinese (zh, zh-CN, zh-TW...: zh-CN) or English; else English.
  function wantedLang() {
    let chosen = null;
    try {
      chosen = localStorage.getItem(LANG_KEY);
    } catch (e) {
      // no storage: the browser's language
    }
    if (LANGS.includes(chosen)) return chosen;
    const prefs = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language || ""];
    for (const p of prefs) {
      const l = String(p).toLowerCase();
      if (l.startsWith("zh")) return "zh-CN";
      if (l === "en" || l.startsWith("en-")) return "en";
    }
    return "en";
  }

  function fmt(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  }

  // The template's text with some parts given as nodes (a bold figure, a link...).
  function fmtNodes(template, vars) {
    const out = [];
    let last = 0;
    template.replace(/\{(\w+)\}/g, (m, k, at) => {
      if (at > last) out.push(template.slice(last, at));
      const v = vars[k];
      out.push(v instanceof Node ? v : String(v));
      last = at + m.length;
      return m;
    });
    if (last < template.length) out.push(template.slice(last));
    return out;
  }

  const KEY = "seatflow.board.key";
  const body = document.body;
  const STREAM = body.dataset.stream;
  const API = body.dataset.api;
  const CATALOGUES = body.dataset.catalogues;
  const STALL_MS = 40000; // the server sends at least a keep-alive every 15 s
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  const model = { agents: new Map(), agg: null, history: new Map(), now: 0, at: 0 };
  // The server's clock mode: "real" (the page moves time on between messages), "manual", or ""
  // while unknown (then, like manual, the page shows only what the server said).
  let clockMode = "";
  let shownNow = 0; // with a real clock, the board's time never steps back
  let tiles = new Map(); // agent id -> {el, id, ld, st, tm, marks}
  let layoutKey = "";
  let controller = null;
  let retry = 0;
  let renderQueued = false;

  // -- language ------------------------------------------------------------------------------

  async function loadStrings(l) {
    if (catalogues.has(l)) return catalogues.get(l);
    const resp = await fetch(CATALOGUES + "/" + enc(l) + ".json", { cache: "no-cache" });
    if (!resp.ok) throw new Error("HTTP " + resp.status);
    const strings = (await resp.json()).board;
    if (!strings || typeof strings !== "object") throw new Error("no board strings");
    catalogues.set(l, strings);
    return strings;
  }

  // A string of the catalogue by its path: "keyHeading", "stateName.away".
  function text(path) {
    let v = S;
    for (const part of path.split(".")) v = v && typeof v === "object" ? v[part] : undefined;
    return typeof v === "string" ? v : path;
  }

  const ATTRS = ["aria-label", "title", "placeholder"];

  // board.html's own texts, and the page's language.
  function applyPage() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = text(e.dataset.i18n);
    for (const attr of ATTRS) {
      for (const e of document.querySelectorAll(`[data-i18n-${attr}]`)) {
        e.setAttribute(attr, text(e.getAttribute(`data-i18n-${attr}`)));
      }
    }
    for (const s of document.querySelectorAll("select.lang")) s.value = lang;
    body.dataset.lang = lang;
  }

  // Texts made from what happened, not from the model (a refused key, a failed action, the
  // question before a forced logout): each element's filler runs now, and again in the new
  // language when it changes.
  const kept = new Map();

  function keep(e, fill) {
    if (fill) {
      kept.set(e, fill);
      fill();
    } else {
      kept.delete(e);
    }
  }

  function say(e, make) {
    if (make) {
      keep(e, () => { e.textContent = make(); });
    } else {
      keep(e, null);
      e.textContent = "";
    }
  }

  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  // The page starts with its catalogue: until it is there nothing shows; if it cannot load (the
  // server that served this page is down) the connection shows lost, and the page tries again.
  async function start() {
    const l = wantedLang();
    for (let tries = 0; !S; tries = Math.min(tries + 1, 4)) {
      try {
        S = await loadStrings(l);
      } catch (e) {
        setConn("lost");
        await sleep(500 * 2 ** tries);
      }
    }
    lang = l;
    applyPage();
    setConn("idle");
    connect();
  }

  let switching = 0;

  // Another language, in place: the connection, the key, the filters and an open seat stay.
  async function switchTo(l, remember) {
    if (!S || !LANGS.includes(l)) return;
    const mine = ++switching;
    let strings;
    try {
      strings = await loadStrings(l);
    } catch (e) {
      strings = null; // the server is down: the connection says so; the language stays
    }
    if (mine !== switching) return;
    if (!strings) {
      for (const s of document.querySelectorAll("select.lang")) s.value = lang;
      return;
    }
    if (remember) {
      try {
        localStorage.setItem(LANG_KEY, l);
      } catch (e) {
        // no storage: this page only
      }
    }
    if (l === lang) return;
    S = strings;
    lang = l;
    relabel();
  }

  for (const s of document.querySelectorAll("select.lang")) {
    s.addEventListener("change", () => switchTo(s.value, true));
  }
  // A choice made in another tab of this board applies here too.
  window.addEventListener("storage", (ev) => {
    if (ev.key === LANG_KEY && LANGS.includes(ev.newValue)) switchTo(ev.newValue, false);
  });

  function relabel() {
    applyPage();
    setConn($("conn").dataset.conn);
    for (const [e, fill] of kept) {
      if (e.isConnected) fill();
      else kept.delete(e);
    }
    showClock();
    if (!model.agg) return;
    for (const [id, t] of tiles) {
      const a = model.agents.get(id);
      if (a) updateTile(t, a, false);
    }
    renderPanels(true);
    if (seatOpen !== null) renderSeat();
  }

  // -- key -----------------------------------------------------------------------------------

  // `message` makes the reason the key is asked for, if any, in the page's language.
  function askKey(message) {
    closeSeat();
    $("board").hidden = true;
    say($("key-error"), message);
    $("key-dialog").hidden = false;
    $("key-input").value = "";
    $("key-input").focus();
  }

  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    $("key-dialog").hidden = true;
    connect();
  });

  $("change-key").addEventListener("click", () => {
    stop();
    sessionStorage.removeItem(KEY);
    setConn("idle");
    askKey(null);
  });

  // -- connection ----------------------------------------------------------------------------

  const CONN = { idle: "connIdle", connecting: "connConnecting", live: "connLive", lost: "connLost" };

  function setConn(state) {
    const e = $("conn");
    e.dataset.conn = state;
    e.textContent = S ? S[CONN[state]] : ""; // before the catalogue, only its look says lost
  }

  function stop() {
    if (controller) controller.abort();
    controller = null;
  }

  function lost() {
    stop();
    setConn("lost");
    const wait = Math.min(5000, 500 * 2 ** retry);
    retry = Math.min(retry + 1, 4);
    setTimeout(connect, wait);
  }

  async function connect() {
    const key = sessionStorage.getItem(KEY);
    if (!key) return askKey(null);
    stop();
    const mine = new AbortController();
    controller = mine;
    if ($("conn").dataset.conn !== "lost") setConn("connecting");
    let resp;
    try {
      resp = await fetch(STREAM, {
        headers: { Authorization: "Bearer " + key, Accept: "text/event-stream" },
        cache: "no-store",
        signal: mine.signal,
      });
    } catch (e) {
      if (controller === mine) lost();
      return;
    }
    if (resp.status === 401 || resp.status === 403) {
      const why = await errorText(resp);
      sessionStorage.removeItem(KEY);
      setConn("idle");
      controller = null;
      const refused = resp.status === 401 ? "keyRejected" : "keyForbidden";
      return askKey(() => fmt(S[refused], { why }));
    }
    if (!resp.ok || !resp.body) {
      if (controller === mine) lost();
      return;
    }
    learnClockMode(mine);
    await read(resp.body.getReader(), mine);
    if (controller === mine) lost();
  }

  // A server restarted in between may have another clock: ask on every connection.
  async function learnClockMode(mine) {
    try {
      const clock = await api("GET", "/admin/clock");
      if (controller !== mine) return;
      clockMode = clock.mode === "real" ? "real" : "manual";
    } catch (e) {
      clockMode = ""; // unknown: show the server's time as sent, never run ahead of it
    }
    const manual = clockMode === "manual";
    $("clock-mode").hidden = !manual;
    $("clock").dataset.mode = clockMode;
    showClock();
  }

  async function errorText(resp) {
    try {
      const b = await resp.json();
      return (b.error && b.error.message) || String(resp.status);
    } catch (e) {
      return fmt(S.httpStatus, { status: resp.status });
    }
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // Why a request failed, in the page's language when the page says it (no answer at all).
  const why = (e) => (e instanceof ApiError && e.status === 0 ? S.noAnswer : e.message);

  async function api(method, path) {
    let resp;
    try {
      resp = await fetch(API + path, {
        method,
        headers: { Authorization: "Bearer " + sessionStorage.getItem(KEY) },
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "");
    }
    if (!resp.ok) throw new ApiError(resp.status, await errorText(resp));
    return resp.json();
  }

  async function read(reader, mine) {
    const decoder = new TextDecoder();
    let buf = "";
    let stall = setTimeout(() => mine.abort(), STALL_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(stall);
        stall = setTimeout(() => mine.abort(), STALL_MS);
        buf += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          handleEvent(block);
        }
      }
    } catch (e) {
      // aborted or the connection broke: the caller reconnects
    } finally {
      clearTimeout(stall);
    }
  }

  function handleEvent(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    const msg = JSON.parse(data.join("\n"));
    if (name === "snapshot") {
      model.agents = new Map(msg.agents.map((a) => [a.id, a]));
      model.history = new Map();
      retry = 0;
      shownNow = 0;
      $("board").hidden = false;
      setConn("live");
      layoutKey = "";
    } else if (name === "delta") {
      for (const a of msg.agents) model.agents.set(a.id, a);
    } else {
      return;
    }
    for (const m of msg.history) model.history.set(m.minute, m);
    model.agg = msg;
    model.now = Date.parse(msg.now);
    model.at = performance.now();
    scheduleRender(name === "snapshot" ? null : msg.agents);
  }

  // -- time ----------------------------------------------------------------------------------

  // The server's time as the board shows it.
  function serverNow() {
    if (clockMode !== "real") return model.now;
    shownNow = Math.max(shownNow, model.now + (performance.now() - model.at));
    return shownNow;
  }

  function dur(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return fmt(S.durS, { s });
    const m = Math.floor(s / 60);
    if (m < 60) return fmt(S.durM, { m });
    const h = Math.floor(m / 60);
    return fmt(S.durH, { h, mm: String(m % 60).padStart(2, "0") });
  }

  function longDur(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return fmt(S.longS, { s });
    const m = Math.floor(s / 60);
    if (m < 60) return fmt(S.longM, { m });
    return fmt(S.longH, { h: Math.floor(m / 60), mm: String(m % 60).padStart(2, "0") });
  }

  function pct(u) {
    return u === null || u === undefined ? S.none : fmt(S.pct, { n: Math.round(u * 100) });
  }

  const hhmm = (iso) => iso.slice(11, 16);
  const hhmmss = (iso) => iso.slice(11, 19);

  function showClock() {
    if (!model.agg) return; // until then board.html's own texts
    const iso = new Date(serverNow()).toISOString();
    const el = $("clock");
    el.textContent = fmt(S.clock, { time: hhmmss(iso) });
    el.title = fmt(clockMode === "manual" ? S.clockTitleManual : S.clockTitleReal, {
      datetime: iso.slice(0, 10) + " " + hhmmss(iso),
    });
  }

  // Times in state follow the board's clock: refreshed on every message (a manual clock moves
  // only then) and every second (a real clock moves by itself).
  function refreshTimes() {
    const now = serverNow();
    for (const t of tiles.values()) {
      const text = dur(now - Number(t.el.dataset.since));
      if (t.tm.textContent !== text) t.tm.textContent = text;
    }
    showClock();
  }

  setInterval(() => {
    if (model.agg && clockMode === "real") refreshTimes();
  }, 1000);

  // -- rendering -----------------------------------------------------------------------------

  let pendingIds = new Set();
  let pendingAll = false;

  function scheduleRender(changed) {
    if (changed === null) pendingAll = true;
    else for (const a of changed) pendingIds.add(a.id);
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
    });
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render() {
    const agg = model.agg;
    if (!agg) return;
    const agents = [...model.agents.values()];
    const key = agents.map((a) => a.team + "\u0000" + a.id).sort().join("\u0001");
    const changed = pendingAll ? null : pendingIds;
    if (pendingAll || key !== layoutKey) {
      layoutKey = key;
      buildMap(agents);
    } else {
      for (const id of pendingIds) {
        const a = model.agents.get(id);
        if (a) updateTile(tiles.get(id), a, true);
      }
    }
    pendingIds = new Set();
    pendingAll = false;
    renderPanels(false);
    if (seatOpen !== null && (changed === null || changed.has(seatOpen))) seatChanged();
  }

  // Everything but the tiles and the seat's details; `relabel` when the language changed.
  function renderPanels(relabel) {
    const agg = model.agg;
    refreshTimes();
    renderTeamHeads();
    renderTeamFilter(agg.teams);
    applyFilters();
    renderTotals(agg);
    renderRequests(agg.pending_logout_requests, relabel);
    renderSkills(agg.skills);
    renderTeams(agg.teams);
    renderLowest([...model.agents.values()]);
    renderChart();
  }

  function buildMap(agents) {
    const map = $("seat-map");
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("#seat-map .tile")
      : null;
    const refocus = focused ? focused.dataset.agent : null;
    const roving = rovingId;
    const byTeam = new Map();
    for (const a of agents.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
      if (!byTeam.has(a.team)) byTeam.set(a.team, []);
      byTeam.get(a.team).push(a);
    }
    tiles = new Map();
    const frag = document.createDocumentFragment();
    for (const [n, team] of [...byTeam.keys()].sort().entries()) {
      const sec = el("section", "team");
      sec.dataset.team = team;
      const head = el("h3");
      head.id = "team-h-" + n;
      sec.append(head);
      const grid = el("div", "tiles");
      grid.setAttribute("role", "group");
      grid.setAttribute("aria-labelledby", head.id);
      for (const a of byTeam.get(team)) {
        const t = newTile(a);
        tiles.set(a.id, t);
        updateTile(t, a, false);
        grid.append(t.el);
      }
      sec.append(grid);
      frag.append(sec);
    }
    map.replaceChildren(frag);
    rovingId = tiles.has(roving) ? roving : null;
    if (refocus && tiles.has(refocus)) tiles.get(refocus).el.focus();
  }

  function newTile(a) {
    const b = el("button", "tile");
    b.type = "button";
    b.tabIndex = -1;
    b.dataset.agent = a.id;
    b.setAttribute("aria-haspopup", "dialog");
    b.setAttribute("aria-describedby", "seat-keys");
    const t = { el: b, id: el("span", "id"), ld: el("span", "ld"), st: el("span", "st"),
      tm: el("span", "tm"), marks: el("span", "ln marks") };
    const top = el("span", "ln");
    top.append(t.id, t.ld);
    const mid = el("span", "ln");
    mid.append(t.st, t.tm);
    b.append(top, mid, t.marks);
    return t;
  }

  function tileLabel(a) {
    const state = a.reason
      ? fmt(S.tileStateReason, { state: S.stateWord[a.state], reason: a.reason })
      : S.stateWord[a.state] || a.state;
    let label = fmt(S.tileLabel, { name: a.name, id: a.id, team: a.team, state }) +
      fmt(S.tileLoad, { load: a.load, capacity: a.capacity }) +
      fmt(S.tileUtil, { util: pct(a.utilization_today) });
    if (a.shift_end) label += fmt(S.tileShiftEnd, { time: hhmm(a.shift_end) });
    if (a.near_shift_end) label += S.tileNearEnd;
    if (a.pending_logout_request) label += S.tileRequest;
    if (a.wrapping) label += fmt(S.tileWrapping, { n: a.wrapping });
    return label;
  }

  function updateTile(t, a, flash) {
    if (!t) return;
    const since = Date.parse(a.state_since);
    const b = t.el;
    b.className = "tile " + a.state + (a.load >= a.capacity ? " full" : "") +
      (a.near_shift_end ? " near-end" : "");
    b.dataset.state = a.state;
    b.dataset.load = a.load;
    b.dataset.since = since;
    t.id.textContent = a.id;
    t.st.textContent = S.stateShort[a.state] || a.state;
    t.ld.textContent = a.load + "/" + a.capacity;
    t.tm.textContent = dur(serverNow() - since);
    const marks = [];
    if (a.near_shift_end) marks.push(el("span", "end", S.markEnd));
    if (a.pending_logout_request) marks.push(el("span", "req", S.markReq));
    if (a.wrapping) marks.push(el("span", "wrap", S.markWrap));
    if (t.marks.childElementCount !== marks.length || [...t.marks.children].some((m, i) =>
      m.className !== marks[i].className || m.textContent !== marks[i].textContent)) {
      t.marks.replaceChildren(...marks);
    }
    const label = tileLabel(a);
    b.title = label;
    b.setAttribute("aria-label", label);
    if (flash) {
      b.classList.add("flash");
      setTimeout(() => b.classList.remove("flash"), 600);
    }
  }

  function renderTeamHeads() {
    const rows = new Map(model.agg.teams.map((r) => [r.team, r]));
    for (const sec of document.querySelectorAll("#seat-map .team")) {
      const r = rows.get(sec.dataset.team);
      if (!r) continue;
      sec.firstChild.replaceChildren(...fmtNodes(S.teamHead, {
        team: el("b", "", r.team), on: r.available, away: r.away, nr: r.not_responding || 0,
        off: r.offline, load: r.load,
        capacity: r.capacity, util: pct(r.utilization_today),
      }));
    }
  }

  function renderTotals(agg) {
    const t = agg.totals;
    const oldest = agg.queues.reduce((m, q) => Math.max(m, q.oldest_wait_s), 0);
    const item = (cls, template, value, extra) => {
      const s = el("span", cls);
      s.append(...fmtNodes(template, { n: el("b", "", String(value)), ...extra }));
      return s;
    };
    $("totals").replaceChildren(
      item("t-on", S.totalOn, t.available),
      item("t-away", S.totalAway, t.away),
      item("t-nr", S.totalNotResponding, t.not_responding || 0),
      item("t-off", S.totalOff, t.offline),
      item("t-load", S.totalLoad, t.load + "/" + t.capacity),
      t.queued
        ? item("t-queue", S.totalQueuedOldest, t.queued, { wait: dur(oldest * 1000) })
        : item("t-queue", S.totalQueued, t.queued),
      item("t-req", S.totalRequests, t.pending_logout_requests)
    );
  }

  // A request's row stays while it waits (a click on it is not lost); `relabel` writes the rows
  // there are again, in the new language.
  function renderRequests(list, relabel) {
    const ul = $("requests");
    $("req-count").textContent = fmt(S.count, { n: list.length });
    const wanted = new Map(list.map((r) => [r.id, r]));
    for (const li of [...ul.children]) {
      if (!li.dataset.request || !wanted.has(li.dataset.request)) li.remove();
      else if (relabel) labelRequest(li, wanted.get(li.dataset.request));
    }
    if (!list.length) {
      ul.replaceChildren(el("li", "empty", S.noRequests));
      return;
    }
    const have = new Set([...ul.children].map((li) => li.dataset.request));
    for (const r of list) {
      if (have.has(r.id)) continue;
      const li = el("li");
      li.dataset.request = r.id;
      li.dataset.agent = r.agent_id;
      const ok = el("button", "approve");
      ok.type = "button";
      ok.addEventListener("click", () => decide(r.id, "approve", li));
      const no = el("button", "deny");
      no.type = "button";
      no.addEventListener("click", () => decide(r.id, "deny", li));
      li.append(el("span", "who"), ok, no);
      labelRequest(li, r);
      ul.append(li);
    }
  }

  function labelRequest(li, r) {
    const [who, ok, no] = li.children;
    const a = model.agents.get(r.agent_id);
    who.textContent = a ? fmt(S.requestWho, { name: a.name, id: r.agent_id }) : r.agent_id;
    const meta = { request: r.id, time: hhmm(r.requested_at), tries: r.attempts };
    who.append(el("small", "", fmt(r.attempts > 1 ? S.requestMetaTries : S.requestMeta, meta)));
    ok.textContent = S.approve;
    ok.setAttribute("aria-label", fmt(S.approveLabel, { id: r.agent_id }));
    no.textContent = S.deny;
    no.setAttribute("aria-label", fmt(S.denyLabel, { id: r.agent_id }));
  }

  async function decide(id, action, li) {
    for (const b of li.querySelectorAll("button")) b.disabled = true;
    say($("req-msg"), null);
    try {
      await api("POST", "/logout-requests/" + enc(id) + "/" + action);
      // on success the stream's next update removes the request and updates the seat
    } catch (e) {
      say($("req-msg"), () => fmt(S.decideFailed[action], { request: id, why: why(e) }));
      for (const b of li.querySelectorAll("button")) b.disabled = false;
    }
  }

  function cells(tbody, rows) {
    tbody.replaceChildren(...rows.map((cols) => {
      const tr = el("tr");
      for (const c of cols) {
        const td = el("td", c.cls || "", String(c.v !== undefined ? c.v : c));
        tr.append(td);
      }
      return tr;
    }));
  }

  function renderSkills(skills) {
    cells($("skills").tBodies[0], skills.map((s) => [
      s.skill === null ? S.anySkill : s.skill, s.available, s.away, s.offline,
      s.load + "/" + s.capacity, { v: s.depth, cls: s.depth ? "warn" : "" },
      { v: s.depth ? dur(s.oldest_wait_s * 1000) : S.none, cls: s.depth ? "warn" : "" },
    ]));
  }

  function renderTeams(teams) {
    cells($("teams").tBodies[0], teams.map((t) => [
      t.team, t.available, t.away, t.offline, t.load + "/" + t.capacity, pct(t.utilization_today),
    ]));
  }

  function renderLowest(agents) {
    const low = agents.filter((a) => a.utilization_today !== null && a.utilization_today !== undefined)
      .sort((x, y) => x.utilization_today - y.utilization_today || (x.id < y.id ? -1 : 1))
      .slice(0, 10);
    const ol = $("lowest");
    if (!low.length) {
      ol.replaceChildren(el("li", "", S.nobodyScheduled));
      return;
    }
    ol.replaceChildren(...low.map((a) => {
      const li = el("li");
      li.append(el("span", "pct", pct(a.utilization_today)), " ", fmt(S.lowestRow, a));
      return li;
    }));
  }

  // -- the chart -----------------------------------------------------------------------------

  const CHART = { font: "11px system-ui, sans-serif", axis: "#a3aec0", assigned: "#93c5fd",
    depth: "#fdba74", bar: "#60a5fa", line: "#fb923c", rule: "#334155" };

  // Every label sets its own alignment: the context keeps whatever the last call left.
  function label(g, text, x, y, align, baseline, color) {
    g.textAlign = align;
    g.textBaseline = baseline;
    g.fillStyle = color;
    g.fillText(text, x, y);
  }

  function renderChart() {
    const canvas = $("chart");
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 460;
    const h = canvas.clientHeight || 150;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const minutes = [...model.history.values()].sort((a, b) => (a.minute < b.minute ? -1 : 1));
    const last = minutes.slice(-60);
    const maxA = Math.max(5, ...last.map((m) => m.assigned));
    const maxD = Math.max(5, ...last.map((m) => m.queue_depth));
    g.font = CHART.font;
    // The axes are as wide as their widest figure: labels are never cut, whatever the values.
    const widest = (...texts) => Math.ceil(Math.max(...texts.map((t) => g.measureText(t).width)));
    const pad = { l: widest(String(maxA), "0") + 8, r: widest(String(maxD), "0") + 8, t: 10, b: 18 };
    const cw = w - pad.l - pad.r;
    const ch = h - pad.t - pad.b;
    g.strokeStyle = CHART.rule;
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(pad.l, pad.t + ch + 0.5);
    g.lineTo(pad.l + cw, pad.t + ch + 0.5);
    g.moveTo(pad.l, pad.t + 0.5);
    g.lineTo(pad.l + cw, pad.t + 0.5);
    g.stroke();
    label(g, String(maxA), pad.l - 4, pad.t, "right", "middle", CHART.assigned);
    label(g, "0", pad.l - 4, pad.t + ch, "right", "middle", CHART.assigned);
    label(g, String(maxD), pad.l + cw + 4, pad.t, "left", "middle", CHART.depth);
    label(g, "0", pad.l + cw + 4, pad.t + ch, "left", "middle", CHART.depth);
    label(g, S.chartStart, pad.l, h - 3, "left", "alphabetic", CHART.axis);
    label(g, S.chartEnd, pad.l + cw, h - 3, "right", "alphabetic", CHART.axis);
    const slot = cw / 60;
    const offset = 60 - last.length;
    g.fillStyle = CHART.bar;
    last.forEach((m, i) => {
      const bh = (m.assigned / maxA) * ch;
      g.fillRect(pad.l + (offset + i) * slot + 1, pad.t + ch - bh, Math.max(1, slot - 2), bh);
    });
    g.strokeStyle = CHART.line;
    g.lineWidth = 2;
    g.beginPath();
    last.forEach((m, i) => {
      const x = pad.l + (offset + i + 0.5) * slot;
      const y = pad.t + ch - (m.queue_depth / maxD) * ch;
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    });
    g.stroke();
    g.lineWidth = 1;
    const cur = last[last.length - 1];
    $("chart-now").textContent = cur
      ? fmt(S.chartNow, { assigned: cur.assigned, depth: cur.queue_depth })
      : "";
    canvas.setAttribute("aria-label", fmt(S.chartLabel, {
      assigned: last.reduce((s, m) => s + m.assigned, 0), depth: cur ? cur.queue_depth : 0,
    }));
  }

  let resizeQueued = false;
  window.addEventListener("resize", () => {
    if (resizeQueued || !model.agg) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      renderChart();
    });
  });

  // -- filters -------------------------------------------------------------------------------

  const filter = { team: "", state: "", text: "" };

  function matches(a) {
    if (filter.team && a.team !== filter.team) return false;
    if (filter.state && a.state !== filter.state) return false;
    if (filter.text) {
      const q = filter.text;
      if (!a.name.toLocaleLowerCase().includes(q) && !a.id.toLocaleLowerCase().includes(q)) {
        return false;
      }
    }
    return true;
  }

  function applyFilters() {
    let shown = 0;
    for (const [id, t] of tiles) {
      const a = model.agents.get(id);
      const visible = !!a && matches(a);
      if (t.el.hidden === visible) t.el.hidden = !visible;
      if (visible) shown += 1;
    }
    for (const sec of $("seat-map").children) {
      const any = !!sec.querySelector(".tile:not([hidden])");
      if (sec.hidden === any) sec.hidden = !any;
    }
    const total = tiles.size;
    const active = !!(filter.team || filter.state || filter.text);
    $("seat-count").textContent = active
      ? fmt(S.seatCountFiltered, { shown, total })
      : fmt(S.seatCount, { total });
    $("seat-empty").hidden = shown > 0 || total === 0;
    keepRoving();
  }

  function renderTeamFilter(teams) {
    const select = $("f-team");
    const names = teams.map((t) => t.team);
    const have = [...select.options].slice(1).map((o) => o.value);
    if (names.join("\u0000") === have.join("\u0000")) return;
    const chosen = select.value;
    const all = new Option(S.allTeams, "");
    all.dataset.i18n = "allTeams";
    const options = [all];
    for (const name of names) options.push(new Option(name, name));
    select.replaceChildren(...options);
    select.value = names.includes(chosen) ? chosen : "";
    filter.team = select.value;
  }

  function readFilters() {
    filter.team = $("f-team").value;
    filter.state = $("f-state").value;
    filter.text = $("f-text").value.trim().toLocaleLowerCase();
    applyFilters();
  }

  $("filters").addEventListener("input", readFilters);
  $("filters").addEventListener("change", readFilters);
  $("filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("filters").addEventListener("reset", () => setTimeout(readFilters, 0));

  // -- seats by keyboard: one tab stop for the whole map, arrows move inside it ----------------

  let rovingId = null;

  function shownTiles() {
    return [...tiles.values()].map((t) => t.el).filter((b) => !b.hidden);
  }

  function setRoving(id) {
    if (rovingId === id) return;
    const old = tiles.get(rovingId);
    if (old) old.el.tabIndex = -1;
    rovingId = id;
    const cur = tiles.get(id);
    if (cur) cur.el.tabIndex = 0;
  }

  function keepRoving() {
    const cur = tiles.get(rovingId);
    if (cur && !cur.el.hidden) {
      cur.el.tabIndex = 0;
      return;
    }
    const first = shownTiles()[0];
    setRoving(first ? first.dataset.agent : null);
  }

  // The tile above or below: the nearest row that way, the tile closest in x on it.
  function vertical(list, from, dir) {
    const r = from.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const rects = list.map((b) => [b, b.getBoundingClientRect()]);
    let row = null;
    for (const [, q] of rects) {
      const ahead = dir > 0 ? q.top > r.top + 1 : q.top < r.top - 1;
      if (ahead && (row === null || (dir > 0 ? q.top < row : q.top > row))) row = q.top;
    }
    if (row === null) return null;
    let best = null;
    let dx = Infinity;
    for (const [b, q] of rects) {
      if (Math.abs(q.top - row) > 1) continue;
      const d = Math.abs(q.left + q.width / 2 - x);
      if (d < dx) [best, dx] = [b, d];
    }
    return best;
  }

  $("seat-map").addEventListener("keydown", (ev) => {
    const from = ev.target.closest(".tile");
    if (!from || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const list = shownTiles();
    const i = list.indexOf(from);
    let to;
    if (ev.key === "ArrowRight") to = list[i + 1];
    else if (ev.key === "ArrowLeft") to = list[i - 1];
    else if (ev.key === "ArrowDown") to = vertical(list, from, 1);
    else if (ev.key === "ArrowUp") to = vertical(list, from, -1);
    else if (ev.key === "Home") to = list[0];
    else if (ev.key === "End") to = list[list.length - 1];
    else return;
    ev.preventDefault();
    if (to) {
      setRoving(to.dataset.agent);
      to.focus();
    }
  });

  $("seat-map").addEventListener("focusin", (ev) => {
    const t = ev.target.closest(".tile");
    if (t) setRoving(t.dataset.agent);
  });

  $("seat-map").addEventListener("click", (ev) => {
    const t = ev.target.closest(".tile");
    if (t) openSeat(t.dataset.agent);
  });

  // -- the seat's details --------------------------------------------------------------------

  const dialog = $("seat-dialog");
  let seatOpen = null; // the agent shown
  let seatToken = 0; // answers for an earlier load are dropped
  let seatLoadedAt = 0;
  let seatSig = "";
  let seatReload = null;
  let seatData = null; // its orders and time today as last loaded, to show again in another language

  const signature = (a) => [a.state, a.load, a.state_since, a.pending_logout_request].join("|");

  function openSeat(id) {
    const a = model.agents.get(id);
    if (!a) return;
    seatOpen = id;
    seatSig = signature(a);
    seatData = null;
    say($("sd-error"), null);
    keep($("sd-result"), null);
    $("sd-result").replaceChildren();
    $("sd-result").className = "sd-result";
    hideConfirm();
    renderSeat();
    if (!dialog.open) dialog.showModal();
    $("sd-close").focus();
    loadSeat();
  }

  // The seat's details as known: the stream's facts, then its orders and time once loaded.
  function renderSeat() {
    renderSeatFacts();
    if (seatData) {
      renderSeatOrders(seatData.orders);
      renderSeatTime(seatData.util);
      return;
    }
    $("sd-orders").tBodies[0].replaceChildren(loadingRow(5));
    $("sd-orders-count").textContent = "";
    $("sd-orders-none").hidden = true;
    $("sd-time").replaceChildren(el("dd", "", S.loading));
    $("sd-window").textContent = "";
  }

  function closeSeat() {
    if (dialog.open) dialog.close();
  }

  function loadingRow(span) {
    const tr = el("tr");
    const td = el("td", "", S.loading);
    td.colSpan = span;
    tr.append(td);
    return tr;
  }

  dialog.addEventListener("close", () => {
    const id = seatOpen;
    seatOpen = null;
    seatToken += 1;
    clearTimeout(seatReload);
    const t = tiles.get(id);
    if (t && !t.el.hidden && $("key-dialog").hidden) {
      setRoving(id);
      t.el.focus();
    }
  });
  $("sd-close").addEventListener("click", closeSeat);
  // Tab and Shift+Tab go round inside the dialog (the page behind it is inert).
  dialog.addEventListener("keydown", (ev) => {
    if (ev.key !== "Tab") return;
    const stops = [...dialog.querySelectorAll("button, [href], input, select, textarea, [tabindex]")]
      .filter((e) => !e.disabled && e.tabIndex >= 0 && e.checkVisibility());
    if (!stops.length) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    if (ev.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && document.activeElement === last) {
      ev.preventDefault();
      first.focus();
    }
  });
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener("click", (ev) => {
    if (ev.target === dialog) closeSeat();
  });

  // The stream changed the open seat: show it, and reload its orders and times soon.
  function seatChanged() {
    const a = model.agents.get(seatOpen);
    if (!a) return;
    renderSeatFacts();
    const sig = signature(a);
    const stale = performance.now() - seatLoadedAt > 15000;
    if (sig === seatSig && !stale) return;
    seatSig = sig;
    clearTimeout(seatReload);
    seatReload = setTimeout(loadSeat, 150);
  }

  function fact(dl, term, value) {
    const dd = el("dd");
    if (Array.isArray(value)) dd.append(...value);
    else dd.append(value);
    dl.append(el("dt", "", term), dd);
  }

  function renderSeatFacts() {
    const a = model.agents.get(seatOpen);
    if (!a) return;
    $("sd-title").textContent = fmt(S.seatTitle, { name: a.name, id: a.id });
    const dl = document.createDocumentFragment();
    fact(dl, S.factTeam, a.team);
    const since = Date.parse(a.state_since);
    fact(dl, S.factState, [el("span", "sd-state " + a.state, S.stateName[a.state] || a.state), " ",
      fmt(S.factStateSince, { time: hhmm(a.state_since), ago: dur(serverNow() - since) })]);
    if (a.reason) fact(dl, S.factReason, a.reason);
    fact(dl, S.factLoad, fmt(S.factLoadValue, { load: a.load, capacity: a.capacity }));
    fact(dl, S.factSkills, a.skills.length ? a.skills.join(", ") : S.factNoSkills);
    if (a.shift_end) {
      fact(dl, S.factShiftEnd, fmt(a.near_shift_end ? S.factShiftEndNear : S.factShiftEndValue,
        { time: hhmm(a.shift_end) }));
    }
    if (a.pending_logout_request) {
      fact(dl, S.factRequest, fmt(S.factRequestValue, { request: a.pending_logout_request }));
    }
    $("sd-facts").replaceChildren(dl);
    const offline = a.state === "offline";
    $("sd-force").hidden = offline || !$("sd-confirm").hidden;
    if (offline && !$("sd-confirm").hidden) hideConfirm();
  }

  function orderOf(id) {
    return api("GET", "/orders/" + enc(id)).catch(() => ({ id, status: "unknown" }));
  }

  async function loadSeat() {
    const id = seatOpen;
    if (id === null) return;
    const token = ++seatToken;
    seatLoadedAt = performance.now();
    try {
      const [agent, util] = await Promise.all([
        api("GET", "/agents/" + enc(id)),
        api("GET", "/utilization?agent_id=" + enc(id)),
      ]);
      const orders = await Promise.all(agent.open_orders.map(orderOf));
      if (token !== seatToken) return;
      say($("sd-error"), null);
      seatData = { orders, util };
      renderSeatOrders(orders);
      renderSeatTime(util);
    } catch (e) {
      if (token !== seatToken) return;
      say($("sd-error"), () => fmt(S.loadFailed, { why: why(e) }));
    }
  }

  function renderSeatOrders(orders) {
    const now = serverNow();
    $("sd-orders-count").textContent = fmt(S.count, { n: orders.length });
    $("sd-orders-none").hidden = orders.length > 0;
    $("sd-orders").hidden = orders.length === 0;
    cells($("sd-orders").tBodies[0], orders.map((o) => {
      const at = o.assigned_at || null;
      return [
        o.id, o.skill === null || o.skill === undefined ? S.anySkill : o.skill,
        o.priority === undefined ? S.none : o.priority,
        at ? fmt(S.clock, { time: hhmmss(at) }) : S.none,
        at ? fmt(S.orderFor, { dur: dur(now - Date.parse(at)) }) : S.none,
      ];
    }));
    for (const tr of $("sd-orders").tBodies[0].rows) tr.dataset.order = tr.cells[0].textContent;
  }

  function renderSeatTime(util) {
    const row = util.agents[0];
    const dl = document.createDocumentFragment();
    const item = (key, term, value) => {
      const dd = el("dd", "", value);
      dd.dataset.time = key;
      dl.append(el("dt", "", term), dd);
    };
    item("on_duty", S.timeOnDuty, longDur(row ? row.on_duty_s : 0));
    item("away", S.timeAway, longDur(row ? row.away_s : 0));
    item("outside_schedule", S.timeOutside, longDur(row ? row.outside_schedule_s : 0));
    item("scheduled", S.timeScheduled, longDur(row ? row.scheduled_s : 0));
    item("utilization", S.timeUtil, pct(row ? row.utilization : null));
    $("sd-time").replaceChildren(dl);
    $("sd-window").textContent = fmt(S.timeWindow, {
      timezone: util.timezone, from: util.from.slice(0, 10) + " " + hhmm(util.from),
    });
  }

  // -- force logout: ask, then do it and show where the orders went ---------------------------

  function hideConfirm() {
    $("sd-confirm").hidden = true;
    $("sd-force-yes").disabled = false;
    $("sd-force-no").disabled = false;
    const a = model.agents.get(seatOpen);
    $("sd-force").hidden = !a || a.state === "offline";
  }

  $("sd-force").addEventListener("click", () => {
    const a = model.agents.get(seatOpen);
    if (!a) return;
    say($("sd-confirm-q"), () => fmt(S.forceAsk, { name: a.name, id: a.id, load: a.load }));
    keep($("sd-result"), null);
    $("sd-result").replaceChildren();
    $("sd-force").hidden = true;
    $("sd-confirm").hidden = false;
    $("sd-force-no").focus();
  });

  $("sd-force-no").addEventListener("click", () => {
    hideConfirm();
    $("sd-force").focus();
  });

  $("sd-force-yes").addEventListener("click", async () => {
    const id = seatOpen;
    const a = model.agents.get(id);
    if (!a) return;
    $("sd-force-yes").disabled = true;
    $("sd-force-no").disabled = true;
    const result = $("sd-result");
    try {
      const done = await api("POST", "/agents/" + enc(id) + "/force-logout");
      const moved = await Promise.all(done.reassigned.map(orderOf));
      if (seatOpen !== id) return;
      const vars = { name: a.name, id };
      result.className = "sd-result done";
      keep(result, () => {
        result.replaceChildren(el("p", "", fmt(moved.length ? S.forceDone : S.forceDoneNone, vars)));
        if (!moved.length) return;
        const list = el("ul");
        list.append(...moved.map((o) => el("li", "", movedText(o))));
        result.append(list);
      });
      hideConfirm();
      $("sd-force").hidden = true;
      $("sd-close").focus();
      loadSeat();
    } catch (e) {
      if (seatOpen !== id) return;
      result.className = "sd-result failed";
      keep(result, () => result.replaceChildren(el("p", "", fmt(S.forceFailed, { id, why: why(e) }))));
      hideConfirm();
      $("sd-force").focus();
    }
  });

  function movedText(o) {
    if (o.status === "assigned" && o.agent_id) {
      const to = model.agents.get(o.agent_id);
      const who = to ? fmt(S.requestWho, { name: to.name, id: to.id }) : o.agent_id;
      return fmt(S.forceMovedTo, { order: o.id, agent: who });
    }
    if (o.status === "queued") {
      return o.skill === null || o.skill === undefined
        ? fmt(S.forceMovedAnyQueue, { order: o.id })
        : fmt(S.forceMovedQueue, { order: o.id, skill: o.skill });
    }
    return fmt(S.forceMovedOther, { order: o.id, status: o.status });
  }

  start();
})();
