// mentormesh page. Plain JavaScript, no build step, no network beyond the
// node's own API. Every piece of text that comes from the network is put in
// the page with textContent (never innerHTML), so a hostile profile or
// resource cannot inject markup.
"use strict";

const state = { me: null, view: "", reload: null, timer: 0, events: null, retry: 0 };

// ---------- DOM helpers ----------

// h builds an element: h("p", {class: "x"}, "text", child, ...).
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "style") el.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike a style attribute
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
  main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
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

// The session key. The login link's redirect brings it in the address's
// fragment (#session=KEY), which is sent to no server; the page keeps it in
// localStorage, which belongs to this origin (port included), unlike the
// cookie, which the browser sends to every port of the host. The node wants
// both on every request.
const keyName = "mentormesh.session";

function sessionKey() {
  try { return localStorage.getItem(keyName) || ""; } catch { return ""; }
}

// takeKeyFromURL stores a key the address brings and removes it from the
// address bar (and the history entry).
function takeKeyFromURL() {
  const m = /^#session=([0-9a-f]{64})$/.exec(location.hash);
  if (!m) return;
  try { localStorage.setItem(keyName, m[1]); } catch { /* storage off: the login state explains */ }
  history.replaceState(null, "", location.pathname + location.search);
}

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: { "X-Mentormesh-Session": sessionKey() } };
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
  show(h("h1", {}, p ? "My profile" : "Create your profile"), intro, p ? h("section", { class: "card" }, profileSummary(p)) : null, form);
};

const experienceLevels = [["", "not said"], ["new", "new to sociocracy"], ["practising", "practising"], ["experienced", "experienced"], ["trainer", "trainer"]];

function profileFields(p) {
  const roles = p.roles || [];
  const check = (name, value, label, checked) => h("label", { class: "check" },
    h("input", { type: "checkbox", name, value, checked }), " ", label);
  return [
    field("Display name", input("name", p.name, { required: true, maxlength: 80, autocomplete: "name" })),
    h("div", { class: "row" },
      field("Pronouns", input("pronouns", p.pronouns, { maxlength: 40 })),
      field("Languages", input("languages", (p.languages || []).join(", ")), "ISO codes, e.g. en, de"),
      field("Time zone", input("time_zone", p.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone || ""), "e.g. Europe/Berlin or UTC+01:00")),
    field("Bio", textarea("bio", p.bio, { maxlength: 2000 })),
    field("Skills", input("skills", (p.skills || []).join(", ")), "Comma-separated, e.g. facilitation, consent decision-making"),
    field("Interests", input("interests", (p.interests || []).join(", ")), "What you want to learn, comma-separated"),
    h("div", { class: "row" },
      field("Experience", select("experience", experienceLevels, p.experience || "")),
      field("Location (optional, coarse)", input("location", p.location, { maxlength: 80 }))),
    h("fieldset", {}, h("legend", {}, "I offer to be a"),
      check("roles", "mentor", "mentor", roles.includes("mentor")), " ",
      check("roles", "mentee", "mentee", roles.includes("mentee")), " ",
      check("roles", "peer", "peer", roles.includes("peer"))),
    h("div", { class: "row" },
      field("Mentoring capacity (mentees at once)", input("capacity", String(p.capacity || 0), { type: "number", min: 0, max: 50 })),
      field("Hours per month", input("hours_per_month", String(p.hours_per_month || 0), { type: "number", min: 0, max: 200 })),
      field("Availability", select("availability", [["open", "open to requests"], ["closed", "closed for now"]], p.availability || "open"))),
    field("Links", input("links", (p.links || []).join(" ")), "Up to 5 http(s) addresses, separated by spaces"),
  ];
}

function profileBody(fd) {
  return {
    name: fd.get("name"), bio: fd.get("bio"), pronouns: fd.get("pronouns"),
    skills: list(fd.get("skills")), interests: list(fd.get("interests")), languages: list(fd.get("languages")),
    time_zone: fd.get("time_zone"), location: fd.get("location"), experience: fd.get("experience"),
    roles: fd.getAll("roles"), capacity: Number(fd.get("capacity")) || 0,
    hours_per_month: Number(fd.get("hours_per_month")) || 0, availability: fd.get("availability"),
    links: String(fd.get("links") || "").split(/\s+/).filter(Boolean),
  };
}

function profileSummary(p) {
  const m = p.mentorships || {};
  return h("dl", {},
    p.pronouns ? [h("dt", {}, "Pronouns"), h("dd", {}, p.pronouns)] : null,
    (p.languages || []).length ? [h("dt", {}, "Languages"), h("dd", {}, p.languages.join(", "))] : null,
    p.time_zone ? [h("dt", {}, "Time zone"), h("dd", {}, p.time_zone)] : null,
    (p.skills || []).length ? [h("dt", {}, "Skills"), h("dd", {}, p.skills.map((t) => h("span", { class: "tag" }, t)))] : null,
    (p.roles || []).length ? [h("dt", {}, "Roles"), h("dd", {}, p.roles.join(", "))] : null,
    [h("dt", {}, "Mentorships"), h("dd", {}, `${m.completed_as_mentor || 0} completed as mentor` +
      (m.ratings ? `, average rating ${m.average_rating.toFixed(1)} of ${m.ratings}` : "") +
      ((p.roles || []).includes("mentor") && p.capacity ? ` · ${m.free_places ?? "?"} of ${p.capacity} places free` : ""))]);
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

// ---------- finding a mentor ----------

views.find = async () => {
  const q = state.findQuery || { skill: (state.me && (state.me.interests || []).join(", ")) || "", lang: "", tz: "", experience: "" };
  const params = new URLSearchParams();
  for (const sk of list(q.skill)) params.append("skill", sk);
  for (const l of list(q.lang)) params.append("lang", l);
  if (q.tz) params.set("tz", q.tz);
  if (q.experience) params.set("experience", q.experience);
  params.set("limit", "20");
  let res = null, err = null;
  if (list(q.skill).length) {
    try { res = await api("GET", "/api/v1/mentors?" + params.toString()); } catch (e) { err = e; }
  }
  const form = h("form", { class: "card", role: "search", "aria-label": "Find a mentor", onsubmit: onSubmit(async (fd) => {
    state.findQuery = { skill: fd.get("skill"), lang: fd.get("lang"), tz: fd.get("tz"), experience: fd.get("experience") };
    document.activeElement.blur();
    render();
  }) },
    field("Skills you want to learn", input("skill", q.skill, { required: true }), "Comma-separated, e.g. facilitation, role selection"),
    h("div", { class: "row" },
      field("Languages", input("lang", q.lang), "Default: the languages in your profile"),
      field("Your time zone", input("tz", q.tz), "Default: your profile's"),
      field("At least", select("experience", experienceLevels.map(([v, l]) => [v, v ? l : "any experience"]), q.experience))),
    h("button", { type: "submit" }, "Find mentors"));
  const results = !res ? (err ? h("p", { role: "alert" }, err.message) : h("p", { class: "muted" }, "Enter the skills you want to learn.")) :
    res.mentors.length === 0 ? h("p", {}, `No mentor matches (${res.eligible} mentors with free places considered).`) :
      h("ol", { class: "results" }, res.mentors.map((m) => h("li", { class: "card", "data-mentor": m.peer_id },
        h("div", { class: "row" }, h("h2", {}, m.name), h("span", { class: "score", "aria-label": `score ${m.score}` }, `${Math.round(m.score)} / 100`)),
        h("ul", { class: "reasons" }, m.reasons.map((r) => h("li", {}, r.text))),
        h("button", { type: "button", onclick: () => { state.proposeTo = m.peer_id; location.hash = "#/pairings"; } }, "Ask to mentor me"))));
  const sugg = res && res.suggestions && Object.keys(res.suggestions).length ?
    h("p", { class: "muted" }, "Did you mean: ", Object.entries(res.suggestions).map(([k, v]) => `${k} → ${v.join(", ")}`).join("; ")) : null;
  show(h("h1", {}, "Find a mentor"), form, sugg, results);
};

// ---------- statistics ----------

function bars(entries) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  return h("div", { class: "bars", role: "list" }, entries.map(([label, v]) => [
    h("span", { role: "listitem" }, label),
    h("div", { class: "bar", style: `width:${Math.round(100 * v / max)}%`, "aria-hidden": "true" }),
    h("span", {}, String(v))]));
}

views.stats = async () => {
  const st = await api("GET", "/api/v1/stats");
  const p = st.pairings || {};
  show(h("h1", {}, "Statistics"),
    h("p", { class: "muted" }, `Community ${st.community}, as this node sees it.`),
    h("section", { class: "card", "aria-labelledby": "people-h" }, h("h2", { id: "people-h" }, "Practitioners"),
      bars([["practitioners", st.practitioners], ["mentors", st.mentors], ["with free places", st.mentors_with_free_capacity], ["mentees", st.mentees], ["peers", st.peers]])),
    h("section", { class: "card", "aria-labelledby": "pairs-h" }, h("h2", { id: "pairs-h" }, "Pairings"),
      bars([["pending", p.pending || 0], ["active", p.active], ["completed", p.completed]]),
      h("p", {}, st.ratings ? `Average rating ${st.average_rating} from ${st.ratings} ratings.` : "No ratings yet.")),
    h("section", { class: "card", "aria-labelledby": "res-h" }, h("h2", { id: "res-h" }, "Resources by kind"),
      Object.keys(st.resources || {}).length ? bars(Object.entries(st.resources)) : h("p", {}, "No resources yet.")),
    h("section", { class: "card", "aria-labelledby": "skills-h" }, h("h2", { id: "skills-h" }, "Most common skills"),
      (st.top_skills || []).length ? bars(st.top_skills.map((x) => [x.skill, x.profiles])) : h("p", {}, "No skills yet.")));
};

// ---------- pairings ----------

const stateHelp = {
  pending: "waiting for an answer",
  active: "under way",
  completed: "completed",
  declined: "declined",
  cancelled: "cancelled",
  expired: "expired without an answer",
};

function partnerLabel(p) {
  return p.partner_name || shortID(p.partner || (p.my_role === "mentor" ? p.mentee : p.mentor));
}

function pairingCard(p) {
  const who = p.my_role === "mentor" ? "You mentor " : "Your mentor: ";
  const mine = p.my_role === "mentor" ? p.mentor_side : p.mentee_side;
  const theirs = p.my_role === "mentor" ? p.mentee_side : p.mentor_side;
  const actions = h("div", { class: "row" });
  const act = (name, body) => api("POST", `/api/v1/pairings/${encodeURIComponent(p.id)}/${name}`, body || {});
  for (const a of p.actions || []) {
    if (a === "complete") {
      const form = h("form", { class: "row", "aria-label": "Complete the pairing", onsubmit: onSubmit(async (fd) => {
        await act("complete", { rating: Number(fd.get("rating")) || 0, comment: fd.get("comment") || "" });
        toast("Pairing completed. Thank you for your feedback.", true);
        render();
      }) },
        field("Rating (public)", select("rating", [["0", "no rating"], ["5", "5: excellent"], ["4", "4"], ["3", "3"], ["2", "2"], ["1", "1: poor"]], "0")),
        field("Feedback for your partner (sealed: only the two of you can read it)", input("comment", "", { maxlength: 2000 })),
        h("button", { type: "submit" }, "Complete"));
      actions.append(form);
    } else {
      const label = { accept: "Accept", decline: "Decline", cancel: p.state === "pending" ? "Withdraw" : "End pairing" }[a] || a;
      actions.append(h("button", { type: "button", class: a === "accept" ? "" : "secondary", "data-action": a, onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await act(a);
          toast(`${label}: done.`, true);
          render();
        } catch (e) { toast(e.message); ev.target.disabled = false; }
      } }, label));
    }
  }
  return h("article", { class: "card pairing", "data-pairing": p.id, "data-state": p.state, "aria-label": `Pairing with ${partnerLabel(p)}` },
    h("h2", {}, who, partnerLabel(p)),
    h("p", {}, h("span", { class: "state" }, p.state), " — ", stateHelp[p.state] || "",
      p.state === "pending" && p.expires_at ? ` (until ${fmtTime(p.expires_at)})` : ""),
    p.message ? h("p", {}, h("strong", {}, p.type === "offer" ? "Offer: " : "Request: "), p.message) : null,
    theirs.reason ? h("p", {}, h("strong", {}, "Their reason: "), theirs.reason) : null,
    (p.mentor_side.text_sealed || p.mentee_side.text_sealed) ? h("p", { class: "muted", "data-sealed": "" },
      p.my_role ? "Some text of this pairing cannot be shown here: it opens only on your primary device."
        : "This pairing carries text only its two partners can read.") : null,
    p.state === "completed" ? h("p", { class: "muted" },
      theirs.rating ? `Their rating: ${theirs.rating}/5. ` : "", theirs.comment ? `“${theirs.comment}” ` : "",
      mine.rating ? `Your rating: ${mine.rating}/5.` : "") : null,
    h("p", {}, h("a", { href: `#/pairings/${p.id}` }, "Goals, sessions and notes")),
    actions);
}

views.pairings = async (args) => {
  if (args && args[0]) return views.pairing(args[0]);
  const list = await api("GET", "/api/v1/pairings");
  const open = list.filter((p) => p.state === "pending" || p.state === "active");
  const past = list.filter((p) => !(p.state === "pending" || p.state === "active"));
  const form = h("form", { class: "card", "aria-labelledby": "propose-h", onsubmit: onSubmit(async (fd, f) => {
    const p = await api("POST", "/api/v1/pairings", {
      type: fd.get("type"), peer_id: String(fd.get("peer_id")).trim(), message: fd.get("message") || "" });
    toast(p.type === "request" ? "Request sent." : "Offer sent.", true);
    f.reset();
    render();
  }) },
    h("h2", { id: "propose-h" }, "Ask for a mentor, or offer to mentor"),
    h("div", { class: "row" },
      field("I want to", select("type", [["request", "ask them to mentor me"], ["offer", "offer to mentor them"]], "request")),
      field("Practitioner's peer ID", input("peer_id", state.proposeTo || "", { required: true, class: "mono", autocomplete: "off" }))),
    field("Message or goal for them (sealed: only the two of you can read it)", textarea("message", "", { maxlength: 1000, rows: 2 })),
    h("button", { type: "submit" }, "Send"));
  state.proposeTo = "";
  show(h("h1", {}, "Pairings"),
    open.length ? open.map(pairingCard) : h("p", {}, "No open pairings. Find a mentor, or offer to mentor someone."),
    form,
    past.length ? [h("h2", {}, "Past pairings"), past.map(pairingCard)] : null);
};

views.pairing = async (id) => {
  const p = await api("GET", `/api/v1/pairings/${encodeURIComponent(id)}`);
  show(h("p", {}, h("a", { href: "#/pairings" }, "← All pairings")), pairingCard(p), await pairingItems(p));
};

// pairingItems renders what is private to a pairing, when the node offers it.
async function pairingItems(p) {
  return views.pairingItems ? views.pairingItems(p) : null;
}

// ---------- communities ----------

views.communities = async () => {
  const cl = await api("GET", "/api/v1/communities");
  const row = (c) => h("tr", { "data-community": c.name },
    h("th", { scope: "row" }, c.name, c.default ? h("span", { class: "muted" }, " (default)") : null),
    h("td", {}, String(c.records)),
    h("td", {}, c.joined ? String((c.peers || []).length) : "–"),
    h("td", {}, c.joined ? h("button", { type: "button", class: "secondary", onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await api("DELETE", `/api/v1/communities/${encodeURIComponent(c.name)}`);
        toast(`Left ${c.name}. Its records stay on this node.`, true);
        render();
      } catch (e) { toast(e.message); ev.target.disabled = false; }
    } }, "Leave") : h("button", { type: "button", onclick: () => join(c.name) }, "Join again")));
  async function join(name) {
    const r = await api("POST", "/api/v1/communities", { name });
    toast(r.changed ? `Joined ${r.community}.` : `Already in ${r.community}.`, true);
    render();
  }
  const table = (rows) => h("table", {},
    h("thead", {}, h("tr", {}, ["Community", "Records", "Peers", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map(row)));
  show(h("h1", {}, "Communities"),
    h("p", {}, "Each community is its own network of records. Your node replicates the communities it has joined."),
    h("section", { class: "card", "aria-labelledby": "joined-h" }, h("h2", { id: "joined-h" }, "Joined"), table(cl.communities)),
    (cl.left || []).length ? h("section", { class: "card", "aria-labelledby": "left-h" }, h("h2", { id: "left-h" }, "Left (records kept)"), table(cl.left)) : null,
    h("form", { class: "card", "aria-labelledby": "join-h", onsubmit: onSubmit(async (fd, f) => { await join(String(fd.get("name")).trim()); f.reset(); }) },
      h("h2", { id: "join-h" }, "Join a community"),
      field("Name", input("name", "", { required: true, maxlength: 64, pattern: "[a-z0-9][a-z0-9._-]*", autocomplete: "off" }),
        "Lowercase letters, digits and . _ - (for example: sociocracy, sociocracy-nl)"),
      h("button", { type: "submit" }, "Join")));
};

// ---------- resources ----------

const resourceTypes = [["article", "Article"], ["video", "Video"], ["book", "Book or manual"], ["guide", "Guide"],
  ["case-study", "Case study"], ["event", "Event"], ["template", "Template"]];

function resourceCard(r) {
  const endorse = h("button", { type: "button", class: r.endorsed_by_me ? "secondary" : "", "data-action": r.endorsed_by_me ? "unendorse" : "endorse",
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await api(r.endorsed_by_me ? "DELETE" : "POST", `/api/v1/resources/${encodeURIComponent(r.id)}/endorsement`, r.endorsed_by_me ? undefined : {});
        render();
      } catch (e) { toast(e.message); ev.target.disabled = false; }
    } }, r.endorsed_by_me ? "Withdraw endorsement" : "Endorse");
  const mine = state.me && r.author === state.me.peer_id;
  return h("article", { class: "card resource", "data-resource": r.id },
    h("h2", {}, r.url ? h("a", { href: r.url, rel: "noopener noreferrer", target: "_blank" }, r.title) : r.title),
    h("p", { class: "muted" }, (resourceTypes.find(([v]) => v === r.type) || [r.type, r.type])[1],
      r.language ? ` · ${r.language}` : "", " · shared by ", r.author_name || shortID(r.author),
      ` · ${r.endorsements} endorsement${r.endorsements === 1 ? "" : "s"}`),
    r.type === "event" && r.starts_at ? h("p", {}, "When: ", fmtTime(r.starts_at), r.ends_at ? " – " + fmtTime(r.ends_at) : "",
      r.place ? ` · ${r.place}` : "", r.link ? [" · ", h("a", { href: r.link, rel: "noopener noreferrer", target: "_blank" }, "online link")] : null) : null,
    r.description ? h("p", {}, r.description) : null,
    r.text ? h("p", { class: "pre" }, r.text) : null,
    (r.tags || []).length ? h("p", {}, r.tags.map((t) => h("span", { class: "tag" }, t))) : null,
    h("div", { class: "row" }, mine ? h("button", { type: "button", class: "danger", onclick: async (ev) => {
      if (!confirm(`Delete “${r.title}”? Other nodes delete it too.`)) return;
      ev.target.disabled = true;
      try { await api("DELETE", `/api/v1/resources/${encodeURIComponent(r.id)}`); render(); } catch (e) { toast(e.message); ev.target.disabled = false; }
    } }, "Delete") : endorse));
}

views.resources = async () => {
  const q = state.resourceQuery || {};
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) params.set(k, v);
  params.set("limit", "50");
  const res = await api("GET", "/api/v1/resources?" + params.toString());
  const search = h("form", { class: "card", role: "search", "aria-label": "Search resources", onsubmit: onSubmit(async (fd) => {
    state.resourceQuery = { q: fd.get("q"), type: fd.get("type"), tag: fd.get("tag"), lang: fd.get("lang") };
    document.activeElement.blur();
    render();
  }) },
    h("div", { class: "row" },
      field("Search", input("q", q.q, { type: "search", placeholder: "consent, facilitation…" })),
      field("Type", select("type", [["", "any"], ...resourceTypes], q.type || "")),
      field("Tag", input("tag", q.tag)),
      field("Language", input("lang", q.lang, { size: 4, placeholder: "en" })),
      h("button", { type: "submit" }, "Search")));
  const add = h("details", { class: "card" },
    h("summary", {}, "Share a resource"),
    h("form", { "aria-label": "Share a resource", onsubmit: onSubmit(async (fd, f) => {
      const body = { type: fd.get("type"), title: fd.get("title"), tags: list(fd.get("tags")) };
      for (const k of ["url", "text", "description", "language", "place", "link"]) if (fd.get(k)) body[k] = fd.get(k);
      for (const k of ["starts_at", "ends_at"]) if (fd.get(k)) body[k] = new Date(fd.get(k)).toISOString();
      await api("POST", "/api/v1/resources", body);
      toast("Shared with your community.", true);
      f.reset();
      render();
    }) },
      h("div", { class: "row" },
        field("Type", select("type", resourceTypes, "guide")),
        field("Title", input("title", "", { required: true, maxlength: 200 }))),
      field("Link (URL)", input("url", "", { type: "url", maxlength: 2048 })),
      field("Short text", textarea("text", "", { maxlength: 4000, rows: 3 }), "A resource needs a link or a text."),
      field("Description", textarea("description", "", { maxlength: 2000, rows: 2 })),
      h("div", { class: "row" },
        field("Tags", input("tags", ""), "Comma-separated"),
        field("Language", input("language", "", { size: 4, placeholder: "en" }))),
      h("fieldset", {}, h("legend", {}, "For events"),
        h("div", { class: "row" },
          field("Starts", input("starts_at", "", { type: "datetime-local" })),
          field("Ends", input("ends_at", "", { type: "datetime-local" }))),
        h("div", { class: "row" },
          field("Place", input("place", "", { maxlength: 200 })),
          field("Online link", input("link", "", { type: "url" })))),
      h("button", { type: "submit" }, "Share")));
  show(h("h1", {}, "Resources"), search, add,
    h("p", { class: "muted", role: "status" }, `${res.total} resource${res.total === 1 ? "" : "s"}`),
    res.resources.map(resourceCard));
};

// ---------- inside a pairing (sealed to the two partners) ----------

views.pairingItems = async (p) => {
  if (!p.my_role) return null; // not a party: nothing readable
  const base = `/api/v1/pairings/${encodeURIComponent(p.id)}`;
  const items = await api("GET", base + "/items");
  const writable = p.state === "active";
  const by = (it) => it.mine ? "you" : (p.partner_name || "your partner");
  const post = (path, body, method) => api(method || "POST", base + path, body);
  const goals = h("section", { class: "card", "aria-labelledby": "goals-h" },
    h("h2", { id: "goals-h" }, "Goals"),
    items.goals.length === 0 ? h("p", { class: "muted" }, "No goals yet.") :
      h("ul", {}, items.goals.map((g) => h("li", { "data-goal": g.id },
        h("strong", {}, g.title), ` — ${g.status}`, g.due ? `, due ${new Date(g.due).toLocaleDateString()}` : "", ` (by ${by(g)})`,
        g.mine && g.status !== "done" && (p.state === "active" || p.state === "completed") ? [" ", h("button", { type: "button", class: "secondary", onclick: async (ev) => {
          ev.target.disabled = true;
          try { await post(`/goals/${encodeURIComponent(g.id)}`, { status: "done" }, "PUT"); render(); } catch (e) { toast(e.message); ev.target.disabled = false; }
        } }, "Mark done")] : null))),
    writable ? h("form", { class: "row", "aria-label": "Add a goal", onsubmit: onSubmit(async (fd, f) => {
      await post("/goals", { title: fd.get("title") }); f.reset(); render();
    }) }, field("New goal", input("title", "", { required: true, maxlength: 200 })), h("button", { type: "submit" }, "Add goal")) : null);
  const sessions = h("section", { class: "card", "aria-labelledby": "sessions-h" },
    h("h2", { id: "sessions-h" }, "Session log"),
    items.sessions.length === 0 ? h("p", { class: "muted" }, "No sessions logged yet.") :
      h("table", {}, h("thead", {}, h("tr", {}, ["Date", "Minutes", "Notes", "By"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, items.sessions.map((x) => h("tr", {}, h("td", {}, new Date(x.date).toLocaleDateString()),
          h("td", {}, String(x.duration_minutes)), h("td", { class: "pre" }, x.text || ""), h("td", {}, by(x)))))),
    writable ? h("form", { "aria-label": "Log a session", onsubmit: onSubmit(async (fd, f) => {
      await post("/sessions", { date: new Date(fd.get("date")).toISOString(), duration_minutes: Number(fd.get("minutes")), notes: fd.get("notes") || "" });
      f.reset(); render();
    }) }, h("div", { class: "row" },
      field("Date", input("date", new Date().toISOString().slice(0, 10), { type: "date", required: true })),
      field("Minutes", input("minutes", "60", { type: "number", min: 1, max: 1440, required: true }))),
    field("Notes", textarea("notes", "", { maxlength: 4000, rows: 2 })), h("button", { type: "submit" }, "Log session")) : null);
  const notes = h("section", { class: "card", "aria-labelledby": "notes-h" },
    h("h2", { id: "notes-h" }, "Private notes"),
    h("p", { class: "muted" }, "Encrypted to the two of you: other nodes relay them but cannot read them."),
    items.notes.map((n) => h("blockquote", { class: "pre" }, n.text, h("footer", { class: "muted" }, `— ${by(n)}, ${fmtTime(n.updated_at)}`))),
    writable ? h("form", { "aria-label": "Add a note", onsubmit: onSubmit(async (fd, f) => {
      await post("/notes", { text: fd.get("text") }); f.reset(); render();
    }) }, field("New note", textarea("text", "", { required: true, maxlength: 4000, rows: 2 })), h("button", { type: "submit" }, "Add note")) : null);
  const contacts = h("section", { class: "card", "aria-labelledby": "contact-h" },
    h("h2", { id: "contact-h" }, "Contact details"),
    items.contacts.map((c) => h("p", {}, h("strong", {}, by(c) + ": "), c.text)),
    p.state === "active" || p.state === "completed" ? h("form", { class: "row", "aria-label": "Share your contact details", onsubmit: onSubmit(async (fd) => {
      await post("/contact", { text: fd.get("text") }, "PUT"); render();
    }) }, field("Your contact details (only your partner sees them)", input("text", (items.contacts.find((c) => c.mine) || {}).text || "", { required: true, maxlength: 500 })),
      h("button", { type: "submit" }, "Share")) : h("p", { class: "muted" }, "Contact details can be shared once the pairing is accepted."));
  return [goals, sessions, notes, contacts];
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

// subscribe opens the event stream. EventSource cannot send the key
// header, so each connection uses a one-time ticket; when the stream ends
// the page takes a new ticket, reconnects and re-renders what it missed.
async function subscribe() {
  const live = document.getElementById("live");
  let ticket;
  try {
    ticket = (await api("POST", "/api/v1/events/tickets")).ticket;
  } catch (e) {
    if (e.status === 401) { showLogin(e.message); return; }
    reconnect();
    return;
  }
  const es = new EventSource("/api/v1/events?ticket=" + encodeURIComponent(ticket));
  state.events = es;
  es.onopen = () => {
    live.textContent = "● live"; live.className = "live on";
    if (state.retry > 0) refresh(); // events may have been missed
    state.retry = 0;
  };
  // A ticket works once: the browser's own reconnection would be refused.
  es.onerror = () => { es.close(); reconnect(); };
  for (const type of ["record", "peer", "sync"]) {
    es.addEventListener(type, (ev) => {
      let e = null;
      try { e = JSON.parse(ev.data); } catch { return; }
      document.dispatchEvent(new CustomEvent("mm-event", { detail: e }));
      refresh();
    });
  }
}

function reconnect() {
  const live = document.getElementById("live");
  live.textContent = "○ reconnecting"; live.className = "live";
  state.retry++;
  setTimeout(subscribe, Math.min(30000, 1000 * 2 ** Math.min(state.retry - 1, 5)));
}

function showLogin(why) {
  if (state.events) state.events.close();
  document.getElementById("nav").hidden = true;
  document.getElementById("live").textContent = "";
  show(h("h1", {}, "Log in to your node"),
    h("p", {}, "This page needs a login link from your node. In a terminal, run:"),
    h("pre", {}, "mentormesh open"),
    h("p", {}, "and open the link it prints. (", why, ")"));
}

async function start() {
  takeKeyFromURL();
  if (!sessionKey()) {
    showLogin("this browser has no session with the node");
    return;
  }
  try {
    await api("GET", "/api/v1/session");
  } catch (e) {
    showLogin(e.message);
    return;
  }
  try { state.me = await api("GET", "/api/v1/profiles/self"); } catch { state.me = null; }
  window.addEventListener("hashchange", render);
  await render();
  subscribe();
}

document.addEventListener("DOMContentLoaded", start);
