// The chat's GraphQL API from a browser, with the graphql-ws client (see graphql.html).
import { createClient } from "./vendor/graphql-ws/client.js";

const MESSAGES = "subscription ($room: String!) { messages(room: $room) { id user text } }";
const SEND = "mutation ($room: String!, $text: String!) { send(room: $room, text: $text) { id } }";

const room = new URLSearchParams(location.hash.slice(1)).get("room") || "lobby";
const status = document.getElementById("status");
const statusText = document.getElementById("status-text");
const messages = document.getElementById("messages");
const events = document.getElementById("events");
let connections = 0;

function show(state, text) {
  status.dataset.state = state;
  statusText.textContent = text;
}

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  events.append(item);
}

function append(message) {
  const item = document.createElement("li");
  item.className = "message";
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = message.user;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message.text; // text, never markup
  item.append(user, " ", text);
  messages.append(item);
}

document.getElementById("room-title").textContent = `#${room}`;
const client = createClient({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql/`,
  on: {
    connecting: () => {
      connections += 1;
      status.dataset.connections = String(connections);
      show("connecting", "connecting…");
      log(`connecting (attempt ${connections})`);
    },
    connected: () => { show("open", `subscribed to #${room}`); log("connection_ack"); },
    closed: (event) => log(`closed ${event.code}${event.reason ? ` ${event.reason}` : ""}`),
  },
});

client.subscribe({ query: MESSAGES, variables: { room } }, {
  next: ({ data, errors }) => {
    if (errors) log(`error: ${errors.map((error) => error.message).join("; ")}`);
    if (data) append(data.messages);
  },
  // graphql-ws calls this only once it gives up: a final code (4401 revoked or signed out, 4400...).
  error: (error) => show("closed", `closed ${error.code ?? ""}: not reconnecting`),
  complete: () => log("subscription complete"),
});

document.getElementById("send").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  const text = input.value;
  input.value = "";
  client.subscribe({ query: SEND, variables: { room, text } }, {
    next: ({ errors }) => { if (errors) log(`send failed: ${errors[0].message}`); },
    error: (error) => log(`send failed: ${error.code ?? error}`),
    complete: () => {},
  });
});
