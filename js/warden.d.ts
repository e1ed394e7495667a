// Types for warden.js, the channels-warden browser client (docs/warden-js.md).

/** What a close asks of the client: fresh credentials, a retry, a backoff, or nothing more. */
export type ReconnectHint = "refresh" | "retry" | "backoff" | "never";

/** Where the credential travels: session cookie, subprotocol, one-time ticket, or first frame. */
export type AuthTransport = "cookie" | "subprotocol" | "ticket" | "message";

/** The socket's state; "closed" is terminal. */
export type WardenState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * Returns the access token. `refresh` is true when the current one will not do.
 * Resolve `null` when the user must sign in again; throw for a failure worth retrying.
 */
export type GetToken = (request: { refresh: boolean }) => Promise<string | null> | string | null;

/** Returns a fresh single-use ticket; `null` and throwing mean what they mean for {@link GetToken}. */
export type GetTicket = () => Promise<string | null> | string | null;

/** The constructor a WardenSocket builds its sockets with (tests pass a fake). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export interface WardenSocketOptions {
  /** Default "cookie". */
  auth?: AuthTransport;
  /** Required for "subprotocol" and "message". */
  getToken?: GetToken;
  /** Required for "ticket". */
  getTicket?: GetTicket;
  /** Credential scheme: "bearer" (default) or "token" for DRF tokens. */
  scheme?: string;
  /** Your application's own subprotocols, offered after warden's. */
  protocols?: string[];
  /** Refresh a JWT on the open socket before its `exp` (default true). */
  refreshAhead?: boolean;
  /** Reconnect delay bounds in ms (defaults 500 and 30000). */
  minBackoff?: number;
  maxBackoff?: number;
  /** Ms a new socket must stay open, or an application frame it must deliver, to count as open (200). */
  settle?: number;
  /** The WebSocket class to construct; defaults to `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
}

/** The frame warden sends before it closes a socket. */
export interface DisconnectFrame {
  type: "warden.disconnect";
  code: number;
  reason: string;
  reconnect: ReconnectHint;
  retry_after?: number;
}

/** The frame that answers a successful in-band refresh. */
export interface RefreshedFrame {
  type: "warden.refreshed";
  expires_at: number | null;
}

/** A join the server's group policy refused; the socket stays open (docs/groups.md). */
export interface DeniedFrame {
  type: "warden.denied";
  group: string;
  /** "forbidden", "unauthenticated", "bad_request", "too_many" or "internal". */
  reason: string;
}

/** Warden took the socket out of a group; the socket stays open for its other groups. */
export interface LeftFrame {
  type: "warden.left";
  group: string;
  /** "revoked" (or the reason the revocation gave, e.g. "removed"), "expired", or a denial reason. */
  reason: string;
}

/** `detail` of the "status" event. */
export interface StatusDetail {
  state: WardenState;
  code?: number;
  reason?: string;
  /** Ms until the next attempt, on "reconnecting". */
  retryIn?: number;
}

export interface WardenSocketEventMap {
  status: CustomEvent<StatusDetail>;
  /** An application frame: parsed JSON, else the text (or a Blob). */
  message: CustomEvent<unknown>;
  refreshed: CustomEvent<RefreshedFrame>;
  disconnect: CustomEvent<DisconnectFrame>;
  /** The server refused to add the socket to a group. */
  denied: CustomEvent<DeniedFrame>;
  /** The server took the socket out of a group (revocation, re-check, grant end). */
  left: CustomEvent<LeftFrame>;
}

/** A WebSocket that speaks channels-warden's close codes and control frames, and reconnects. */
export class WardenSocket extends EventTarget {
  constructor(url: string, options?: WardenSocketOptions);
  readonly url: string;
  readonly options: WardenSocketOptions;
  readonly state: WardenState;
  /** How many frames wait for the socket to open. */
  readonly pending: number;
  /** Send a string, or any other value as JSON; queued until the socket is open. Throws once closed. */
  send(data: unknown): void;
  /** Close for good; nothing reconnects after this. */
  close(code?: number, reason?: string): void;
  addEventListener<K extends keyof WardenSocketEventMap>(
    type: K,
    listener: (event: WardenSocketEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WardenSocketEventMap>(
    type: K,
    listener: (event: WardenSocketEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** "Signed out elsewhere (4499 logout)": a close as a sentence for a person. */
export function closeMessage(close?: { code?: number; reason?: string }): string;

/** The reconnect hint for a close: warden's table, then the frame's own hint, then WebSocket's codes. */
export function reconnectHint(code: number, frame?: { reconnect?: ReconnectHint } | null): ReconnectHint;

/** The `exp` claim of a JWT in seconds, or null when `token` is not a JWT. */
export function tokenExpiry(token: string): number | null;
