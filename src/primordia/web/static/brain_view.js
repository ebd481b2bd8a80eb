// The focused organism's brain as FocusBrain carries it: a neural net drawn as a diagram
// (sensory, inter and action neurons in columns, synapses as edges coloured by sign and
// thick by weight, neurons filled by their live activation), a micro-PSIL program as its
// disassembly with the current pc highlighted, a Mycos network as its bits (on: filled) over
// its readable form, a wasm IR program as its listing with how often its next step runs each
// instruction (the last one highlighted), or any other substrate's text form.

import { activationColor } from "./palette.js";
import { prepare } from "./charts.js";

const COLUMNS = { sensory: 0.24, inter: 0.47, action: 0.68 };

export class BrainView {
  constructor(container) {
    this.container = container;
    this.kind = null;
    this.codeKey = "";
  }

  clear(text = "") {
    this.container.replaceChildren();
    this.kind = null;
    this.codeKey = "";
    if (text) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = text;
      this.container.append(p);
    }
  }

  update(brain) {
    if (!brain) { this.clear("No brain in this view."); return; }
    if (brain.kind === "neural") this._neural(brain);
    else if (brain.kind === "psil") this._psil(brain);
    else if (brain.kind === "mycos") this._mycos(brain);
    else if (brain.kind === "wasm" && !brain.module) this._wasm(brain);
    else this._text(brain);
  }

  _neural(brain) {
    if (this.kind !== "neural") {
      this.clear();
      this.kind = "neural";
      this.canvas = document.createElement("canvas");
      this.canvas.className = "brain-net";
      this.container.append(this.canvas);
    }
    const { ctx, w, h } = prepare(this.canvas);
    const pos = new Map();
    for (const kind of Object.keys(COLUMNS)) {
      const col = brain.neurons.filter((n) => n.kind === kind);
      col.forEach((n, i) => pos.set(n.id, [COLUMNS[kind] * w, ((i + 1) / (col.length + 1)) * h]));
    }
    for (const s of brain.synapses) {
      const p = pos.get(s.pre), q = pos.get(s.post);
      if (!p || !q) continue;
      const mag = Math.min(1, Math.abs(s.weight) / 4);
      ctx.strokeStyle = s.weight >= 0 ? `rgba(110, 210, 140, ${0.35 + 0.6 * mag})`
        : `rgba(240, 110, 110, ${0.35 + 0.6 * mag})`;
      ctx.lineWidth = 0.75 + 3 * mag;
      ctx.beginPath();
      if (s.pre === s.post) {
        ctx.arc(p[0], p[1] - 14, 8, 0, 2 * Math.PI);
      } else {
        ctx.moveTo(p[0], p[1]);
        const mx = (p[0] + q[0]) / 2, my = (p[1] + q[1]) / 2 - (p[0] === q[0] ? 0 : 12);
        ctx.quadraticCurveTo(mx + (p[0] === q[0] ? 30 : 0), my, q[0], q[1]);
      }
      ctx.stroke();
    }
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const n of brain.neurons) {
      const [x, y] = pos.get(n.id);
      ctx.fillStyle = activationColor(n.activation);
      ctx.strokeStyle = "#c9d1d9";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(x, y, 9, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = "#c9d1d9";
      if (n.kind === "sensory") { ctx.textAlign = "right"; ctx.fillText(n.name, x - 13, y); }
      else if (n.kind === "action") { ctx.textAlign = "left"; ctx.fillText(n.name, x + 13, y); }
      else { ctx.textAlign = "center"; ctx.fillText(n.name, x, y - 17); }
    }
    this.canvas.dataset.neurons = String(brain.neurons.length);
    this.canvas.dataset.synapses = String(brain.synapses.length);
  }

  _psil(brain) {
    const key = brain.lines.map((l) => l.bytes).join(",");
    if (this.kind !== "psil" || key !== this.codeKey) {
      this.clear();
      this.kind = "psil";
      this.codeKey = key;
      this.head = document.createElement("div");
      this.head.className = "psil-head";
      this.list = document.createElement("ol");
      this.list.className = "psil";
      for (const l of brain.lines) {
        const li = document.createElement("li");
        li.dataset.addr = String(l.addr);
        li.innerHTML = `<span class="addr">${String(l.addr).padStart(4, "0")}</span>` +
          `<span class="bytes">${l.bytes}</span><span class="op"></span>`;
        li.lastChild.textContent = l.text;
        this.list.append(li);
      }
      this.container.append(this.head, this.list);
    }
    this.head.textContent = `pc ${brain.pc} · ${brain.status} · ${brain.code_bytes} bytes · ` +
      `stack [${brain.stack.join(" ")}]`;
    let at = null;
    for (const li of this.list.children) {
      li.classList.remove("pc");
      if (Number(li.dataset.addr) <= brain.pc) at = li;
    }
    if (at) {
      at.classList.add("pc");
      const top = at.offsetTop - this.list.offsetTop;
      if (top < this.list.scrollTop || top > this.list.scrollTop + this.list.clientHeight - 20) {
        this.list.scrollTop = Math.max(0, top - this.list.clientHeight / 2);
      }
    }
  }

  _wasm(brain) {
    const key = brain.text;
    if (this.kind !== "wasm" || key !== this.codeKey) {
      this.clear();
      this.kind = "wasm";
      this.codeKey = key;
      this.head = document.createElement("div");
      this.head.className = "psil-head";
      this.io = document.createElement("div");
      this.io.className = "psil-head";
      this.list = document.createElement("ol");
      this.list.className = "psil wasm";
      for (const l of brain.lines) {
        const li = document.createElement("li");
        li.innerHTML = '<span class="addr"></span><span class="op"></span>';
        li.lastChild.textContent = l.text;
        this.list.append(li);
      }
      this.container.append(this.head, this.io, this.list);
    }
    const next = brain.next_halts ? "runs out" : `returns ${brain.next_code}`;
    this.head.textContent = `last step: gas ${brain.gas_used} of ${brain.budget}` +
      `${brain.halted ? " (ran out)" : ""} · next step ${next}`;
    const pairs = (vs) => vs.map((v) => `${v.name} ${v.value}`).join(" · ");
    this.io.textContent = `sensed ${pairs(brain.sensors)} → did ${pairs(brain.actions)}`;
    const items = this.list.children;
    brain.lines.forEach((l, i) => {
      const li = items[i];
      if (!li) return;
      li.firstChild.textContent = l.hits ? `${l.hits}×` : "";
      li.classList.toggle("pc", i === brain.last);
      li.classList.toggle("cold", l.pc >= 0 && !l.hits);
    });
  }

  _mycos(brain) {
    this.clear();
    this.kind = "mycos";
    const head = document.createElement("div");
    head.className = "psil-head";
    head.textContent = `${brain.connections} connections · ${brain.links} links`;
    const rows = document.createElement("pre");
    rows.textContent = brain.chunks.map((c) =>
      `chunk ${c.chunk}  in ${dots(c.inputs)}  int ${dots(c.internals)}  out ${dots(c.outputs)}`
    ).join("\n");
    const text = document.createElement("pre");
    text.textContent = brain.text;
    this.container.append(head, rows, text);
  }

  _text(brain) {
    this.clear();
    this.kind = brain.kind;
    const pre = document.createElement("pre");
    pre.textContent = brain.text || "(no text form)";
    this.container.append(pre);
  }
}

// A bit string ("0101") as dots: on filled, off hollow.
function dots(bits) {
  return bits ? [...bits].map((b) => (b === "1" ? "●" : "○")).join("") : "-";
}
