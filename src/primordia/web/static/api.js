// The server's wire: REST calls unwrap the {protocol_version, payload} envelope, refusals
// become ApiError with the field the server named; the stream dispatches {type, data}.

export const PROTOCOL_VERSION = 2;
const TOKEN_KEY = "primordia.token";

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

export async function request(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token()) headers["Authorization"] = `Bearer ${token()}`;
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json = null;
  try {
    json = await res.json();
  } catch (_) {
    throw new ApiError(res.status, "bad_reply", `${method} ${path}: ${res.status} ${res.statusText}`);
  }
  if (!res.ok) {
    const e = json.error || {};
    throw new ApiError(res.status, e.code || "error", e.message || res.statusText, e.field);
  }
  return json.payload;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body ?? {});
export const del = (path) => request("DELETE", path);

/** A session's WebSocket stream: handlers[type](data) for each server message. */
export class Stream {
  constructor(sessionId, handlers) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const q = token() ? `?token=${encodeURIComponent(token())}` : "";
    this.handlers = handlers;
    this.open = new Promise((resolve, reject) => {
      this.ws = new WebSocket(`${scheme}://${location.host}/v1/sessions/${sessionId}/stream${q}`);
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error("the stream could not connect"));
    });
    this.ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      const { type, data } = msg.payload ?? msg;
      const handler = this.handlers[type];
      if (handler) handler(data);
    };
    this.ws.onclose = (ev) => this.handlers.closed?.(ev.code);
  }

  send(type, data) {
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ protocol_version: PROTOCOL_VERSION, payload: { type, data } }));
    }
  }

  close() {
    this.ws.onclose = null;
    this.ws.close();
  }
}
