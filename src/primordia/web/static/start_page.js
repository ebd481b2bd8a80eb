// The start page: a form built from GET /v1/worlds (each world's brains and knobs with
// their defaults and bounds, so a new world needs no client change), the sessions the
// server holds, and the recorded runs it can replay.

import { del, get, post, setToken, token } from "./api.js";
import { listRuns } from "./replay.js";

const $ = (id) => document.getElementById(id);
let worlds = [];

export async function showStart() {
  $("token").value = token();
  // a server started with --token answers every /v1 route only with it: ask, then retry
  $("token").onchange = () => { setToken($("token").value.trim()); showStart().catch(shown); };
  let w;
  try {
    w = await get("/v1/worlds");
  } catch (e) {
    if (e.status !== 401) throw e;
    const status = $("status");
    status.textContent = token() ? "The server refused this token: enter the one it was started with."
      : "This server needs a token: enter the one it was started with (field above).";
    status.classList.add("bad");
    $("token").focus();
    return;
  }
  $("status").textContent = "";
  $("status").classList.remove("bad");
  worlds = w.worlds;
  const sel = $("world-select");
  const keep = sel.value;
  sel.replaceChildren(...worlds.map((x) => new Option(x.name, x.name)));
  if (keep && worlds.some((x) => x.name === keep)) sel.value = keep;
  sel.onchange = () => buildForm();
  buildForm();
  $("new-session").onsubmit = (ev) => { ev.preventDefault(); create(); };
  await Promise.all([listSessions(), showRuns()]);
}

function shown(e) {
  $("status").textContent = e.message;
  $("status").classList.add("bad");
}

function world() {
  return worlds.find((x) => x.name === $("world-select").value);
}

function buildForm() {
  const w = world();
  $("world-doc").textContent = w.doc;
  $("brain-select").replaceChildren(...w.brains.map((b) => new Option(b, b)));
  $("brain-select").value = w.default_brain;
  $("brain-select").onchange = () => buildKnobs();
  const seed = w.knobs.find((k) => k.name === "seed");
  $("seed").value = String(seed ? seed.default : 1);
  buildKnobs();
}

/** The knobs of the world, then those of the chosen brain (its [brain] table). */
function knobs() {
  const w = world();
  const brain = (w.brain_knobs || {})[$("brain-select").value] || [];
  return [...w.knobs.map((k) => ({ ...k, id: k.name })),
          ...brain.map((k) => ({ ...k, id: `brain-${k.name}`, brain: true }))];
}

function buildKnobs() {
  const box = $("knobs");
  box.replaceChildren();
  for (const k of knobs()) {
    if (k.id === "seed") continue;
    const label = document.createElement("label");
    label.className = "knob";
    label.title = k.description;
    const name = document.createElement("span");
    name.textContent = (k.brain ? `${$("brain-select").value} · ` : "") + k.name.replaceAll("_", " ");
    let input;
    if (k.type === "choice") {
      input = document.createElement("select");
      input.append(...k.choices.map((c) => new Option(String(c), String(c))));
      input.value = String(k.default);
    } else if (k.type === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = Boolean(k.default);
    } else {
      input = document.createElement("input");
      input.type = k.type === "string" ? "text" : "number";
      if (k.type === "integer") input.step = "1";
      if (k.type === "number") input.step = "any";
      if (k.minimum !== undefined) input.min = String(k.minimum);
      if (k.maximum !== undefined) input.max = String(k.maximum);
      input.value = String(k.default);
    }
    input.id = `knob-${k.id}`;
    input.dataset.knob = k.id;
    const help = document.createElement("small");
    help.textContent = k.description;
    label.append(name, input, help);
    box.append(label);
  }
}

/** The knobs the user changed, typed as the server expects (the rest keep defaults); the
 * brain's go in config.brain. */
function config() {
  const out = {};
  const brain = {};
  for (const k of knobs()) {
    const input = document.getElementById(`knob-${k.id}`);
    if (!input) continue;
    let v;
    if (k.type === "boolean") v = input.checked;
    else if (k.type === "integer") v = parseInt(input.value, 10);
    else if (k.type === "number") v = parseFloat(input.value);
    else if (k.type === "choice") v = k.choices.find((c) => String(c) === input.value);
    else v = input.value;
    if (v !== k.default && !(typeof v === "number" && Number.isNaN(v))) (k.brain ? brain : out)[k.name] = v;
  }
  if (Object.keys(brain).length) out.brain = { kind: $("brain-select").value, ...brain };
  return out;
}

async function create() {
  const msg = $("create-error");
  msg.textContent = "";
  $("create").disabled = true;
  try {
    const body = { world: world().name, brain: $("brain-select").value, config: config() };
    const seed = parseInt($("seed").value, 10);
    if (!Number.isNaN(seed)) body.seed = seed;
    const made = await post("/v1/sessions", body);
    location.hash = `#/session/${made.metadata.id}`;
  } catch (e) {
    msg.textContent = e.message;
    if (e.field) document.getElementById(`knob-${e.field.replace(/^config\./, "").replace(/^brain\.(\w+\.)?/, "brain-")}`)?.focus();
  } finally {
    $("create").disabled = false;
  }
}

async function listSessions() {
  const ul = $("sessions");
  const { sessions } = await get("/v1/sessions");
  ul.replaceChildren();
  if (!sessions.length) {
    ul.append(Object.assign(document.createElement("li"), { className: "muted", textContent: "None yet." }));
  }
  for (const s of sessions) {
    const m = s.metadata;
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `#/session/${m.id}`;
    a.textContent = `${m.world} · ${m.brain} · seed ${m.config.seed}`;
    const info = document.createElement("span");
    info.className = "muted";
    info.textContent = ` turn ${s.turn}${s.playing ? " · playing" : ""}`;
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.className = "small";
    remove.onclick = async () => { await del(`/v1/sessions/${m.id}`); listSessions(); };
    li.append(a, info, remove);
    ul.append(li);
  }
}

async function showRuns() {
  const ul = $("runs");
  const { enabled, runs } = await listRuns();
  ul.replaceChildren();
  const note = (text) => ul.append(Object.assign(document.createElement("li"), { className: "muted", textContent: text }));
  if (!enabled) return note("Start the server with --runs DIR to replay recorded runs.");
  if (!runs.length) return note("No recorded runs under the runs folder yet (primordia run hex|sandbox --out DIR).");
  for (const r of runs) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `#/replay/${r.name.split("/").map(encodeURIComponent).join("/")}`;
    a.textContent = r.name;
    const info = document.createElement("span");
    info.className = "muted";
    info.textContent = ` ${r.world ?? "unknown world"} · ${(r.recording_bytes / 1024).toFixed(0)} KB`;
    li.append(a, info);
    ul.append(li);
  }
}
