// warden.js: a browser WebSocket that speaks channels-warden's close codes and control frames.
//
// A dependency-free ES module; no build step. It opens the socket with the credential transport you
// choose, keeps warden.* control frames away from your code, refreshes tokens in-band before they
// end, and reconnects (or stops for good) the way each close code asks. docs/warden-js.md has the
// full reference and examples.
//
//   import { WardenSocket } from "/static/channels_warden/warden.js";
//   const socket = new WardenSocket("/ws/chat/lobby/", { auth: "subprotocol", getToken });
//   socket.addEventListener("message", (event) => show(event.detail));
//   socket.addEventListener("left", (event) => leftRoom(event.detail.group, event.detail.reason));
//   socket.send({ type: "message", text: "hello" });

/** What each warden close code asks of a client (docs/close-codes.md). */
const HINTS = {
  4400: "never", // malformed credential: a client bug
  4401: "refresh", // missing or invalid credentials
  4403: "never", // origin, room or user not allowed
  4404: "never", // no such WebSocket route
  4408: "retry", // first-message auth timed out
  4409: "never", // replaced by a newer socket of the same user
  4429: "backoff", // limit or throttle: wait retry_after
  4498: "refresh", // the credential ended on a live socket
  4499: "never", // revoked: logout, password change...
  4500: "backoff", // the server failed closed
};

/** Sentences for people, by code. `closeMessage` adds the code and reason. */
const MESSAGES = {
  4400: "The server could not read this client's credentials",
  4401: "Not signed in, or the sign-in has expired",
  4403: "Forbidden",
  4404: "No such connection address",
  4408: "Signing in took too long",
  4409: "Replaced by a newer connection",
  4429: "Too many connections",
  4498: "The sign-in has expired",
  4499: "Signed out",
  4500: "The server had a problem",
};
const REVOKED = {
  logout: "Signed out elsewhere",
  password_changed: "Signed out: the password changed",
  user_inactive: "Signed out: the account was deactivated",
  user_deleted: "Signed out: the account was deleted",
  token_deleted: "Signed out: the token was revoked",
  token_blacklisted: "Signed out: the token was revoked",
};

/** "Signed out elsewhere (4499 logout)": a close as a sentence for a person. */
export function closeMessage({ code, reason } = {}) {
  const text = (code === 4499 && REVOKED[reason]) || MESSAGES[code] || "Disconnected";
  return reason ? `${text} (${code} ${reason})` : `${text} (${code})`;
}

/** The reconnect hint for a close: warden's table, then the frame's own hint, then WebSocket's codes. */
export function reconnectHint(code, frame = null) {
  if (HINTS[code]) return HINTS[code];
  if (frame?.reconnect) return frame.reconnect;
  // 1000 normal, 1003/1007/1008/1009 the server refused the data, 4000-4999 the application decided.
  if ([1000, 1003, 1007, 1008, 1009].includes(code) || (code >= 4000 && code < 5000)) return "never";
  return "backoff"; // 1001 going away, 1006 network loss, 1011 server error...
}

/** The `exp` claim of a JWT in seconds, or null when `token` is not a JWT. */
export function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "="))).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}

function socketUrl(url, ticket) {
  const resolved = new URL(url, globalThis.location?.href);
  resolved.protocol = resolved.protocol.replace(/^http/, "ws");
  if (ticket) resolved.searchParams.set("ticket", ticket);
  return resolved.href;
}

function isControl(data) {
  return data !== null && typeof data === "object" && String(data.type).startsWith("warden.");
}

export class WardenSocket extends EventTarget {
  /**
   * @param {string} url ws://, wss://, http(s):// or a path on this page's server.
   * @param {object} options
   *   auth: "cookie" (default) | "subprotocol" | "ticket" | "message";
   *   getToken: async ({refresh}) => access token; `refresh` is true when the current one will not do.
   *     Resolve null when the user must sign in again; throw for a failure worth retrying.
   *   getTicket: async () => a fresh single-use ticket (auth "ticket"); null and throw as above;
   *   scheme: credential scheme, "bearer" (default) or "token";
   *   protocols: your application's subprotocols; refreshAhead: refresh a JWT before its exp (true);
   *   minBackoff, maxBackoff: reconnect delay bounds in ms (500, 30000);
   *   settle: ms a new socket must last, or an application frame it must deliver, to count as open
   *     (200): warden refuses handshakes by accepting and closing at once;
   *   WebSocket: the WebSocket class to use (tests).
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = { auth: "cookie", scheme: "bearer", protocols: [], refreshAhead: true, ...options };
    this.options.settle ??= 200;
    this.options.minBackoff ??= 500;
    this.options.maxBackoff ??= 30000;
    const { auth, getToken, getTicket } = this.options;
    if (!["cookie", "subprotocol", "ticket", "message"].includes(auth)) {
      throw new TypeError(`unknown auth "${auth}"`);
    }
    if ((auth === "subprotocol" || auth === "message") && !getToken) {
      throw new TypeError(`auth "${auth}" needs getToken`);
    }
    if (auth === "ticket" && !getTicket) throw new TypeError('auth "ticket" needs getTicket');
    this.state = "connecting";
    this._queue = []; // application frames waiting for an open socket
    this._attempt = 0; // failed connections in a row: the backoff exponent
    this._socket = null;
    this._timers = {};
    this._connect(false);
  }

  /** Send a string, or an object as JSON. Queued until the socket is open (again). */
  send(data) {
    if (this.state === "closed") throw new Error("WardenSocket is closed");
    const text = typeof data === "string" ? data : JSON.stringify(data);
    if (this.state === "open" && this._socket?.readyState === 1) this._socket.send(text);
    else this._queue.push(text);
  }

  /** How many frames wait for the socket to open. */
  get pending() {
    return this._queue.length;
  }

  /** Close for good; nothing reconnects after this. */
  close(code = 1000, reason = "") {
    if (this.state === "closed") return;
    const socket = this._socket;
    this._stop({ code, reason });
    socket?.close(code, reason);
  }

  // Connecting ---------------------------------------------------------------------------------

  async _connect(refresh) {
    const { auth, scheme, protocols } = this.options;
    const generation = (this._generation = (this._generation ?? 0) + 1);
    let credential = "";
    try {
      if (auth === "ticket") credential = await this.options.getTicket();
      else if (auth !== "cookie") credential = await this.options.getToken({ refresh });
    } catch (error) {
      if (generation === this._generation && this.state !== "closed") {
        this._retry("backoff", { code: 0, reason: `credentials unavailable: ${error?.message ?? error}` });
      }
      return;
    }
    if (generation !== this._generation || this.state === "closed") return;
    if (credential === null || credential === undefined) {
      this._stop({ code: 4401, reason: "signed_out" });
      return;
    }
    this._token = auth === "subprotocol" || auth === "message" ? credential : null;
    const offered = { subprotocol: ["warden", `${scheme}.${credential}`], message: ["warden"] }[auth] ?? [];
    const url = socketUrl(this.url, auth === "ticket" ? credential : null);
    const WebSocketClass = this.options.WebSocket ?? globalThis.WebSocket;
    const socket = (this._socket = new WebSocketClass(url, [...offered, ...protocols]));
    this._frame = null;
    socket.addEventListener("open", () => {
      if (auth === "message") socket.send(JSON.stringify({ type: "warden.auth", token: credential, scheme }));
      // Warden refuses a handshake by accepting it and closing at once: wait a moment before trusting it.
      else this._later("settle", this.options.settle, () => this._opened(null));
    });
    socket.addEventListener("message", (event) => this._receive(socket, event.data));
    socket.addEventListener("close", (event) => this._closed(socket, event));
  }

  _opened(expiresAt) {
    this._clear("settle");
    this._setState("open");
    // After the "open" status, so that the application can rejoin its rooms before the backlog.
    for (const text of this._queue.splice(0)) this._socket.send(text);
    this._scheduleRefresh(expiresAt);
    // The backoff starts over once the socket has proven itself: 5 s open, or an application frame.
    this._later("stable", 5000, () => (this._attempt = 0));
  }

  _receive(socket, data) {
    if (socket !== this._socket) return;
    let parsed = data;
    if (typeof data === "string") {
      try {
        parsed = JSON.parse(data);
      } catch {
        parsed = data;
      }
    }
    if (!isControl(parsed)) {
      this._attempt = 0;
      if (this.state !== "open" && this.options.auth !== "message") this._opened(null); // settled
      this._emit("message", parsed);
      return;
    }
    switch (parsed.type) {
      case "warden.authenticated":
        this._opened(parsed.expires_at);
        break;
      case "warden.expiring":
        this._refresh();
        break;
      case "warden.refreshed":
        this._refreshing = false;
        this._scheduleRefresh(parsed.expires_at);
        this._emit("refreshed", parsed);
        break;
      case "warden.disconnect":
        this._frame = parsed;
        this._emit("disconnect", parsed);
        break;
      // Group policies (docs/groups.md): the socket stays open; only one group is refused or left.
      case "warden.denied":
        this._emit("denied", parsed);
        break;
      case "warden.left":
        this._emit("left", parsed);
        break;
      // Unknown warden.* frames are for newer clients: never the application's.
    }
  }

  _closed(socket, event) {
    if (socket !== this._socket) return;
    this._socket = null;
    this._refreshing = false;
    this._clear("settle", "refresh", "stable");
    if (this.state === "closed") return;
    const frame = this._frame;
    const code = frame?.code ?? event.code;
    const reason = frame?.reason ?? event.reason ?? "";
    const hint = reconnectHint(code, frame);
    const canRefresh = this.options.auth !== "cookie";
    if (hint === "never" || (hint === "refresh" && !canRefresh)) this._stop({ code, reason });
    else this._retry(hint, { code, reason, retryAfter: frame?.retry_after });
  }

  _retry(hint, { code, reason, retryAfter }) {
    const attempt = this._attempt++;
    const { minBackoff, maxBackoff } = this.options;
    const cap = Math.min(maxBackoff, minBackoff * 2 ** attempt);
    let delay = cap / 2 + (Math.random() * cap) / 2; // jittered, so that clients do not return in step
    if (hint !== "backoff" && attempt === 0) delay = 0; // fresh credentials or a retry: go at once
    if (retryAfter) delay = retryAfter * 1000 + Math.random() * minBackoff;
    this._setState("reconnecting", { code, reason, retryIn: Math.round(delay) });
    this._later("reconnect", delay, () => this._connect(hint === "refresh"));
  }

  _stop({ code, reason }) {
    this._clear("settle", "reconnect", "refresh", "stable");
    this._generation = (this._generation ?? 0) + 1; // a credential request in flight is ignored
    this._socket = null;
    this._queue = [];
    this._setState("closed", { code, reason });
  }

  // In-band refresh ----------------------------------------------------------------------------

  /** Refresh `margin` before the credential ends: min(30 s, a quarter of the time left). */
  _scheduleRefresh(expiresAt) {
    this._clear("refresh");
    if (!this.options.refreshAhead || !this.options.getToken || this.options.auth === "cookie") return;
    const end = expiresAt ?? (this._token && tokenExpiry(this._token));
    if (!end) return;
    const left = end * 1000 - Date.now();
    this._later("refresh", Math.max(0, left - Math.min(30000, left / 4)), () => this._refresh());
  }

  async _refresh() {
    if (this._refreshing || !this.options.getToken || this.state !== "open") return;
    const socket = this._socket;
    this._refreshing = true;
    try {
      const token = await this.options.getToken({ refresh: true });
      if (!token || socket !== this._socket || this.state !== "open") {
        this._refreshing = false;
        return;
      }
      this._token = token;
      socket.send(JSON.stringify({ type: "warden.refresh", token, scheme: this.options.scheme }));
    } catch (error) {
      // Try again shortly; if the credential ends first, the 4498 close reconnects with a new one.
      this._refreshing = false;
      console.warn("warden.js: token refresh failed", error);
      if (socket === this._socket) this._later("refresh", 5000, () => this._refresh());
    }
  }

  // Plumbing -----------------------------------------------------------------------------------

  _setState(state, detail = {}) {
    this.state = state;
    this._emit("status", { state, ...detail });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _later(name, delay, callback) {
    clearTimeout(this._timers[name]);
    this._timers[name] = setTimeout(callback, delay);
  }

  _clear(...names) {
    for (const name of names) clearTimeout(this._timers[name]);
  }
}
