// The one stylesheet of both sites, served from a cached route (the CSP allows no
// inline styles). Its URL carries a hash of its content, so it can be cached forever.
import type { Hono } from "hono";

export const CSS = `
:root {
  --bg: #f6f7f9; --surface: #fff; --text: #1d2433; --muted: #5d6678; --line: #e3e6ec;
  --brand: #4338ca; --brand-dark: #3730a3; --brand-soft: #eef0ff;
  --ok: #047857; --ok-soft: #ecfdf5; --warn: #b45309; --warn-soft: #fffbeb;
  --bad: #b91c1c; --bad-soft: #fef2f2; --radius: 12px;
  --shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08);
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  min-height: 100vh; display: flex; flex-direction: column;
}
a { color: var(--brand); text-decoration: none; }
a:hover { text-decoration: underline; }
h1, h2, h3 { line-height: 1.2; margin: 0 0 .5rem; }
h1 { font-size: 1.75rem; letter-spacing: -.01em; }
h2 { font-size: 1.25rem; }
p { margin: 0 0 1rem; }
.wrap { width: 100%; max-width: 1120px; margin: 0 auto; padding: 0 1rem; }

/* The serving instance, top left of every page. */
.topbar { background: #111827; color: #cbd5e1; font-size: .78rem; }
.topbar .wrap { display: flex; justify-content: space-between; align-items: center; gap: 1rem; min-height: 30px; }
.served-by { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #e5e7eb; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.served-by::before { content: ""; display: inline-block; width: 7px; height: 7px; border-radius: 50%; background: #34d399; margin-right: .45rem; vertical-align: 1px; }
.topbar-note { color: #94a3b8; white-space: nowrap; }

.header { background: var(--surface); border-bottom: 1px solid var(--line); }
.header .wrap { display: flex; align-items: center; justify-content: space-between; gap: 1rem; min-height: 64px; flex-wrap: wrap; }
.brand { display: flex; align-items: center; gap: .6rem; font-weight: 800; font-size: 1.3rem; color: var(--text); letter-spacing: -.02em; }
.brand:hover { text-decoration: none; }
.brand-mark { width: 34px; height: 34px; border-radius: 9px; background: linear-gradient(135deg, #6366f1, #4338ca); color: #fff; display: grid; place-items: center; font-size: 1.05rem; }
.brand small { font-weight: 600; font-size: .8rem; color: var(--muted); letter-spacing: 0; }
.nav { display: flex; align-items: center; gap: .25rem; flex-wrap: wrap; }
.nav a, .nav button.linkish { color: var(--muted); font-weight: 600; padding: .45rem .7rem; border-radius: 8px; font-size: .95rem; }
.nav a:hover, .nav button.linkish:hover { background: var(--bg); color: var(--text); text-decoration: none; }
.nav a[aria-current="page"] { color: var(--brand); background: var(--brand-soft); }
.nav form { margin: 0; }

main { flex: 1; padding: 1.75rem 0 3rem; }
.footer { border-top: 1px solid var(--line); background: var(--surface); color: var(--muted); font-size: .85rem; }
.footer .wrap { padding-top: 1rem; padding-bottom: 1rem; display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }

.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 1rem; flex-wrap: wrap; margin-bottom: 1.25rem; }
.page-head p { color: var(--muted); margin: 0; }
.muted { color: var(--muted); }

/* Buttons and fields */
.btn { appearance: none; display: inline-flex; align-items: center; justify-content: center; gap: .4rem; border: 1px solid transparent; border-radius: 9px; padding: .6rem 1rem; font: inherit; font-weight: 650; line-height: 1.2; cursor: pointer; background: var(--brand); color: #fff; white-space: nowrap; }
.btn:hover { background: var(--brand-dark); text-decoration: none; }
.btn:focus-visible, .input:focus-visible, a:focus-visible { outline: 3px solid #a5b4fc; outline-offset: 1px; }
.btn[disabled] { background: #e5e7eb; color: #6b7280; cursor: not-allowed; }
.btn-secondary { background: var(--surface); color: var(--text); border-color: var(--line); }
.btn-secondary:hover { background: var(--bg); }
.btn-danger { background: var(--bad); }
.btn-danger:hover { background: #991b1b; }
.btn-small { padding: .4rem .7rem; font-size: .88rem; }
.btn-block { width: 100%; }
button.linkish { background: none; border: 0; font: inherit; cursor: pointer; }
.input { width: 100%; font: inherit; padding: .55rem .7rem; border: 1px solid #cfd4dc; border-radius: 9px; background: #fff; color: var(--text); min-width: 0; }
.input[aria-invalid="true"] { border-color: var(--bad); background: var(--bad-soft); }
label { font-weight: 600; font-size: .9rem; display: block; margin-bottom: .3rem; }
.field { margin-bottom: .9rem; }
.field-error { color: var(--bad); font-size: .85rem; margin-top: .3rem; font-weight: 550; }
.hint { color: var(--muted); font-size: .85rem; margin-top: .3rem; }

/* Messages */
.alert { border-radius: 10px; padding: .8rem 1rem; margin-bottom: 1.25rem; border: 1px solid; font-weight: 550; }
.alert-success { background: var(--ok-soft); border-color: #a7f3d0; color: var(--ok); }
.alert-error { background: var(--bad-soft); border-color: #fecaca; color: var(--bad); }
.alert-info { background: var(--brand-soft); border-color: #c7d2fe; color: var(--brand-dark); }

/* Cards and the product grid */
.card { background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); }
.card-body { padding: 1.1rem 1.2rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 1.1rem; }
.product { display: flex; flex-direction: column; overflow: hidden; }
.product-art { aspect-ratio: 16 / 9; display: grid; place-items: center; font-size: 2.6rem; font-weight: 800; color: rgba(255,255,255,.95); letter-spacing: -.02em; }
.swatch-0 { background: linear-gradient(135deg, #6366f1, #8b5cf6); }
.swatch-1 { background: linear-gradient(135deg, #0ea5e9, #2563eb); }
.swatch-2 { background: linear-gradient(135deg, #10b981, #0d9488); }
.swatch-3 { background: linear-gradient(135deg, #f59e0b, #ea580c); }
.swatch-4 { background: linear-gradient(135deg, #ec4899, #db2777); }
.swatch-5 { background: linear-gradient(135deg, #14b8a6, #0891b2); }
.swatch-6 { background: linear-gradient(135deg, #f43f5e, #e11d48); }
.swatch-7 { background: linear-gradient(135deg, #a855f7, #6d28d9); }
.product.soldout .product-art { filter: grayscale(1); opacity: .55; }
.product .card-body { display: flex; flex-direction: column; gap: .55rem; flex: 1; }
.product-name { font-size: 1.08rem; font-weight: 700; margin: 0; overflow-wrap: anywhere; }
.product-meta { display: flex; align-items: center; justify-content: space-between; gap: .5rem; flex-wrap: wrap; }
.price { font-size: 1.3rem; font-weight: 800; letter-spacing: -.01em; }
.badge { display: inline-block; font-size: .78rem; font-weight: 700; padding: .2rem .55rem; border-radius: 999px; background: var(--ok-soft); color: var(--ok); white-space: nowrap; }
.badge-low { background: var(--warn-soft); color: var(--warn); }
.badge-out { background: #f1f5f9; color: #475569; }
.buy { display: flex; gap: .5rem; margin-top: auto; align-items: stretch; }
.buy .qty { width: 5.2rem; flex: none; }
.buy .btn { flex: 1; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); white-space: nowrap; border: 0; }

.lookup { display: flex; gap: .5rem; align-items: stretch; }
.finders { display: flex; gap: .75rem; flex-wrap: wrap; }
.lookup .input { width: 11rem; }
.empty { text-align: center; padding: 3rem 1rem; }
.empty .big { font-size: 2.5rem; margin-bottom: .5rem; }

/* The order page */
.receipt { max-width: 560px; margin: 0 auto; }
.receipt-head { display: flex; align-items: center; gap: .9rem; margin-bottom: 1rem; }
.receipt-head p { margin: 0; }
.check { width: 44px; height: 44px; border-radius: 50%; background: var(--ok-soft); color: var(--ok); display: grid; place-items: center; font-size: 1.4rem; font-weight: 800; flex: none; }
.lines { width: 100%; border-collapse: collapse; }
.lines th, .lines td { padding: .65rem 0; border-bottom: 1px solid var(--line); text-align: left; }
.lines th { color: var(--muted); font-weight: 550; width: 45%; }
.lines td { text-align: right; font-weight: 600; overflow-wrap: anywhere; }
.lines tr.total th, .lines tr.total td { border-bottom: 0; font-size: 1.15rem; color: var(--text); font-weight: 800; }
.actions { display: flex; gap: .6rem; flex-wrap: wrap; margin-top: 1.25rem; }

/* Tables (admin) */
.table-wrap { overflow-x: auto; }
.table { width: 100%; border-collapse: collapse; font-size: .95rem; }
.table th { text-align: left; font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 700; padding: .7rem .9rem; border-bottom: 1px solid var(--line); background: #fafbfc; }
.table td { padding: .6rem .9rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
.table tr:last-child td { border-bottom: 0; }
.table .num { text-align: right; font-variant-numeric: tabular-nums; }
/* break-word, not anywhere: a long error beside it must not squeeze a name into "Elepha/nt". */
.table .name { font-weight: 650; overflow-wrap: break-word; }
.table .input { width: 6.5rem; padding: .4rem .55rem; text-align: right; }
.row-actions { display: flex; gap: .4rem; justify-content: flex-end; flex-wrap: nowrap; align-items: center; }
.row-actions form { margin: 0; }
.cell-field { display: flex; flex-direction: column; }
.cell-field .field-error { max-width: 16rem; }

.layout-2 { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 1.25rem; align-items: start; }
.layout-2 > .aside { order: 2; position: sticky; top: 1rem; }
.form-row { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.pagination { display: flex; justify-content: space-between; align-items: center; gap: 1rem; padding: .9rem 1.2rem; border-top: 1px solid var(--line); flex-wrap: wrap; }
.pagination .pages { display: flex; gap: .5rem; }
.stat-row { display: flex; gap: .75rem; flex-wrap: wrap; margin-bottom: 1.25rem; }
.stat { padding: .8rem 1rem; min-width: 150px; flex: 1; }
.stat .label { color: var(--muted); font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 1.4rem; font-weight: 800; }

.auth { max-width: 400px; margin: 2rem auto 0; }
.error-page { max-width: 560px; margin: 2rem auto 0; text-align: center; }
.error-code { font-size: 3.5rem; font-weight: 800; color: var(--brand); letter-spacing: -.03em; line-height: 1; margin-bottom: .75rem; }

@media (max-width: 860px) {
  .layout-2 { grid-template-columns: 1fr; }
  .layout-2 > .aside { order: 0; position: static; }
}
@media (max-width: 640px) {
  h1 { font-size: 1.45rem; }
  main { padding-top: 1.1rem; }
  .header .wrap { min-height: 56px; padding-top: .4rem; padding-bottom: .4rem; }
  .grid { grid-template-columns: 1fr 1fr; gap: .7rem; }
  .product-art { font-size: 2rem; }
  .product .card-body { padding: .8rem; gap: .45rem; }
  .product-name { font-size: 1rem; }
  .price { font-size: 1.1rem; }
  .buy { flex-direction: column; }
  .buy .qty { width: 100%; }
  .lookup .input { flex: 1; width: auto; }
  .page-head { align-items: stretch; }
  .page-head > * { width: 100%; }
  /* Admin tables become stacked cards */
  .table.stack thead { display: none; }
  .table.stack, .table.stack tbody, .table.stack tr, .table.stack td { display: block; width: 100%; }
  .table.stack tr { border-bottom: 1px solid var(--line); padding: .6rem .2rem; }
  .table.stack tr:last-child { border-bottom: 0; }
  .table.stack td { border: 0; padding: .3rem .9rem; display: flex; justify-content: space-between; align-items: center; gap: .75rem; text-align: right; }
  .table.stack td::before { content: attr(data-label); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 700; text-align: left; }
  .table.stack td::before { flex: none; }
  .table.stack td.name { font-size: 1.05rem; justify-content: flex-start; text-align: left; }
  .table.stack td.name::before { display: none; }
  /* One line of links on a phone (the admin's four fit at 360px and up). */
  .nav { gap: 0; margin-left: -.45rem; }
  .nav a, .nav button.linkish { padding: .35rem .45rem; font-size: .9rem; white-space: nowrap; }
  .product-art { aspect-ratio: 2 / 1; }
  .table.stack .row-actions { justify-content: flex-end; }
  .form-row { grid-template-columns: 1fr; gap: 0; }
}
@media (max-width: 360px) {
  .grid { grid-template-columns: 1fr; }
}
`;

/** Small, stable content hash (FNV-1a) for the stylesheet's URL. */
function hash(text: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

export const CSS_FILE = `bazaar.${hash(CSS)}.css`;

/** Serve the stylesheet at `${prefix}/assets/<file>`; returns its URL for the layout. */
// deno-lint-ignore no-explicit-any -- any app, whatever its env and routes
export function serveStyles(app: Hono<any, any, any>, prefix = "") {
  const path = `${prefix}/assets/${CSS_FILE}`;
  app.get(path, (c) =>
    c.body(CSS, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
    }));
  return path;
}
