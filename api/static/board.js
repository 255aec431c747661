// seatflow floor board. Reads GET /v1/board/stream with fetch() (so the key stays in the
// Authorization header, never in a URL): a `snapshot` event, then `delta` events that carry
// whole rows. Reconnects by itself; every (re)connection starts from a fresh snapshot.
"use strict";

(function () {
  const KEY = "seatflow.board.key";
  const body = document.body;
  const STREAM = body.dataset.stream;
  const API = body.dataset.api;
  const STALL_MS = 40000; // the server sends at least a keep-alive every 15 s
  const $ = (id) => document.getElementById(id);

  const model = { agents: new Map(), agg: null, history: new Map(), now: 0, at: 0 };
  let tiles = new Map(); // agent id -> tile element
  let layoutKey = "";
  let controller = null;
  let retry = 0;
  let renderQueued = false;

  // -- key ---------------------------------------------------------------------------------

  function askKey(message) {
    $("board").hidden = true;
    $("key-error").textContent = message || "";
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
    setConn("idle", "Not connected");
    askKey("");
  });

  // -- connection --------------------------------------------------------------------------

  function setConn(state, text) {
    const el = $("conn");
    el.dataset.conn = state;
    el.textContent = text;
  }

  function stop() {
    if (controller) controller.abort();
    controller = null;
  }

  function lost() {
    stop();
    setConn("lost", "Connection lost — reconnecting…");
    const wait = Math.min(5000, 500 * 2 ** retry);
    retry = Math.min(retry + 1, 4);
    setTimeout(connect, wait);
  }

  async function connect() {
    const key = sessionStorage.getItem(KEY);
    if (!key) return askKey("");
    stop();
    const mine = new AbortController();
    controller = mine;
    if ($("conn").dataset.conn !== "lost") setConn("connecting", "Connecting…");
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
      setConn("idle", "Not connected");
      controller = null;
      return askKey(
        resp.status === 401
          ? "That key was not accepted: " + why
          : "This key may not watch the board (a supervisor or admin key is needed): " + why
      );
    }
    if (!resp.ok || !resp.body) {
      if (controller === mine) lost();
      return;
    }
    await read(resp.body.getReader(), mine);
    if (controller === mine) lost();
  }

  async function errorText(resp) {
    try {
      const b = await resp.json();
      return (b.error && b.error.message) || resp.status + "";
    } catch (e) {
      return "HTTP " + resp.status;
    }
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
      $("board").hidden = false;
      setConn("live", "Live");
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

  // -- rendering ---------------------------------------------------------------------------

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

  function serverNow() {
    return model.now + (performance.now() - model.at);
  }

  function dur(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    const h = Math.floor(m / 60);
    return h + "h" + String(m % 60).padStart(2, "0");
  }

  function pct(u) {
    return u === null || u === undefined ? "–" : Math.round(u * 100) + "%";
  }

  const STATE_LABEL = { available: "ON", away: "AWAY", offline: "OFF" };
  const STATE_WORD = { available: "on duty", away: "away", offline: "offline" };

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
    renderTeamHeads();
    renderTotals(agg);
    renderRequests(agg.pending_logout_requests);
    renderSkills(agg.skills);
    renderTeams(agg.teams);
    renderLowest(agents);
    renderChart();
    $("clock").textContent = new Date(serverNow()).toISOString().slice(11, 19) + " UTC";
  }

  function buildMap(agents) {
    const map = $("seat-map");
    const byTeam = new Map();
    for (const a of agents.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))) {
      if (!byTeam.has(a.team)) byTeam.set(a.team, []);
      byTeam.get(a.team).push(a);
    }
    tiles = new Map();
    const frag = document.createDocumentFragment();
    for (const team of [...byTeam.keys()].sort()) {
      const sec = el("section", "team");
      sec.dataset.team = team;
      sec.append(el("h3"));
      const grid = el("div", "tiles");
      grid.setAttribute("role", "list");
      for (const a of byTeam.get(team)) {
        const t = el("div", "tile");
        t.setAttribute("role", "listitem");
        t.dataset.agent = a.id;
        t.append(el("span", "id"), el("span", "st"), el("span", "ld"), el("span", "tm"));
        tiles.set(a.id, t);
        updateTile(t, a, false);
        grid.append(t);
      }
      sec.append(grid);
      frag.append(sec);
    }
    map.replaceChildren(frag);
    $("seat-count").textContent = "(" + agents.length + ")";
  }

  function updateTile(t, a, flash) {
    if (!t) return;
    const since = Date.parse(a.state_since);
    t.className = "tile " + a.state + (a.load >= a.capacity ? " full" : "") +
      (a.near_shift_end ? " near-end" : "");
    t.dataset.state = a.state;
    t.dataset.load = a.load;
    t.dataset.since = since;
    t.children[0].textContent = a.id;
    t.children[1].textContent = STATE_LABEL[a.state] || a.state;
    t.children[2].textContent = a.load + "/" + a.capacity;
    t.children[3].textContent = dur(serverNow() - since);
    let end = t.querySelector(".end");
    if (a.near_shift_end && !end) {
      end = el("span", "end", "END");
      t.append(end);
    } else if (!a.near_shift_end && end) end.remove();
    let req = t.querySelector(".req");
    if (a.pending_logout_request && !req) t.append(el("span", "req", "LOGOUT?"));
    else if (!a.pending_logout_request && req) req.remove();
    const label = a.name + " (" + a.id + "), team " + a.team + ": " + STATE_WORD[a.state] +
      (a.reason ? " (" + a.reason + ")" : "") + ", load " + a.load + " of " + a.capacity +
      ", utilization today " + pct(a.utilization_today) +
      (a.shift_end ? ", shift ends " + a.shift_end.slice(11, 16) + " UTC" : "") +
      (a.near_shift_end ? ", near shift end" : "") +
      (a.pending_logout_request ? ", logout request pending" : "");
    t.title = label;
    t.setAttribute("aria-label", label);
    if (flash) {
      t.classList.add("flash");
      setTimeout(() => t.classList.remove("flash"), 600);
    }
  }

  function renderTeamHeads() {
    const rows = new Map(model.agg.teams.map((r) => [r.team, r]));
    for (const sec of document.querySelectorAll("#seat-map .team")) {
      const r = rows.get(sec.dataset.team);
      if (!r) continue;
      const h = sec.firstChild;
      h.replaceChildren(el("b", "", r.team), " · " + r.available + " on duty · " + r.away +
        " away · " + r.offline + " offline · load " + r.load + "/" + r.capacity +
        " · utilization " + pct(r.utilization_today));
    }
  }

  function renderTotals(agg) {
    const t = agg.totals;
    const oldest = agg.queues.reduce((m, q) => Math.max(m, q.oldest_wait_s), 0);
    const item = (cls, value, label) => {
      const s = el("span", cls);
      s.append(el("b", "", String(value)), " " + label);
      return s;
    };
    $("totals").replaceChildren(
      item("t-on", t.available, "on duty"),
      item("t-away", t.away, "away"),
      item("t-off", t.offline, "offline"),
      item("t-load", t.load + "/" + t.capacity, "load"),
      item("t-queue", t.queued, "queued" + (t.queued ? " (oldest " + dur(oldest * 1000) + ")" : "")),
      item("t-req", t.pending_logout_requests, "logout requests")
    );
  }

  function renderRequests(list) {
    const ul = $("requests");
    $("req-count").textContent = "(" + list.length + ")";
    const wanted = new Set(list.map((r) => r.id));
    for (const li of [...ul.children]) {
      if (!li.dataset.request || !wanted.has(li.dataset.request)) li.remove();
    }
    if (!list.length) {
      ul.replaceChildren(el("li", "empty", "None waiting."));
      return;
    }
    const have = new Set([...ul.children].map((li) => li.dataset.request));
    for (const r of list) {
      if (have.has(r.id)) continue;
      const a = model.agents.get(r.agent_id);
      const li = el("li");
      li.dataset.request = r.id;
      li.dataset.agent = r.agent_id;
      const who = el("span", "who", (a ? a.name + " (" + r.agent_id + ")" : r.agent_id));
      who.append(el("small", "", r.id + " · asked " + r.requested_at.slice(11, 16) + " UTC" +
        (r.attempts > 1 ? " · " + r.attempts + " tries" : "")));
      const ok = el("button", "approve", "Approve");
      ok.type = "button";
      ok.setAttribute("aria-label", "Approve logout of " + r.agent_id);
      ok.addEventListener("click", () => decide(r.id, "approve", li));
      const no = el("button", "deny", "Deny");
      no.type = "button";
      no.setAttribute("aria-label", "Deny logout of " + r.agent_id);
      no.addEventListener("click", () => decide(r.id, "deny", li));
      li.append(who, ok, no);
      ul.append(li);
    }
  }

  async function decide(id, action, li) {
    const key = sessionStorage.getItem(KEY);
    for (const b of li.querySelectorAll("button")) b.disabled = true;
    $("req-msg").textContent = "";
    try {
      const resp = await fetch(API + "/logout-requests/" + encodeURIComponent(id) + "/" + action, {
        method: "POST",
        headers: { Authorization: "Bearer " + key },
      });
      if (!resp.ok) {
        $("req-msg").textContent = "Could not " + action + " " + id + ": " + (await errorText(resp));
        for (const b of li.querySelectorAll("button")) b.disabled = false;
      }
      // on success the stream's next update removes the request and updates the seat
    } catch (e) {
      $("req-msg").textContent = "Could not " + action + " " + id + ": the server did not answer";
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
      s.skill === null ? "(any skill)" : s.skill, s.available, s.away, s.offline,
      s.load + "/" + s.capacity, { v: s.depth, cls: s.depth ? "warn" : "" },
      { v: s.depth ? dur(s.oldest_wait_s * 1000) : "–", cls: s.depth ? "warn" : "" },
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
      ol.replaceChildren(el("li", "", "Nobody scheduled yet today."));
      return;
    }
    ol.replaceChildren(...low.map((a) => {
      const li = el("li");
      li.append(el("span", "pct", pct(a.utilization_today)), " " + a.id + " · " + a.team);
      return li;
    }));
  }

  function renderChart() {
    const canvas = $("chart");
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 460;
    const h = canvas.clientHeight || 150;
    if (canvas.width !== Math.round(w * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const minutes = [...model.history.values()].sort((a, b) => (a.minute < b.minute ? -1 : 1));
    const last = minutes.slice(-60);
    const pad = { l: 30, r: 34, t: 8, b: 18 };
    const cw = w - pad.l - pad.r;
    const ch = h - pad.t - pad.b;
    const maxA = Math.max(5, ...last.map((m) => m.assigned));
    const maxD = Math.max(5, ...last.map((m) => m.queue_depth));
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#a3aec0";
    g.strokeStyle = "#334155";
    g.beginPath();
    g.moveTo(pad.l, pad.t + ch + 0.5);
    g.lineTo(pad.l + cw, pad.t + ch + 0.5);
    g.stroke();
    g.fillText(String(maxA), 2, pad.t + 9);
    g.fillText("0", 2, pad.t + ch);
    g.textAlign = "right";
    g.fillText(String(maxD), w - 2, pad.t + 9);
    g.fillText("−60 min", pad.l + 44, h - 4);
    g.fillText("now", pad.l + cw, h - 4);
    const slot = cw / 60;
    const offset = 60 - last.length;
    g.fillStyle = "#60a5fa";
    last.forEach((m, i) => {
      const bh = (m.assigned / maxA) * ch;
      g.fillRect(pad.l + (offset + i) * slot + 1, pad.t + ch - bh, Math.max(1, slot - 2), bh);
    });
    g.strokeStyle = "#fb923c";
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
      ? "· this minute: " + cur.assigned + " assigned, queue " + cur.queue_depth
      : "";
    canvas.setAttribute("aria-label", "last hour per minute: " + last.reduce((s, m) => s + m.assigned, 0) +
      " assignments; queue depth now " + (cur ? cur.queue_depth : 0));
  }

  // Times in state move with the clock: refresh them every second between updates.
  setInterval(() => {
    if (!model.agg) return;
    const now = serverNow();
    for (const t of tiles.values()) t.children[3].textContent = dur(now - Number(t.dataset.since));
    $("clock").textContent = new Date(now).toISOString().slice(11, 19) + " UTC";
  }, 1000);

  connect();
})();
