// A small browser for tests of the admin site: keeps cookies, sends the form posts a
// browser would (with Origin), and reads the forms' CSRF token. `fetch` may be a
// real one (system tests) or an app's `request` (in-process tests).
export type FetchLike = (url: string, init?: RequestInit) => Response | Promise<Response>;

export class AdminBrowser {
  cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    private fetcher: FetchLike = (url, init) => fetch(url, init),
    private extraHeaders: Record<string, string> = {},
  ) {}

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  private headers(extra: Record<string, string> = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return { ...this.extraHeaders, ...(cookie ? { Cookie: cookie } : {}), ...extra };
  }

  async get(path: string, extra: Record<string, string> = {}) {
    return this.remember(
      await this.fetcher(`${this.base}${path}`, {
        headers: this.headers({ Accept: "text/html", ...extra }),
        redirect: "manual",
      }),
    );
  }

  async post(path: string, fields: Record<string, string>, extra: Record<string, string> = {}) {
    return this.remember(
      await this.fetcher(`${this.base}${path}`, {
        method: "POST",
        headers: this.headers({
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: new URL(this.base).origin,
          Accept: "text/html",
          ...extra,
        }),
        body: new URLSearchParams(fields).toString(),
        redirect: "manual",
      }),
    );
  }

  login(user: string, password: string) {
    return this.post("/admin/login", { user, password });
  }

  /** The CSRF token in the forms of a page. */
  async token(path = "/admin") {
    const res = await this.get(path);
    const body = await res.text();
    const token = body.match(/name="_csrf" value="([^"]+)"/)?.[1];
    if (!token) throw new Error(`no form token on ${path} (HTTP ${res.status})`);
    return token;
  }

  /** The Idempotency-Keys of a page's write forms, in page order (admin/src/pages/shared.tsx WriteKey). */
  async writeKeys(path = "/admin") {
    const body = await (await this.get(path)).text();
    return [...body.matchAll(/name="idem" value="([^"]+)"/g)].map((m) => m[1]!);
  }

  /** Post a form of the signed-in site, with the session's token. */
  async submit(path: string, fields: Record<string, string>, extra: Record<string, string> = {}) {
    return this.post(path, { ...fields, _csrf: await this.token() }, extra);
  }
}
