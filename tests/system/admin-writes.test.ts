// Admin writes answer the truth by their deadline, and one sent again with the same
// Idempotency-Key is made once (docs/reliability.md, "An admin write answered 503
// happens anyway"): a held row, a paused database, a COMMIT that is never answered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { AdminBrowser } from "../../testutil/src/admin-browser.ts";
import { addItem } from "../../admin-api/src/catalog-writes.ts";
import { once, writeRequest } from "../../admin-api/src/once.ts";
import { createDb, OUTCOME_UNKNOWN } from "../../lib/src/data/db.ts";
import { dbConfig, uniqueName } from "../../testutil/src/test-stack.ts";
import { adminDbConnection, createItem, dbQuantity, holdRow, restoreAll } from "./helpers.ts";
import { adminApi, store, unescapeHtml } from "./http.ts";
import { env, eventually, stack } from "./stack.ts";

const db = createDb(dbConfig("admin"));
let holder: mysql.Connection;
let admin: AdminBrowser;
beforeAll(async () => {
  holder = await adminDbConnection();
  admin = new AdminBrowser(store());
  expect((await admin.login(env("ADMIN_USER"), env("ADMIN_PASSWORD"))).status).toBe(303);
});
afterAll(async () => {
  await holder?.end();
  await db.close();
});

/** The database paused (SIGSTOP) while `during` runs; then resumed, and the stack whole again. */
async function paused<T>(during: () => Promise<T>): Promise<T> {
  stack().kill("db", "SIGSTOP");
  try {
    return await during();
  } finally {
    stack().kill("db", "SIGCONT");
    await restoreAll();
  }
}

const timed = async <T>(work: () => Promise<T>) => {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
};

type Written = { data?: { item: { quantity: number }; replayed: boolean }; error?: { message: string } };

describe("an admin write the database cannot make in time", () => {
  test(
    "a restock of a held row (the review's Whale): 503 'nothing was changed' inside the site's deadline; nothing changes; the same form, once free, is made once",
    async () => {
      const name = uniqueName("Held");
      await createItem(name, 80);
      const token = await admin.token();
      const [idem] = await admin.writeKeys();
      const form = { name, quantity: "7", price: "", _csrf: token, idem: idem! };
      let answer: { status: number; html: string } | undefined;
      let ms = 0;
      await holdRow(holder, name, 5000, async () => {
        const t = await timed(() => admin.post("/admin/items", form));
        ms = t.ms;
        answer = { status: t.value.status, html: unescapeHtml(await t.value.text()) };
      });
      expect(answer!.status).toBe(503);
      expect(answer!.html).toContain("Nothing was changed: the store could not make the change in time");
      expect(ms).toBeLessThan(3000);
      // The holder has let go: still 80, as the answer said (the review saw 87).
      await Bun.sleep(1000);
      expect(await dbQuantity(name)).toBe(80);
      // Sent again (nothing was recorded under its key), it is made; a third time, not again.
      expect((await admin.post("/admin/items", form)).status).toBe(303);
      expect((await admin.post("/admin/items", form)).status).toBe(303);
      expect(await dbQuantity(name)).toBe(87);
    },
    30_000,
  );

  test(
    "the database paused (at least 5 s): an add answers 503 within the site's 8 s write deadline and is not made; sent again with its key once the database is back, it is made once",
    async () => {
      const name = uniqueName("Paused");
      const key = { "Idempotency-Key": crypto.randomUUID() };
      const body = { name, quantity: 10, price: 5 };
      const first = await paused(async () => {
        const t = await timed(() => adminApi("POST", "/items", body, key));
        // Held paused past the answer, as the review's 5 s were.
        await Bun.sleep(Math.max(0, 5000 - t.ms));
        return t;
      });
      expect(first.value.status, JSON.stringify(first.value.body)).toBe(503);
      expect((first.value.body as Written).error!.message).toStartWith("the change was not made:");
      // admin-api's budget is 7 s (it covers a database failover), the site's write deadline 8 s.
      expect(first.ms).toBeLessThan(8000);
      expect(await dbQuantity(name)).toBeNull();
      const again = await adminApi("POST", "/items", body, key);
      expect(again.status).toBe(201);
      expect((again.body as Written).data!.replayed).toBe(false);
      const third = await adminApi("POST", "/items", body, key);
      expect(third.status).toBe(201);
      expect((third.body as Written).data!.replayed).toBe(true);
      expect(await dbQuantity(name)).toBe(10);
    },
    60_000,
  );

  test(
    "a COMMIT the database never answers is 504 'may or may not'; this one was made, and sent again with its key it is answered, not made twice",
    async () => {
      const name = uniqueName("Unanswered");
      await createItem(name, 10);
      const request = { name, quantity: 5 };
      const write = writeRequest(crypto.randomUUID(), "POST /items", request);
      let outcome = "";
      try {
        outcome = await once(db, write, (conn) => {
          // The database paused the moment COMMIT is sent (after the key is recorded):
          // the COMMIT waits in its socket. (This connection is destroyed, never reused.)
          const commit = conn.commit.bind(conn);
          conn.commit = () => (stack().kill("db", "SIGSTOP"), commit());
          return addItem(conn, request);
        }).then(
          () => "answered",
          (err: { status?: number; message?: string }) => `${err.status} ${err.message}`,
        );
      } finally {
        stack().kill("db", "SIGCONT");
        await restoreAll();
      }
      expect(outcome).toBe(`504 ${OUTCOME_UNKNOWN}`);
      // Resumed, the database read the COMMIT before it saw the connection closed: made.
      await eventually(async () => (await dbQuantity(name)) === 15, 10_000);
      // Sent again with its key: the answer recorded with it, and no second change.
      const again = await once(
        db,
        writeRequest(write.key, "POST /items", request),
        (conn) => addItem(conn, request),
      );
      expect(again.replayed).toBe(true);
      expect(again.value.added.item.quantity).toBe(15);
      expect(await dbQuantity(name)).toBe(15);
    },
    60_000,
  );
});

describe("the same Idempotency-Key sent again", () => {
  const send = (method: string, path: string, body: unknown, key: string) =>
    adminApi(method, path, body, { "Idempotency-Key": key });

  test("two restocks with one key at the same moment: made once, both answered with it, one says replayed", async () => {
    const name = uniqueName("Twice");
    await createItem(name, 10);
    const key = crypto.randomUUID();
    const answers = await Promise.all([1, 2].map(() => send("POST", "/items", { name, quantity: 3 }, key)));
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const data = answers.map((a) => (a.body as Written).data!);
    expect(data.map((d) => d.item.quantity)).toEqual([13, 13]);
    expect(data.filter((d) => d.replayed).length).toBe(1);
    expect(await dbQuantity(name)).toBe(13);
  });

  test("a correction and a deletion sent again get their first answer: the deletion is not a 404 the second time", async () => {
    const name = uniqueName("Again");
    await createItem(name, 10);
    const path = `/items/${encodeURIComponent(name)}`;
    const fix = crypto.randomUUID();
    for (const replayed of [false, true]) {
      const res = await send("PATCH", path, { quantity: 4, was_quantity: 10 }, fix);
      expect(res.status).toBe(200);
      expect((res.body as Written).data).toMatchObject({ item: { quantity: 4 }, replayed });
    }
    const gone = crypto.randomUUID();
    for (const replayed of [false, true]) {
      const res = await send("DELETE", path, undefined, gone);
      expect(res.status).toBe(200);
      expect((res.body as Written).data).toMatchObject({ item: { quantity: 4 }, replayed });
    }
    expect(await dbQuantity(name)).toBeNull();
  });

  test("a key sent again with another request is refused (422), and changes nothing", async () => {
    const name = uniqueName("Reused");
    await createItem(name, 10);
    const key = crypto.randomUUID();
    expect((await send("POST", "/items", { name, quantity: 1 }, key)).status).toBe(200);
    const other = await send("POST", "/items", { name, quantity: 2 }, key);
    expect(other.status).toBe(422);
    expect((other.body as Written).error!.message).toBe(
      "Idempotency-Key: already used for a different request; send a new key for a new change",
    );
    expect(await dbQuantity(name)).toBe(11);
  });

  test("a malformed key is a 400 naming the header, and changes nothing", async () => {
    const name = uniqueName("Badkey");
    await createItem(name, 10);
    for (const key of ["short", "has spaces in it", "x".repeat(65)]) {
      const res = await send("POST", "/items", { name, quantity: 1 }, key);
      expect(res.status).toBe(400);
      expect((res.body as Written).error!.message).toContain("idempotency-key");
    }
    expect(await dbQuantity(name)).toBe(10);
  });
});
