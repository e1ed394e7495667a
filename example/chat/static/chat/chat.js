// The chat page: one multi-room socket (/ws/chat/) opened with the session cookie, the room list and
// history over the JSON API, and warden's closes shown to the person in words.
//
// Every piece of user text goes into the page with textContent, never as HTML.

import { WardenSocket, closeMessage } from "/static/channels_warden/warden.js";

const $ = (id) => document.getElementById(id);
const me = $("chat").dataset.username;
const staff = $("chat").dataset.staff === "true"; // staff may open every room
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const PAGE = 50;

/** slug -> {slug, title, private, member, messages: Map(id -> message), hasMore, loaded, presence,
 *  unread, error (blocking: forbidden, removed), notice (passing)}: what the page knows of a room. */
const rooms = new Map();
let current = null;
let socket = null;
let leaving = false; // this tab logged out: its own socket's close is no news
let connectedBefore = false;
let statusText = "connecting…";

// The JSON API ------------------------------------------------------------------------------------

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    Object.assign(headers, { "Content-Type": "application/json", "X-CSRFToken": csrfToken });
  }
  const init = { method, headers, credentials: "same-origin", body: body && JSON.stringify(body) };
  const response = await fetch(path, init);
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(payload.detail || payload.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return payload;
}

async function loadHistory(room, { older = false } = {}) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  const ids = [...room.messages.keys()];
  if (older && ids.length) params.set("before", String(Math.min(...ids)));
  try {
    const page = await api(`/api/rooms/${encodeURIComponent(room.slug)}/messages/?${params}`);
    page.messages.forEach((message) => addMessage(room, message, { history: true }));
    if (older || !room.loaded) room.hasMore = page.has_more;
    room.loaded = true;
  } catch (error) {
    // The history API answers a private room and an unknown one alike (404); the socket's verdict,
    // which may arrive first, says which it is for this user and must not be overwritten.
    if (room.error !== "forbidden") room.error = error.status === 403 ? "forbidden" : error.message;
  }
  if (room === current) renderRoom({ keepScroll: older });
}

// Rendering ---------------------------------------------------------------------------------------

function formatTime(ts) {
  const date = new Date(typeof ts === "number" ? (ts < 1e12 ? ts * 1000 : ts) : ts);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageItem(message) {
  const item = document.createElement("li");
  item.dataset.id = String(message.id);
  item.className = message.user === me ? "message mine" : "message";
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = message.user;
  const time = document.createElement("time");
  time.textContent = formatTime(message.ts);
  if (message.ts) time.dateTime = String(message.ts);
  const text = document.createElement("p");
  text.className = "text";
  text.textContent = message.text;
  item.append(user, time, text);
  return item;
}

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren(
    ...[...rooms.values()].map((room) => {
      const link = document.createElement("a");
      link.href = `#${room.slug}`;
      link.dataset.room = room.slug;
      link.textContent = room.title;
      if (room === current) link.setAttribute("aria-current", "page");
      if (room.private) {
        const lock = document.createElement("span");
        lock.className = "tag";
        lock.textContent = "private";
        link.append(" ", lock);
      }
      if (room.unread) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(room.unread);
        badge.title = `${room.unread} unread`;
        link.append(" ", badge);
      }
      const item = document.createElement("li");
      item.append(link);
      return item;
    }),
  );
}

function renderPresence() {
  if (socket?.state !== "open" || current?.error) {
    $("presence").textContent = "–"; // unknown until the socket is back
    return;
  }
  const users = current?.presence ?? [];
  const names = users.map((name) => {
    const chip = document.createElement("span");
    chip.className = name === me ? "user me" : "user";
    chip.textContent = name;
    return chip;
  });
  $("presence").replaceChildren(...(names.length ? names : ["nobody"]));
}

function renderRoom({ keepScroll = false } = {}) {
  const scroller = $("scroller");
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  $("room-title").textContent = current.title;
  showRoomError();
  const ordered = [...current.messages.values()].sort((a, b) => a.id - b.id);
  $("messages").replaceChildren(...ordered.map(messageItem));
  $("older").hidden = !current.hasMore || Boolean(current.error);
  renderPresence();
  updateSendable();
  // Loading older messages keeps what the reader was looking at; anything else shows the newest.
  scroller.scrollTop = keepScroll ? scroller.scrollHeight - fromBottom : scroller.scrollHeight;
}

const ROOM_ERRORS = {
  forbidden: (room) => `Forbidden: “${room.title}” is private and ${me} is not a member.`,
  removed: (room) => `You were removed from “${room.title}”.`,
};

/** The current room's problem: one that blocks it (forbidden, removed), else a passing notice. */
function showRoomError() {
  const box = $("room-error");
  const code = current.error ?? current.notice?.code;
  box.hidden = !code;
  box.dataset.code = code ?? "";
  if (current.error) {
    const words = ROOM_ERRORS[current.error];
    box.textContent = words ? words(current) : `This room is unavailable: ${current.error}`;
  } else if (current.notice) {
    box.textContent = `${current.notice.detail ?? current.notice.code} (${current.notice.code})`;
  }
}

function addMessage(room, message, { history = false } = {}) {
  if (room.messages.has(message.id)) return; // history and the live socket overlap
  room.messages.set(message.id, message);
  if (history) return; // the caller renders the whole page at once
  if (room !== current) {
    room.unread += 1;
    renderRooms();
    return;
  }
  const scroller = $("scroller");
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const list = $("messages");
  const later = [...list.children].find((item) => Number(item.dataset.id) > message.id);
  list.insertBefore(messageItem(message), later ?? null);
  if (atBottom || message.user === me) scroller.scrollTop = scroller.scrollHeight;
}

function updateSendable() {
  const usable = socket?.state !== "closed" && current && !current.error;
  $("text").disabled = !usable;
  $("send").querySelector("button").disabled = !usable;
}

/** The status line, with "· 2 waiting to send" while messages are queued. */
function showStatusText() {
  const waiting = socket?.pending ?? 0;
  $("status-text").textContent = statusText + (waiting ? ` · ${waiting} waiting to send` : "");
}

function setStatus({ state, code, reason, retryIn }) {
  const status = $("status");
  status.dataset.state = state;
  let text = { connecting: "connecting…", open: "connected", closed: "disconnected" }[state] ?? state;
  if (state === "reconnecting") {
    text = `reconnecting in ${Math.ceil((retryIn ?? 0) / 1000)} s (${reason ? `${code} ${reason}` : code})`;
  }
  statusText = text;
  showStatusText();
  if (state === "open") setTimeout(showStatusText); // warden.js sends the queue right after "open"
  if (state !== "open") rooms.forEach((room) => (room.presence = [])); // stale until rejoined
  if (state === "closed" && !leaving) {
    const banner = $("closed");
    $("closed-text").textContent = closeMessage({ code, reason });
    // "/" shows the login form to a signed-out person and the chat to anyone else.
    $("closed-action").textContent = [4401, 4498, 4499].includes(code) ? "Sign in again" : "Reload";
    banner.dataset.code = String(code);
    banner.hidden = false;
  }
  if (current) renderPresence();
  updateSendable();
}

// Rooms and the socket ----------------------------------------------------------------------------

function select(slug) {
  // A room the list does not show (someone else's private room) is still tried: the server says why.
  if (slug && !rooms.has(slug)) rooms.set(slug, newRoom({ slug, title: slug, private: true }, false));
  const room = rooms.get(slug) ?? rooms.values().next().value;
  if (!room) return;
  current = room;
  room.unread = 0;
  renderRooms();
  renderRoom();
  if (!room.loaded && !room.error) loadHistory(room);
  // A room this user cannot enter is still asked for, so that the socket's own answer shows too.
  // Once: every refusal counts against the socket's error budget (too many close it with 4429).
  if (!canJoin(room) && !room.error && socket?.state === "open") {
    socket.send({ type: "join", room: room.slug });
  }
}

function newRoom(fields, listed = true) {
  return { ...fields, listed, messages: new Map(), hasMore: false, loaded: false, presence: [], unread: 0 };
}

/** Whether to join the room as soon as the socket opens (rooms that would refuse are asked once). */
function canJoin(room) {
  return room.listed && (!room.private || room.member || staff);
}

function onStatus(event) {
  const { state } = event.detail;
  setStatus(event.detail);
  if (state !== "open") return;
  // (Re)joined: every room this user may enter, so that unread counts and presence stay current.
  for (const room of rooms.values()) {
    if (canJoin(room) || (room === current && !room.error)) socket.send({ type: "join", room: room.slug });
    // After a reconnect, fetch the newest page again to fill the gap; ids make the merge exact.
    if (connectedBefore && room.loaded && !room.error) loadHistory(room);
  }
  connectedBefore = true;
}

function onMessage(event) {
  const frame = event.detail;
  const room = rooms.get(frame?.room);
  switch (frame?.type) {
    case "message":
      if (room) addMessage(room, frame);
      break;
    case "presence":
      if (room) room.presence = frame.users;
      if (room === current) renderPresence();
      break;
    case "error": {
      const target = room ?? current;
      if (!target) break;
      if (frame.code === "forbidden") target.error = "forbidden";
      else notify(target, frame);
      if (target === current) renderRoom({ keepScroll: true });
      break;
    }
    case "left":
      if (room) roomLeft(room, frame.reason);
      break;
    // "joined" confirms what presence already shows.
  }
}

/** warden took this socket out of a room's group ("chat.<slug>"): a staff removal, or a re-check
 *  that refused it (the room became private). The chat's own "left" frame says the same. */
function onLeft(event) {
  const { group, reason } = event.detail;
  const room = group?.startsWith("chat.") ? rooms.get(group.slice("chat.".length)) : null;
  if (room) roomLeft(room, reason);
}

function roomLeft(room, reason) {
  // The first word wins: warden's event comes before the chat's frame, and says why ("forbidden" when
  // the room became private). Other reasons ("expired") leave the room usable: the next join decides.
  if (room.error || (reason !== "removed" && reason !== "forbidden")) return;
  room.error = reason;
  room.presence = [];
  if (room === current) renderRoom({ keepScroll: true });
}

/** Show an error that does not block the room (rate_limited, text_too_long...) for a few seconds. */
function notify(room, frame) {
  room.notice = frame;
  setTimeout(() => {
    if (room.notice !== frame) return;
    room.notice = null;
    if (room === current) showRoomError();
  }, 6000);
}

async function logout() {
  leaving = true;
  socket?.close(1000, "logout");
  try {
    await api("/api/auth/logout/", { method: "POST" });
  } finally {
    window.location.assign("/");
  }
}

async function start() {
  $("logout").addEventListener("click", logout);
  $("older").addEventListener("click", () => loadHistory(current, { older: true }));
  $("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value.trim();
    if (!text || !current || socket?.state === "closed") return;
    socket.send({ type: "message", room: current.slug, text });
    input.value = "";
    showStatusText();
  });
  window.addEventListener("hashchange", () => select(decodeURIComponent(window.location.hash.slice(1))));

  const { rooms: listed } = await api("/api/rooms/");
  for (const room of listed) rooms.set(room.slug, newRoom(room));
  socket = new WardenSocket("/ws/chat/", { auth: "cookie" });
  socket.addEventListener("status", onStatus);
  socket.addEventListener("message", onMessage);
  socket.addEventListener("left", onLeft);
  select(decodeURIComponent(window.location.hash.slice(1)) || "lobby");
}

start().catch((error) => {
  $("closed-text").textContent = `The chat could not start: ${error.message}`;
  $("closed").hidden = false;
});
