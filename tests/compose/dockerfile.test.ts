// The Dockerfile, read as Docker would: the images ship what scripts/build.ts
// compiles (with CI's flags), from the lockfile, as a non-root user on a glibc base
// with no shell tools, exposing only the app's port, checked by the executable's own
// --healthcheck, and holding the mount points of compose's secret volumes, owned by
// that user. Plus: .dockerignore lets in everything the build reads and nothing it
// should not.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { DEFAULT_SECRETS_DIR } from "../../lib/src/secrets/secrets.ts";
import { APPS } from "../../scripts/build.ts";
import {
  APP_DIRS,
  APP_ENTRIES,
  dockerignore,
  entryDefault,
  execForm,
  freePort,
  imageOf,
  inherited,
  loadCompose,
  mounts,
  parseDockerfile,
  read,
  ROOT,
  SECRET_FOLDERS,
  secretsService,
  secretVolumes,
  untilLine,
} from "./support.ts";

const { globalArgs, stages } = parseDockerfile(read("Dockerfile"));
const build = stages.find((s) => s.name === "build")!;
const runs = build.instructions.filter((i) => i.op === "RUN").map((i) => i.args);
const ignored = dockerignore(read(".dockerignore"));
/** COPY's options (--from=, --chown=), its sources and its destination. */
const copyParts = (args: string) => {
  const words = args.split(/\s+/);
  const options = Object.fromEntries(
    words.filter((w) => w.startsWith("--")).map((w) => w.slice(2).split("=", 2) as [string, string]),
  );
  const paths = words.filter((w) => !w.startsWith("--"));
  return { options, sources: paths.slice(0, -1), dest: paths.at(-1)! };
};
/** The image's COPY that puts the secret volumes' mount points at DEFAULT_SECRETS_DIR. */
const isSecretsCopy = (i: { op: string; args: string }) =>
  i.op === "COPY" && copyParts(i.args).dest === DEFAULT_SECRETS_DIR;

describe("the build stage", () => {
  test("builds on the Bun that runs these tests (a build argument, oven/bun by default)", () => {
    expect(build.base).toBe("${BUN_IMAGE}");
    expect(globalArgs.get("BUN_IMAGE")).toBe(`oven/bun:${Bun.version}`);
  });

  test("has no syntax directive (BuildKit would pull its frontend image first)", () => {
    expect(read("Dockerfile")).not.toMatch(/^#\s*syntax=/m);
  });

  test("installs exactly what bun.lock says", () => {
    expect(runs.some((r) => /^bun install\b.*--frozen-lockfile/.test(r))).toBe(true);
  });

  test("copies every workspace's manifest before installing (the lockfile covers them all)", () => {
    const workspaces: string[] = JSON.parse(read("package.json")).workspaces;
    const copies = build.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    const install = build.instructions.findIndex((i) => i.op === "RUN" && i.args.startsWith("bun install"));
    const before = build.instructions.slice(0, install).filter((i) => i.op === "COPY").map((i) => i.args);
    for (const w of workspaces) expect(before).toContain(`${w}/package.json ${w}/`);
    expect(copies.some((c) => c.split(/\s+/).includes("bun.lock"))).toBe(true);
  });

  test("compiles with scripts/build.ts (so with its flags), every app an image ships, and nothing else compiles", () => {
    const compile = runs.filter((r) => /\bbun\b.*\bbuild\b/.test(r));
    expect(compile).toHaveLength(1);
    const [cmd, script, ...apps] = compile[0]!.split(/\s+/);
    expect([cmd, script]).toEqual(["bun", "scripts/build.ts"]);
    expect(apps.sort()).toEqual([...APP_DIRS].sort());
    for (const app of apps) expect(APPS as readonly string[]).toContain(app);
  });

  test("copies every source file the bundler reads for each app, and .dockerignore lets them in", async () => {
    // Every source of every COPY (all words but the last, the destination).
    const copied = build.instructions.filter((i) => i.op === "COPY" && !i.args.startsWith("--")).flatMap((
      i,
    ) => i.args.split(/\s+/).slice(0, -1));
    for (const app of APP_DIRS) {
      const r = await Bun.build({
        entrypoints: [path.join(ROOT, app, "src/main.ts")],
        target: "bun",
        metafile: true,
        throw: true,
      });
      const inputs = Object.keys(r.metafile!.inputs).map((f) => path.relative(ROOT, path.resolve(f))).filter((
        f,
      ) => !f.includes("node_modules"));
      expect(inputs.length).toBeGreaterThan(3);
      for (const file of [...inputs, "tsconfig.json", "scripts/build.ts", "bun.lock"]) {
        expect({ file, inContext: !ignored(file) }).toEqual({ file, inContext: true });
        expect({
          file,
          copied: copied.some((c) => file === c || file.startsWith(`${c.replace(/\/$/, "")}/`)),
        }).toEqual({ file, copied: true });
      }
    }
  });
});

describe("each app's image", () => {
  for (const app of APP_DIRS) {
    describe(app, () => {
      const image = inherited(stages, app);
      const chain: string[] = [];
      for (let s = stages.find((x) => x.name === app); s; s = stages.find((x) => x.name === s!.base)) {
        chain.push(s.base);
      }
      const last = (op: string) => image.filter((i) => i.op === op).at(-1);

      test("runs on a minimal glibc base (distroless/cc or Debian slim), not the build image", () => {
        const base = chain.at(-1)!.replace(/^\$\{(\w+)\}$/, (_, arg) => globalArgs.get(arg) ?? "");
        expect(base).toMatch(/^(gcr\.io\/distroless\/cc[-\w]*(:[\w.-]+)?|debian:[\w.-]*slim)$/);
        expect(chain).not.toContain("build");
      });

      test("holds only its own executable, from the build stage's dist/ (and the secret volumes' mount points)", () => {
        const copies = image.filter((i) => i.op === "COPY" && !isSecretsCopy(i));
        expect(copies.map((c) => c.args)).toEqual([`--from=build /src/dist/${app} /app/server`]);
        expect(image.filter(isSecretsCopy)).toHaveLength(1);
        expect(execForm(last("ENTRYPOINT")!.args)).toEqual(["/app/server"]);
      });

      test(`has ${DEFAULT_SECRETS_DIR}/<folder> for every folder --init-secrets writes, owned by the user it runs as (a new volume takes that owner)`, () => {
        const { options, sources } = copyParts(image.find(isSecretsCopy)!.args);
        expect(options.from).toBe("build");
        expect(options.chown).toBe(last("USER")!.args);
        expect(sources).toHaveLength(1);
        // The build stage makes exactly those folders under the copied one, and nothing else there.
        const made = runs.flatMap((r) => {
          const m = /^mkdir\s+-p\s+(.*)$/.exec(r);
          return m ? m[1]!.split(/\s+/) : [];
        });
        expect(
          made.filter((d) => d.startsWith(`${sources[0]}/`)).map((d) => path.posix.relative(sources[0]!, d))
            .sort(),
        ).toEqual([...SECRET_FOLDERS].sort());
      });

      test("runs as a non-root user (numeric, so the runtime can check)", () => {
        const user = last("USER")!.args;
        expect(user).toMatch(/^\d+(:\d+)?$/);
        expect(Number(user.split(":")[0])).toBeGreaterThan(0);
      });

      test("exposes only the app's port (its config schema's default)", () => {
        expect(image.filter((i) => i.op === "EXPOSE").map((i) => i.args)).toEqual([
          entryDefault(APP_ENTRIES[app].PORT)!,
        ]);
      });

      test("checks its health with the executable itself: no shell, no curl", () => {
        const hc = last("HEALTHCHECK")!.args;
        const cmd = execForm(hc.replace(/^(--\S+\s+)*CMD\s+/, ""));
        expect(cmd).toEqual(["/app/server", "--healthcheck"]);
        expect(hc).not.toMatch(/curl|wget|\bsh\b/);
      });
    });
  }

  test("compose builds every app service (and the secrets service) from one of its targets", () => {
    const compose = loadCompose();
    for (const [name, s] of Object.entries(compose.services)) {
      if (!s.build) continue;
      expect({ name, context: s.build.context, target: imageOf(s) }).toEqual({
        name,
        context: ".",
        target: expect.any(String),
      });
    }
  });

  test(`the secrets service mounts its volumes at those folders of ${DEFAULT_SECRETS_DIR}, in an image that has them`, () => {
    const compose = loadCompose();
    const s = compose.services[secretsService(compose)]!;
    const targets = mounts(s).filter((m) => secretVolumes(compose).has(m.source)).map((m) => m.target).sort();
    expect(targets).toEqual(SECRET_FOLDERS.map((f) => `${DEFAULT_SECRETS_DIR}/${f}`).sort());
    expect(s.environment?.SECRETS_DIR).toBeUndefined();
    expect(inherited(stages, s.build!.target!).some(isSecretsCopy)).toBe(true);
  });
});

describe(".dockerignore", () => {
  test("keeps out dependencies, local data, builds, secrets, git and tests", () => {
    for (
      const f of [
        "node_modules/hono/package.json",
        "api/node_modules/x",
        ".local/mysql/ibdata1",
        "dist/api",
        ".env",
        ".git/HEAD",
        "tests/setup.ts",
        "api/src/app.test.ts",
        "README.md",
      ]
    ) {
      expect({ f, ignored: ignored(f) }).toEqual({ f, ignored: true });
    }
  });
});

describe("--healthcheck, the HEALTHCHECK's command", () => {
  // Under the compiled pass this is the executable the image ships; else the same entry on Bun.
  const exe = process.env.STACK_RUNTIME === "compiled" && existsSync(path.join(ROOT, "dist/web"))
    ? [path.join(ROOT, "dist/web")]
    : [process.execPath, path.join(ROOT, "web/src/main.ts")];
  let server: Bun.Subprocess<"ignore", "pipe", "inherit"> | undefined;
  afterAll(() => server?.kill());

  test("exits 0 while the app answers /healthz on its PORT, 1 once it is gone", async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH!,
      PORT: String(port),
      HOST: "127.0.0.1",
      API_URL: "http://127.0.0.1:9/",
      API_TOKEN: "healthcheck-test-token",
    };
    const probe = () =>
      Bun.spawn([...exe, "--healthcheck"], { env, stdout: "ignore", stderr: "ignore" }).exited;
    expect(await probe()).toBe(1);
    server = Bun.spawn(exe, { env, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
    expect(await untilLine(server.stdout, "listening")).toContain("listening");
    expect(await probe()).toBe(0);
    server.kill("SIGTERM");
    await server.exited;
    expect(await probe()).toBe(1);
  }, 20_000);
});

// The mysql image *sources* a non-executable .sh but *runs* an executable one, and
// Docker Desktop's bind mounts make every file look executable: accounts.sh works
// both ways (tests/compose/accounts.test.ts), and is committed executable so that a
// Linux checkout takes the same path as those hosts (the compose pass runs it so).
test("db/accounts.sh is executable in git and in the work tree, and checked out with LF endings", () => {
  const ls = Bun.spawnSync(["git", "ls-files", "-s", "db/accounts.sh"], { cwd: ROOT }).stdout.toString();
  if (ls) expect(ls.split(" ")[0]).toBe("100755");
  expect(statSync(path.join(ROOT, "db/accounts.sh")).mode & 0o111).not.toBe(0);
  expect(readFileSync(path.join(ROOT, "db/accounts.sh"), "utf8")).not.toContain("\r");
  expect(read(".gitattributes")).toMatch(/^\*\s+text=auto\s+eol=lf$/m);
});
