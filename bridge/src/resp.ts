// RESP2, the protocol SRH's Redis client (Redix) speaks, so replies have exactly the
// shapes Upstash clients expect: flat arrays for maps, strings for doubles.
// Bulk and simple strings stay raw bytes (Buffer) so binary values survive base64.
import { Buffer } from "node:buffer";

/** An error reply from Redis (e.g. "WRONGTYPE …"): a value, not a failure of the connection. */
export class RedisError extends Error {
  override name = "RedisError";
}

export type Reply = Buffer | number | null | RedisError | Reply[];

/** A command as RESP: an array of bulk strings. Built as one string; the socket writes it as UTF-8. */
export function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

const CR = 13;
const EMPTY = Buffer.alloc(0);
const INCOMPLETE = Symbol("incomplete");
const OPEN_ARRAY = Symbol("open array");

type Frame = { items: Reply[]; left: number };

/**
 * Incremental reply parser. Resumable: a partly received array keeps the elements
 * already parsed, and a partly received bulk string says how many bytes it still
 * needs, so a large reply arriving in many chunks costs O(size), not O(size²).
 */
export class ReplyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private stack: Frame[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes (from pos) needed before parsing can progress; 0 when unknown. */
  private need = 0;

  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: Buffer) {
    const available = this.buf.length - this.pos + this.pendingBytes + chunk.length;
    if (this.need && available < this.need) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return;
    }
    if (this.pos < this.buf.length || this.pendingBytes) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.pending, chunk]);
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    this.need = 0;
    this.drain();
  }

  reset() {
    this.buf = EMPTY;
    this.pos = 0;
    this.stack = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
  }

  private drain() {
    for (;;) {
      const start = this.pos;
      let value = this.parseOne();
      if (value === INCOMPLETE) {
        this.pos = start;
        break;
      }
      if (value === OPEN_ARRAY) continue;
      // Fill enclosing arrays; a completed array is itself the value for its parent.
      let done = true;
      while (this.stack.length) {
        const top = this.stack[this.stack.length - 1]!;
        top.items.push(value);
        if (--top.left > 0) {
          done = false;
          break;
        }
        this.stack.pop();
        value = top.items;
      }
      if (done) this.onReply(value);
    }
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
  }

  /** One scalar, or the header of a non-empty array (pushed as a frame). */
  private parseOne(): Reply | typeof INCOMPLETE | typeof OPEN_ARRAY {
    const buf = this.buf;
    if (this.pos >= buf.length) return INCOMPLETE;
    const eol = buf.indexOf(CR, this.pos + 1);
    if (eol < 0 || eol + 1 >= buf.length) return INCOMPLETE;
    const type = buf[this.pos];
    const lineStart = this.pos + 1;
    switch (type) {
      case 0x2b: // + simple string
        this.pos = eol + 2;
        return buf.subarray(lineStart, eol);
      case 0x2d: // - error
        this.pos = eol + 2;
        return new RedisError(buf.toString("utf8", lineStart, eol));
      case 0x3a: // : integer
        this.pos = eol + 2;
        return parseInteger(buf, lineStart, eol);
      case 0x24: { // $ bulk string
        const len = parseInteger(buf, lineStart, eol);
        if (len < 0) {
          this.pos = eol + 2;
          return null;
        }
        const end = eol + 2 + len;
        if (end + 2 > buf.length) {
          this.need = end + 2 - (this.pos);
          return INCOMPLETE;
        }
        this.pos = end + 2;
        return buf.subarray(eol + 2, end);
      }
      case 0x2a: { // * array
        const len = parseInteger(buf, lineStart, eol);
        this.pos = eol + 2;
        if (len < 0) return null;
        if (len === 0) return [];
        this.stack.push({ items: [], left: len });
        return OPEN_ARRAY;
      }
      default:
        throw new Error(`RESP protocol error: unexpected byte ${type}`);
    }
  }
}

function parseInteger(buf: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let n = 0;
  for (; i < end; i++) n = n * 10 + (buf[i]! - 48);
  return negative ? -n : n;
}
