// The real GraphQL WebSocket clients against a real server, one scenario per run.
//
//   node client.mjs '<json options>'
//
// Prints one JSON object on stdout: what the client did (connections it opened, close codes it saw,
// ticks it received, the error it gave up with). tests/e2e/graphql/test_node_clients.py starts the
// server, mints the credentials, runs a scenario and asserts on that report.
import { createClient } from "graphql-ws";
import { SubscriptionClient } from "subscriptions-transport-ws";
import WebSocket from "ws";

const options = JSON.parse(process.argv[2]);
const CLOCK = "subscription { clock(interval: 0.2) { n user expiresAt } }";
const report = { connecting: 0, connected: 0, closes: [], ticks: [], error: null, params: 0, timeline: [] };

// Node 20 has no global WebSocket: graphql-ws takes the `ws` package, which can also send the
// handshake headers a browser would (Cookie, Origin).
class HeaderWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { headers: options.headers || {} });
  }
}

function fail(message) {
  report.error = { message };
  finish(1);
}

function finish(status = 0) {
  process.stdout.write(JSON.stringify(report) + "\n");
  process.exit(status);
}

setTimeout(() => fail(`scenario ${options.scenario} timed out`), (options.timeout || 20) * 1000);

let loggingOut = Promise.resolve();

async function logout() {
  const response = await fetch(options.logoutUrl, { method: "POST", headers: options.headers });
  report.logoutStatus = response.status;
}

function graphqlWs() {
  // connectionParams is a function, as the docs recommend: graphql-ws calls it again on every
  // connection, so a reconnect after expiry sends the next (fresh) token.
  const tokens = [...(options.tokens || [])];
  const client = createClient({
    url: options.url,
    webSocketImpl: HeaderWebSocket,
    lazy: true,
    connectionParams: () => {
      report.params += 1;
      const token = tokens.length > 1 ? tokens.shift() : tokens[0];
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => { report.connecting += 1; },
      connected: () => { report.connected += 1; report.timeline.push(["connected", Date.now() / 1000]); },
      closed: (event) => { report.closes.push(event.code); report.timeline.push(["closed", Date.now() / 1000]); },
    },
  });
  let dispose = () => {};
  dispose = client.subscribe(
    { query: CLOCK },
    {
      next: async ({ data }) => {
        report.ticks.push({ ...data.clock, connection: report.connected });
        if (options.scenario === "logout" && report.ticks.length === 1) {
          loggingOut = logout();
        }
        const wanted = options.ticksPerConnection || 3;
        const onLast = report.ticks.filter((tick) => tick.connection === report.connected).length;
        if (report.connected >= (options.connections || 1) && onLast >= wanted) {
          dispose();
          await client.dispose();
          finish();
        }
      },
      error: async (error) => {
        // The close may overtake the logout's HTTP answer.
        await loggingOut;
        report.error = { code: error.code ?? null, reason: error.reason ?? String(error) };
        finish();
      },
      complete: () => finish(),
    },
  );
}

function legacy() {
  const client = new SubscriptionClient(
    options.url,
    {
      reconnect: false,
      connectionParams: { authToken: options.tokens[0] },
      connectionCallback: (error) => {
        if (error) {
          report.error = error;
          setTimeout(finish, 200); // let the close arrive
        } else {
          report.connected += 1;
        }
      },
    },
    HeaderWebSocket,
  );
  client.onConnecting(() => { report.connecting += 1; });
  client.onDisconnected(() => { report.closes.push("disconnected"); });
  client.request({ query: CLOCK }).subscribe({
    next: ({ data }) => {
      report.ticks.push(data.clock);
      if (report.ticks.length >= 3) {
        client.close();
        finish();
      }
    },
    error: (error) => fail(String(error)),
  });
}

if (options.scenario === "legacy") {
  legacy();
} else {
  graphqlWs();
}
