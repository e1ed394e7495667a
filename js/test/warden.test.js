// warden.js under Node's test runner (`node --test` from js/): the module's exports, its helpers,
// and WardenSocket driven through a hand-made fake WebSocket. No dependencies, no network.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

// Node 18 has no global CustomEvent; browsers and Node >= 19 do. Only the tests need this.
globalThis.CustomEvent ??= class CustomEvent extends Event {
  constructor(type, options = {}) {
    super(type, options);
    this.detail = options.detail ?? null;
  }
};

const warden = await import("channels-warden");
const { WardenSocket, closeMessage, reconnectHint, tokenExpiry } = warden;

/** A WebSocket stand-in the test opens, feeds and closes by hand. */
class FakeSocket extends EventTarget {
  static all = [];

  constructor(url, protocols) {
    super();
    Object.assign(this, { url, protocols, readyState: 0, sent: [] });
    FakeSocket.all.push(this);
  }

  send(text) {
    assert.equal(this.readyState, 1, "send on a socket that is not open");
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
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }

  drop(code, frame = null) {
    if (frame) this.receive({ type: "warden.disconnect", code, ...frame });
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: frame?.reason ?? "" }));
  }
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

function record(socket) {
  const events = [];
  for (const type of ["status", "message", "refreshed", "disconnect", "denied", "left"]) {
    socket.addEventListener(type, (event) => events.push({ type, detail: event.detail }));
  }
  return events;
}

function make(options) {
  FakeSocket.all.length = 0;
  return new WardenSocket("https://chat.test/ws/chat/lobby/", { WebSocket: FakeSocket, settle: 5, ...options });
}

function jwt(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.signature`;
}

test("the module exports exactly what warden.d.ts declares", () => {
  const declared = [...readFileSync(new URL("../warden.d.ts", import.meta.url), "utf8").matchAll(
    /^export (?:class|function) (\w+)/gm,
  )].map((match) => match[1]);
  assert.deepEqual(Object.keys(warden).sort(), declared.sort());
});

test("package.json points its types and its module at the files it ships", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.exports["."], { types: "./warden.d.ts", default: "./warden.js" });
  assert.deepEqual([pkg.main, pkg.types], ["./warden.js", "./warden.d.ts"]);
  assert.deepEqual(pkg.files.slice(0, 2), ["warden.js", "warden.d.ts"]);
});

test("closeMessage turns a close into a sentence for a person", () => {
  assert.equal(closeMessage({ code: 4499, reason: "logout" }), "Signed out elsewhere (4499 logout)");
  assert.equal(closeMessage({ code: 4403, reason: "forbidden" }), "Forbidden (4403 forbidden)");
  assert.equal(closeMessage({ code: 1006 }), "Disconnected (1006)");
});

test("reconnectHint follows warden's table, then the frame, then WebSocket's codes", () => {
  assert.deepEqual(
    [4401, 4403, 4408, 4429, 4498, 4499, 4500].map((code) => reconnectHint(code)),
    ["refresh", "never", "retry", "backoff", "refresh", "never", "backoff"],
  );
  assert.equal(reconnectHint(4601, { reconnect: "retry" }), "retry");
  assert.deepEqual([1000, 1006, 4000].map((code) => reconnectHint(code)), ["never", "backoff", "never"]);
});

test("tokenExpiry reads a JWT's exp and is null for anything else", () => {
  assert.equal(tokenExpiry(jwt({ exp: 1700000000 })), 1700000000);
  assert.equal(tokenExpiry("0123456789abcdef"), null);
  assert.equal(tokenExpiry(jwt({ sub: "alice" })), null);
});

test("auth subprotocol offers the marker, the token and the app's protocols on a ws:// URL", async () => {
  const socket = make({ auth: "subprotocol", getToken: async () => "abc", protocols: ["chat.v1"] });
  await tick();
  const [fake] = FakeSocket.all;
  assert.deepEqual([fake.url, fake.protocols], ["wss://chat.test/ws/chat/lobby/", ["warden", "bearer.abc", "chat.v1"]]);
  socket.close();
});

test("control frames stay inside; application frames arrive parsed, and queued frames go out on open", async () => {
  const socket = make({ auth: "cookie" });
  const events = record(socket);
  socket.send({ type: "hello" });
  await tick();
  const [fake] = FakeSocket.all;
  fake.open();
  fake.receive({ type: "warden.expiring" });
  fake.receive({ type: "chat.message", text: "hi" });
  assert.equal(socket.state, "open");
  assert.deepEqual(fake.sent, ['{"type":"hello"}']);
  assert.deepEqual(
    events.filter((event) => event.type === "message").map((event) => event.detail),
    [{ type: "chat.message", text: "hi" }],
  );
  socket.close();
});

test("warden.denied and warden.left become denied and left events, never messages", async () => {
  const socket = make({ auth: "cookie" });
  const events = record(socket);
  await tick();
  const [fake] = FakeSocket.all;
  fake.open();
  fake.receive({ type: "warden.denied", group: "chat.private", reason: "forbidden" });
  fake.receive({ type: "warden.left", group: "chat.team", reason: "removed" });
  await tick(10);
  assert.deepEqual(
    events.filter((event) => event.type !== "status"),
    [
      { type: "denied", detail: { type: "warden.denied", group: "chat.private", reason: "forbidden" } },
      { type: "left", detail: { type: "warden.left", group: "chat.team", reason: "removed" } },
    ],
  );
  assert.equal(socket.state, "open");
  socket.close();
});

test("a 4499 revocation closes for good and says why", async () => {
  const socket = make({ auth: "subprotocol", getToken: async () => "abc" });
  const events = record(socket);
  await tick();
  FakeSocket.all[0].open();
  await tick(10);
  FakeSocket.all[0].drop(4499, { reason: "logout", reconnect: "never" });
  await tick(10);
  assert.equal(socket.state, "closed");
  assert.equal(FakeSocket.all.length, 1);
  assert.deepEqual(events.at(-1), { type: "status", detail: { state: "closed", code: 4499, reason: "logout" } });
  assert.equal(closeMessage(events.at(-1).detail), "Signed out elsewhere (4499 logout)");
});

test("a 4401 asks getToken for a fresh token and reconnects at once", async () => {
  const asked = [];
  const socket = make({
    auth: "subprotocol",
    getToken: async ({ refresh }) => {
      asked.push(refresh);
      return refresh ? "fresh" : "stale";
    },
  });
  await tick();
  FakeSocket.all[0].open();
  FakeSocket.all[0].drop(4401, { reason: "token_expired", reconnect: "refresh" });
  await tick(10);
  assert.deepEqual(asked, [false, true]);
  assert.deepEqual(FakeSocket.all[1].protocols, ["warden", "bearer.fresh"]);
  socket.close();
});
