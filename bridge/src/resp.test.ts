// The RESP2 parser: any split of the byte stream gives the same replies.
import { describe, expect, test } from "bun:test";
import { Buffer } from "node:buffer";
import { encodeCommand, RedisError, type Reply, ReplyParser } from "./resp.ts";

const STREAM = Buffer.concat([
  Buffer.from("+OK\r\n:42\r\n:-7\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n-ERR bad thing\r\n"),
  Buffer.from("$6\r\nhé\r\nx\r\n"), // bulk strings may contain CR LF
  Buffer.from("*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n-WRONGTYPE nested\r\n"),
  Buffer.from("*2\r\n*1\r\n*1\r\n:5\r\n$4\r\n"),
  Buffer.from([0xff, 0x00, 0x0d, 0x0a]),
  Buffer.from("\r\n"),
]);

const EXPECTED: unknown[] = [
  "OK",
  42,
  -7,
  null,
  null,
  [],
  "",
  new RedisError("ERR bad thing"),
  "hé\r\nx",
  ["a", [1, null], new RedisError("WRONGTYPE nested")],
  [[[5]], Buffer.from([0xff, 0x00, 0x0d, 0x0a]).toString("latin1")],
];

const plain = (r: Reply): unknown =>
  Array.isArray(r)
    ? r.map(plain)
    : Buffer.isBuffer(r)
    ? (r.includes(0xff) ? r.toString("latin1") : r.toString("utf8"))
    : r;

function parseInChunks(sizes: (i: number) => number) {
  const replies: Reply[] = [];
  const parser = new ReplyParser((r) => replies.push(r));
  for (let at = 0, i = 0; at < STREAM.length; i++) {
    const size = Math.max(1, sizes(i));
    parser.feed(STREAM.subarray(at, at + size));
    at += size;
  }
  return replies.map(plain);
}

describe("ReplyParser", () => {
  test("parses every RESP2 type, nested arrays and errors inside arrays", () => {
    expect(parseInChunks(() => STREAM.length)).toEqual(EXPECTED);
  });

  test("gives the same replies whatever the chunking", () => {
    expect(parseInChunks(() => 1)).toEqual(EXPECTED);
    for (let size = 2; size < 20; size++) expect(parseInChunks(() => size)).toEqual(EXPECTED);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), 1 + (seed % 13));
    for (let run = 0; run < 50; run++) expect(parseInChunks(random)).toEqual(EXPECTED);
  });

  test("a large bulk string in many chunks is parsed once complete", () => {
    const value = Buffer.alloc(1_000_000, "x");
    const replies: Reply[] = [];
    const parser = new ReplyParser((r) => replies.push(r));
    const wire = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from("\r\n:1\r\n")]);
    for (let at = 0; at < wire.length; at += 65536) parser.feed(wire.subarray(at, at + 65536));
    expect(replies.length).toBe(2);
    expect((replies[0] as Buffer).equals(value)).toBe(true);
    expect(replies[1]).toBe(1);
  });
});

test("encodeCommand counts bytes, not characters", () => {
  expect(encodeCommand(["SET", "k", "😀é"])).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n😀é\r\n");
});
