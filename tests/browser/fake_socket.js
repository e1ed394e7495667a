// A stand-in for the browser's WebSocket that a test drives by hand: open it, deliver frames, close
// it with any code. warden.js takes it through its `WebSocket` option.

export class FakeSocket extends EventTarget {
  static all = [];

  constructor(url, protocols) {
    super();
    Object.assign(this, { url, protocols, readyState: 0, sent: [] });
    FakeSocket.all.push(this);
  }

  static last() {
    return FakeSocket.all.at(-1);
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(text);
  }

  close(code = 1000) {
    this.readyState = 3;
    this.closedWith = code;
  }

  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  receive(frame) {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    this.dispatchEvent(new MessageEvent("message", { data }));
  }

  /** The server closes: warden's frame first when given, then the close event. */
  drop(code, frame = null) {
    if (frame) this.receive({ type: "warden.disconnect", code, ...frame });
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent("close", { code, reason: frame?.reason ?? "" }));
  }
}

/** Every event a WardenSocket dispatches, as {type, detail}. */
export function record(socket) {
  const events = [];
  for (const type of ["status", "message", "refreshed", "disconnect", "denied", "left"]) {
    socket.addEventListener(type, (event) => events.push({ type, detail: event.detail }));
  }
  return events;
}

export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `predicate()` is true; rejects after `ms`. */
export async function until(predicate, ms = 3000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${predicate}`);
    await tick(5);
  }
}

/** A JWT-shaped token (unsigned) whose exp claim is `exp` seconds. */
export function fakeJwt(exp) {
  const part = (object) => btoa(JSON.stringify(object)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ exp, user_id: 1 })}.signature`;
}
