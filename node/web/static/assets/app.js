// mentormesh page. Plain JavaScript, no build step, no network beyond the
// node's own API. Every piece of text that comes from the network is put in
// the page with textContent (never innerHTML), so a hostile profile or
// resource cannot inject markup.
"use strict";

const state = { csrf: "", me: null, view: "", reload: null, timer: 0 };

// ---------- DOM helpers ----------

// h builds an element: h("p", {class: "x"}, "text", child, ...).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat());
}

function toast(msg, ok) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.className = ok ? "toast ok" : "toast";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// field renders a labelled input; the id ties label and control together.
let fieldSeq = 0;
function field(label, input, hint) {
  const id = "f" + (++fieldSeq);
  input.id = id;
  if (hint) input.setAttribute("aria-describedby", id + "-hint");
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("small", { id: id + "-hint" }, hint) : null);
}

function input(name, value, attrs) {
  return h("input", Object.assign({ name, value: value ?? "" }, attrs || {}));
}

function textarea(name, value, attrs) {
  const t = h("textarea", Object.assign({ name, rows: 4 }, attrs || {}));
  t.value = value ?? "";
  return t;
}

function select(name, options, value) {
  return h("select", { name }, options.map(([v, label]) =>
    h("option", { value: v, selected: v === value }, label)));
}

function list(value) {
  return String(value || "").split(",").map((s) => s.trim()).filter(Boolean);
}

function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toLocaleString();
}

function shortID(id) {
  return id && id.length > 16 ? id.slice(0, 8) + "…" + id.slice(-6) : id;
}

// ---------- API ----------

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") opts.headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch { /* empty body */ }
  if (!resp.ok) {
    const err = new Error((data && data.error) || resp.status + " " + resp.statusText);
    err.status = resp.status;
    err.code = data && data.code;
    throw err;
  }
  return data;
}

// form submits a form's handler with errors shown to the user.
function onSubmit(fn) {
  return async (ev) => {
    ev.preventDefault();
    const btn = ev.target.querySelector("button[type=submit]");
    if (btn) btn.disabled = true;
    try {
      await fn(new FormData(ev.target), ev.target);
    } catch (e) {
      toast(e.message);
    } finally {
      if (btn) btn.disabled = false;
    }
  };
}

// ---------- views ----------

const views = {};

views.profile = async () => {
  let p = null;
  try { p = await api("GET", "/api/v1/profiles/self"); } catch (e) { if (e.status !== 404) throw e; }
  state.me = p;
  const intro = p ? h("p", {}, "This is how other practitioners see you. Changes replicate to your communities.")
    : h("p", { class: "first-run" }, "Welcome! Create your profile so other practitioners can find you.");
  const form = h("form", { class: "card", "aria-label": "Your profile", onsubmit: onSubmit(async (fd) => {
    const body = profileBody(fd);
    state.me = await api("PUT", "/api/v1/profile", body);
    toast("Profile saved.", true);
    if (location.hash !== "#/profile") location.hash = "#/profile"; // renders
    else render();
  }) },
    profileFields(p || {}),
    h("button", { type: "submit" }, p ? "Save profile" : "Create profile"));
  show(h("h1", {}, p ? "My profile" : "Create your profile"), intro, form);
};

// profileFields and profileBody are extended by the profile section below
// when the node knows more profile fields.
function profileFields(p) {
  return [
    field("Display name", input("name", p.name, { required: true, maxlength: 80, autocomplete: "name" })),
    field("Bio", textarea("bio", p.bio, { maxlength: 2000 })),
    field("Skills and interests", input("skills", (p.skills || []).join(", ")), "Comma-separated, e.g. facilitation, consent decision-making"),
  ];
}

function profileBody(fd) {
  return { name: fd.get("name"), bio: fd.get("bio"), skills: list(fd.get("skills")) };
}

views.network = async () => {
  const [st, peers, id] = await Promise.all([
    api("GET", "/api/v1/status"), api("GET", "/api/v1/peers"), api("GET", "/api/v1/id")]);
  const recs = st.records || [];
  show(
    h("h1", {}, "Network"),
    h("section", { class: "card", "aria-labelledby": "node-h" },
      h("h2", { id: "node-h" }, "This node"),
      h("dl", {},
        h("dt", {}, "Peer ID"), h("dd", { class: "mono" }, id.peer_id),
        h("dt", {}, "Communities"), h("dd", {}, (st.communities || []).join(", ")),
        h("dt", {}, "Connected peers"), h("dd", { "data-testid": "peer-count" }, String(st.peers)),
        h("dt", {}, "Waiting to publish"), h("dd", {}, String(st.outbox)),
        h("dt", {}, "Received records"), h("dd", {}, `${st.ingest.accepted} accepted, ${st.ingest.ignored} ignored, ${st.ingest.rejected} rejected`))),
    h("section", { class: "card", "aria-labelledby": "peers-h" },
      h("h2", { id: "peers-h" }, "Peers"),
      peers.length === 0 ? h("p", {}, "No peers connected yet. Nodes on your LAN are found automatically; others join with --bootstrap.") :
        h("table", {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Peer"), h("th", { scope: "col" }, "Communities"), h("th", { scope: "col" }, "Latency"))),
          h("tbody", {}, peers.map((p) => h("tr", {},
            h("td", { class: "mono", title: p.peer_id }, shortID(p.peer_id)),
            h("td", {}, (p.communities || []).join(", ")),
            h("td", {}, p.latency_ms ? p.latency_ms.toFixed(1) + " ms" : "–")))))),
    h("section", { class: "card", "aria-labelledby": "sync-h" },
      h("h2", { id: "sync-h" }, "Catch-up"),
      (st.catch_up || []).length === 0 ? h("p", {}, "No catch-up session yet.") :
        h("table", {},
          h("thead", {}, h("tr", {}, ["Peer", "Community", "When", "Pulled", "Round trips", "Result"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, st.catch_up.map((c) => h("tr", {},
            h("td", { class: "mono", title: c.peer_id }, shortID(c.peer_id)),
            h("td", {}, c.community + (c.own_records_only ? (c.initiated ? " (my records)" : " (their records)") : "")),
            h("td", {}, fmtTime(c.at)),
            h("td", {}, String(c.pulled)),
            h("td", {}, String(c.round_trips)),
            h("td", {}, c.error ? "error: " + c.error : "ok")))))),
    h("section", { class: "card", "aria-labelledby": "recs-h" },
      h("h2", { id: "recs-h" }, "Records held"),
      h("table", {},
        h("thead", {}, h("tr", {}, ["Community", "Kind", "Records", "Deleted"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, recs.map((r) => h("tr", {}, h("td", {}, r.community), h("td", {}, r.kind), h("td", {}, String(r.records)), h("td", {}, String(r.tombstones))))))),
  );
};

// Sections filled in as the node's API grows register themselves here.
function placeholder(title) {
  return async () => show(h("h1", {}, title), h("p", {}, "Not available in this version."));
}
for (const [v, title] of [["find", "Find a mentor"], ["pairings", "Pairings"], ["resources", "Resources"], ["communities", "Communities"], ["stats", "Statistics"]]) {
  if (!views[v]) views[v] = placeholder(title);
}

// ---------- routing and live updates ----------

async function render() {
  const name = (location.hash.replace(/^#\/?/, "").split("/")[0]) || (state.me === null ? "profile" : "find");
  const view = views[name] ? name : "profile";
  state.view = view;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    await views[view](location.hash.split("/").slice(2));
  } catch (e) {
    show(h("h1", {}, "Something went wrong"), h("p", { role: "alert" }, e.message));
  }
}

// refresh re-renders the current view soon, once per burst of events, and
// not while the user is typing in a form.
function refresh() {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    const active = document.activeElement;
    if (active && active.closest && active.closest("form")) {
      refresh(); // the user is typing: try again later
      return;
    }
    render();
  }, 300);
}

function subscribe() {
  const live = document.getElementById("live");
  const es = new EventSource("/api/v1/events");
  es.onopen = () => { live.textContent = "● live"; live.className = "live on"; };
  es.onerror = () => { live.textContent = "○ reconnecting"; live.className = "live"; };
  for (const type of ["record", "peer", "sync"]) {
    es.addEventListener(type, (ev) => {
      let e = null;
      try { e = JSON.parse(ev.data); } catch { return; }
      document.dispatchEvent(new CustomEvent("mm-event", { detail: e }));
      refresh();
    });
  }
}

async function start() {
  try {
    const s = await api("GET", "/api/v1/session");
    state.csrf = s.csrf_token;
  } catch (e) {
    document.getElementById("nav").hidden = true;
    show(h("h1", {}, "Log in to your node"),
      h("p", {}, "This page needs a login link from your node. In a terminal, run:"),
      h("pre", {}, "mentormesh open"),
      h("p", {}, "and open the link it prints. (", e.message, ")"));
    return;
  }
  try { state.me = await api("GET", "/api/v1/profiles/self"); } catch { state.me = null; }
  window.addEventListener("hashchange", render);
  await render();
  subscribe();
}

document.addEventListener("DOMContentLoaded", start);
