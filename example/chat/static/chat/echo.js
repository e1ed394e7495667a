// The echo page's client: one WebSocket to the echo route, authenticated by the session cookie the
// browser attaches by itself. When warden refuses or ends the socket it first sends a JSON frame
// {"type": "warden.disconnect", "code": 4401, "reason": "unauthenticated", "reconnect": "refresh"}
// and then closes with the same code; the frame is what a page can rely on, because some servers
// (daphne) drop the close frame's reason.

const root = document.getElementById("echo");
const statusOutput = document.getElementById("status");
const closedNotice = document.getElementById("closed");
const form = document.getElementById("send");
const input = document.getElementById("message");
const sendButton = form.querySelector("button[type=submit]");
const reconnectButton = document.getElementById("reconnect");
const log = document.getElementById("log");

let socket = null;
let disconnectFrame = null;

/** The ws:// or wss:// URL of `path` on the server that served this page. */
export function socketUrl(path, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/** A sentence saying how the socket ended, preferring warden's frame to the close event. */
export function describeClose(event, frame) {
  if (!frame && event.code === 1006) {
    return "The connection failed before the server could say why (code 1006).";
  }
  const code = frame?.code ?? event.code;
  const reason = frame?.reason || event.reason || "no reason given";
  let text = `Closed by the server: code ${code}, reason "${reason}"`;
  if (frame?.reconnect) {
    text += ` (reconnect: ${frame.reconnect})`;
  }
  if (frame?.retry_after !== undefined) {
    text += `, retry after ${frame.retry_after} s`;
  }
  return text;
}

function setStatus(text, state) {
  statusOutput.textContent = text;
  statusOutput.dataset.state = state;
}

function setSendable(sendable) {
  input.disabled = !sendable;
  sendButton.disabled = !sendable;
}

function addLine(kind, text) {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text; // never innerHTML: messages are user input
  log.append(item);
  item.scrollIntoView({ block: "nearest" });
}

function onMessage(event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    addLine("other", `(not JSON) ${event.data}`);
    return;
  }
  if (data.type === "warden.disconnect") {
    disconnectFrame = data;
    addLine("warden", `warden.disconnect: ${data.code} ${data.reason}`);
  } else if (data.type === "echo") {
    addLine("echo", `${data.user}: ${data.text}`);
  } else {
    addLine("other", event.data);
  }
}

function onClose(event) {
  socket = null;
  setSendable(false);
  const text = describeClose(event, disconnectFrame);
  setStatus(`closed (${disconnectFrame?.code ?? event.code})`, "closed");
  closedNotice.textContent = text;
  closedNotice.hidden = false;
  addLine("closed", text);
  reconnectButton.hidden = false;
}

function connect() {
  disconnectFrame = null;
  closedNotice.hidden = true;
  reconnectButton.hidden = true;
  setStatus("connecting…", "connecting");
  socket = new WebSocket(socketUrl(root.dataset.wsPath));
  socket.addEventListener("open", () => {
    setStatus("open", "open");
    setSendable(true);
    input.focus();
  });
  socket.addEventListener("message", onMessage);
  socket.addEventListener("close", onClose);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket?.readyState === WebSocket.OPEN && input.value) {
    socket.send(input.value);
    input.value = "";
  }
});
reconnectButton.addEventListener("click", connect);

connect();
