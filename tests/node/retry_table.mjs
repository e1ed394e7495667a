// graphql-ws's own retry decision for each close code, read by running its client, not its source.
//
//   node retry_table.mjs 4400 4401 ...
//
// For each code a fake WebSocket opens, waits for connection_init and closes with the code; the
// client is allowed one retry with no wait. A second "connecting" means the client retries that code.
// Prints {"<code>": true|false} (true: retried).
import { createClient } from "graphql-ws";

function fakeSocket(code) {
  return class FakeWebSocket {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor() {
      this.readyState = FakeWebSocket.CONNECTING;
      this.protocol = "graphql-transport-ws";
      setTimeout(() => {
        this.readyState = FakeWebSocket.OPEN;
        this.onopen?.({});
      }, 0);
    }
    send(data) {
      if (JSON.parse(data).type === "connection_init") {
        setTimeout(() => this.close(code, "from the server"), 0);
      }
    }
    close(closeCode = 1000, reason = "") {
      if (this.readyState === FakeWebSocket.CLOSED) return;
      this.readyState = FakeWebSocket.CLOSED;
      this.onclose?.({ code: closeCode, reason, wasClean: true });
    }
  };
}

async function retried(code) {
  let connecting = 0;
  let done;
  const over = new Promise((resolve) => { done = resolve; });
  const client = createClient({
    url: "ws://fake",
    webSocketImpl: fakeSocket(code),
    retryAttempts: 1,
    retryWait: async () => {},
    // A second connection is the answer; stop there (1000 reconnects without counting attempts).
    on: { connecting: () => { connecting += 1; if (connecting > 1) done(); } },
  });
  const dispose = client.subscribe({ query: "subscription { clock { n } }" }, {
    next: () => {},
    error: () => done(),
    complete: () => done(),
  });
  await over;
  dispose();
  // Disposing awaits the last connection attempt, which rejected with the close event.
  await client.dispose().catch(() => {});
  return connecting > 1;
}

const table = {};
for (const code of process.argv.slice(2).map(Number)) {
  table[code] = await retried(code);
}
process.stdout.write(JSON.stringify(table) + "\n");
