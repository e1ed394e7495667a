// The cross-origin client: a page on another origin than the chat server, holding a SimpleJWT pair.
//
// It reads #access=…&refresh=…&server=ws://host:port&room=lobby[&api=…][&auth=message] from its
// URL, removes the tokens from the address bar, and opens the single-room socket with the access
// token as a subprotocol (or, with auth=message, in a first frame). warden.js refreshes the token
// before it ends (getToken({refresh: true}) posts the refresh token to <api>/api/auth/jwt/refresh/)
// and sends it in-band, so the socket never drops.
// The chat server has no CORS, so <api> must be this page's own backend: by default its own origin.

import { WardenSocket, closeMessage, tokenExpiry } from "../channels_warden/warden.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(window.location.hash.slice(1));
history.replaceState(null, "", window.location.pathname + window.location.search);

const tokens = { access: params.get("access"), refresh: params.get("refresh") };
const server = params.get("server") ?? `ws://${window.location.host}`;
const room = params.get("room") ?? "lobby";
const api = params.get("api") ?? window.location.origin;
// "subprotocol" (default) or "message": the token as the first frame, {"type": "warden.auth"}.
const auth = params.get("auth") === "message" ? "message" : "subprotocol";
const counters = { opens: 0, refreshes: 0, reconnects: 0 };

function count(name) {
  counters[name] += 1;
  document.body.dataset[name] = String(counters[name]);
}

function clock(seconds = Date.now() / 1000) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour12: false });
}

function logEvent(text) {
  const item = document.createElement("li");
  item.textContent = `${clock()} ${text}`;
  $("events").append(item);
}

function showExpiry() {
  const exp = tokens.access && tokenExpiry(tokens.access);
  $("expires").textContent = exp ? clock(exp) : "–";
}

/** warden.js asks for a token at every connection and before the current one ends. */
async function getToken({ refresh }) {
  const exp = tokens.access && tokenExpiry(tokens.access);
  if (!refresh && exp && exp > Date.now() / 1000 + 1) return tokens.access;
  if (!tokens.refresh) return null; // nothing to refresh with: sign in again
  const response = await fetch(`${api}/api/auth/jwt/refresh/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ refresh: tokens.refresh }),
  });
  if (response.status === 400 || response.status === 401) return null; // refresh token refused
  if (!response.ok) throw new Error(`refresh answered HTTP ${response.status}`);
  const body = await response.json();
  tokens.access = body.access;
  if (body.refresh) tokens.refresh = body.refresh; // when the server rotates refresh tokens
  showExpiry();
  logEvent(`new access token, expires ${clock(tokenExpiry(tokens.access))}`);
  return tokens.access;
}

function addMessage(message) {
  const list = $("messages");
  if (list.querySelector(`[data-id="${CSS.escape(String(message.id))}"]`)) return;
  const item = document.createElement("li");
  item.className = "message";
  item.dataset.id = String(message.id);
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = message.user;
  const time = document.createElement("time");
  time.textContent = clock(typeof message.ts === "number" ? message.ts : Date.parse(message.ts) / 1000);
  const text = document.createElement("p");
  text.className = "text";
  text.textContent = message.text;
  item.append(user, time, text);
  list.append(item);
  list.parentElement.scrollTop = list.parentElement.scrollHeight;
}

function onStatus({ detail }) {
  const { state, code, reason, retryIn } = detail;
  $("status").dataset.state = state;
  const words = { connecting: "connecting…", open: "connected", closed: "disconnected" };
  $("status-text").textContent =
    state === "reconnecting" ? `reconnecting in ${Math.ceil(retryIn / 1000)} s` : words[state];
  if (state === "open") count("opens");
  if (state === "reconnecting") count("reconnects");
  logEvent(code ? `${state} (${code} ${reason})` : state);
  if (state === "closed") {
    const banner = $("closed");
    banner.textContent = closeMessage({ code, reason });
    banner.dataset.code = String(code);
    banner.hidden = false;
  }
  const usable = state !== "closed";
  $("text").disabled = !usable;
  $("send").querySelector("button").disabled = !usable;
}

function onMessage({ detail: frame }) {
  if (frame?.type === "message") addMessage(frame);
  else if (frame?.type === "presence") $("presence").textContent = frame.users.join(", ") || "nobody";
  else if (frame?.type === "error") logEvent(`error: ${frame.code}`);
}

function start() {
  const url = `${server}/ws/chat/${encodeURIComponent(room)}/`;
  $("origin").textContent = window.location.origin;
  $("socket-url").textContent = url;
  $("credential").textContent =
    auth === "message"
      ? 'first frame {"type": "warden.auth", "token": <JWT>}'
      : "Sec-WebSocket-Protocol: warden, bearer.<JWT>";
  $("room-title").textContent = `#${room}`;
  showExpiry();
  if (!tokens.access && !tokens.refresh) {
    onStatus({ detail: { state: "closed", code: 4401, reason: "no_token" } });
    return;
  }
  const socket = new WardenSocket(url, { auth, getToken });
  socket.addEventListener("status", onStatus);
  socket.addEventListener("message", onMessage);
  socket.addEventListener("refreshed", ({ detail }) => {
    count("refreshes");
    logEvent(`warden.refreshed: socket now ends ${clock(detail.expires_at)}`);
  });
  socket.addEventListener("disconnect", ({ detail }) => logEvent(`warden.disconnect ${detail.code}`));
  $("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (text) socket.send({ type: "message", text });
    $("text").value = "";
  });
  window.wardenSocket = socket; // for the browser tests and the curious
}

start();
