// A small Redis client for the bridge: one shared, pipelined connection for ordinary
// commands, plus leased connections for what must not share it (transactions). No
// dependency: Bun's built-in RedisClient speaks RESP3 (maps, doubles, booleans) and
// decodes every bulk string as UTF-8, while SRH answers in RESP2 shapes and is
// binary-safe.
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { encodeCommand, RedisError, type Reply, ReplyParser } from "./resp.ts";

/** Redis could not be reached, or stopped answering: SRH's 500. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  constructor(detail?: string) {
    super("Unable to connect to the Redis server", { cause: detail });
  }
}

export type RedisOptions = {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  url: string;
  /** A connection that has not answered the oldest command for this long is presumed dead. */
  timeoutMs?: number;
  /** Idle leased connections kept for reuse. */
  maxIdle?: number;
};

type Waiter = { resolve: (r: Reply) => void; reject: (e: Error) => void; deadline: number };

export class Connection {
  private socket: net.Socket | undefined;
  private connecting = false;
  private connected = false;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: (Waiter | undefined)[] = [];
  private head = 0;
  private out = "";
  private flushQueued = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private readonly parser = new ReplyParser((reply) => this.onReply(reply));

  constructor(private readonly url: URL, private readonly timeoutMs: number) {}

  get healthy() {
    return this.connected;
  }

  /** Send one command; resolves with its reply (a RedisError reply is a value, not a rejection). */
  send(args: readonly string[], timeoutMs = this.timeoutMs): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject, deadline: Date.now() + timeoutMs });
      this.write(encodeCommand(args));
    });
  }

  /** Send several commands in one write; Redis runs them in order with nothing in between from this connection. */
  sendAll(commands: readonly (readonly string[])[], timeoutMs = this.timeoutMs): Promise<Reply[]> {
    let text = "";
    const replies: Promise<Reply>[] = [];
    const deadline = Date.now() + timeoutMs;
    for (const args of commands) {
      replies.push(new Promise((resolve, reject) => this.waiters.push({ resolve, reject, deadline })));
      text += encodeCommand(args);
    }
    this.write(text);
    return Promise.all(replies);
  }

  close(reason = "closed") {
    this.fail(new ConnectionError(reason));
  }

  private write(text: string) {
    this.out += text;
    if (!this.connected) {
      // Sent once connected, after the handshake.
      if (!this.connecting) this.connect();
      return;
    }
    // Coalesce everything sent in this tick into one socket write.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush() {
    this.flushQueued = false;
    if (!this.connected || !this.out) return;
    const text = this.out;
    this.out = "";
    this.socket!.write(text);
  }

  private connect() {
    this.connecting = true;
    const { hostname, port, protocol, username, password, pathname } = this.url;
    const host = hostname.replace(/^\[|\]$/g, "") || "127.0.0.1";
    const options = { host, port: Number(port) || 6379 };
    const socket = protocol === "rediss:"
      ? tls.connect({ ...options, servername: host })
      : net.connect(options);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    this.parser.reset();
    this.connectTimer = setTimeout(() => this.fail(new ConnectionError("connect timeout")), this.timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        this.fail(new ConnectionError(String(err)));
      }
    });
    socket.on("error", (err) => this.fail(new ConnectionError(err.message)));
    socket.on("close", () => this.fail(new ConnectionError("connection closed")));
    socket.once(protocol === "rediss:" ? "secureConnect" : "connect", () => {
      clearTimeout(this.connectTimer);
      if (this.socket !== socket) return;
      // The handshake goes first; the commands that waited for the connection follow it.
      const handshake: string[][] = [];
      if (password) {
        handshake.push(
          username
            ? ["AUTH", decodeURIComponent(username), decodeURIComponent(password)]
            : ["AUTH", decodeURIComponent(password)],
        );
      }
      const db = pathname.slice(1);
      if (db && db !== "0") handshake.push(["SELECT", db]);
      let text = "";
      const checks: Promise<Reply>[] = [];
      for (const args of handshake) {
        checks.push(
          new Promise((resolve, reject) =>
            this.waiters.splice(this.head, 0, { resolve, reject, deadline: Date.now() + this.timeoutMs })
          ),
        );
        text += encodeCommand(args);
      }
      this.connected = true;
      this.connecting = false;
      this.out = text + this.out;
      this.flush();
      this.watchdog = setInterval(
        () => this.checkDeadline(),
        Math.max(10, Math.min(250, this.timeoutMs / 4)),
      );
      (this.watchdog as { unref?: () => void }).unref?.();
      void Promise.all(checks).then((replies) => {
        const bad = replies.find((r) => r instanceof RedisError);
        if (bad) this.fail(new ConnectionError((bad as RedisError).message));
      }, () => {});
    });
  }

  private onReply(reply: Reply) {
    const waiter = this.waiters[this.head];
    this.waiters[this.head++] = undefined;
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    waiter?.resolve(reply);
  }

  private checkDeadline() {
    const oldest = this.waiters[this.head];
    if (oldest && oldest.deadline < Date.now()) this.fail(new ConnectionError("timeout"));
  }

  /** Drop the socket and fail everything waiting on it; the next command reconnects. */
  private fail(err: Error) {
    const waiters = this.waiters;
    const head = this.head;
    const socket = this.socket;
    this.waiters = [];
    this.head = 0;
    this.out = "";
    this.connected = false;
    this.connecting = false;
    this.socket = undefined;
    clearTimeout(this.connectTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    socket?.removeAllListeners();
    socket?.on("error", () => {});
    socket?.destroy();
    for (let i = head; i < waiters.length; i++) waiters[i]?.reject(err);
  }
}

/** The shared connection plus a pool of connections to lease for exclusive use. */
export class Redis {
  readonly shared: Connection;
  private readonly idle: Connection[] = [];
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly maxIdle: number;

  constructor({ url, timeoutMs = 5000, maxIdle = 32 }: RedisOptions) {
    this.url = new URL(url);
    if (this.url.protocol !== "redis:" && this.url.protocol !== "rediss:") {
      throw new Error(`not a redis:// URL: ${url}`);
    }
    this.timeoutMs = timeoutMs;
    this.maxIdle = maxIdle;
    this.shared = new Connection(this.url, timeoutMs);
  }

  /** Run `use` on a connection of its own (nothing else is sent on it meanwhile). */
  async exclusive<T>(use: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = this.idle.pop() ?? new Connection(this.url, this.timeoutMs);
    let reusable = false;
    try {
      const result = await use(conn);
      reusable = true;
      return result;
    } finally {
      if (reusable && conn.healthy && this.idle.length < this.maxIdle) this.idle.push(conn);
      else conn.close();
    }
  }

  close() {
    this.shared.close();
    for (const conn of this.idle.splice(0)) conn.close();
  }
}
