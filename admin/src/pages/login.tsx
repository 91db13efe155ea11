/** @jsxImportSource hono/jsx */
// The sign-in page.
import { Alert, Layout } from "@bazaar/lib/ui/layout.tsx";
import type { Frame } from "./shared.tsx";

export function LoginPage(props: Frame & { user?: string; error?: string; next?: string }) {
  return (
    <Layout identity={props.identity} site={props.site} title="Sign in">
      <section class="card auth">
        <div class="card-body">
          <h1>Sign in</h1>
          <p class="muted">The admin site of the Bazaar store.</p>
          {props.error ? <Alert kind="error">{props.error}</Alert> : null}
          <form method="post" action="/admin/login">
            <div class="field">
              <label for="user">User name</label>
              <input
                class="input"
                id="user"
                name="user"
                autocomplete="username"
                required
                value={props.user ?? ""}
                autofocus
              />
            </div>
            <div class="field">
              <label for="password">Password</label>
              <input
                class="input"
                id="password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
              />
            </div>
            <button class="btn btn-block" type="submit">Sign in</button>
          </form>
        </div>
      </section>
    </Layout>
  );
}
