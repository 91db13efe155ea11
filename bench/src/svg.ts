// Small SVG charts for docs/performance.md: grouped bars and lines. Plain strings,
// no dependency; sizes fixed so the charts read the same in GitHub and editors.

export type Series = { name: string; values: (number | null)[] };

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
const W = 720;
const H = 360;
// The legend sits under the title (up to two rows); the bottom holds the axis labels.
const M = { top: 78, right: 20, bottom: 64, left: 64 };
const FAMILY = `font-family="system-ui, sans-serif" fill="#111"`;
const FONT = `${FAMILY} font-size="12"`;
const r1 = (n: number) => Math.round(n * 10) / 10;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A round axis maximum and its ticks. */
function scale(max: number): { top: number; ticks: number[] } {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const step0 = max / 5;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0)!;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
  return { top, ticks };
}

const fmt = (n: number) =>
  n >= 10_000
    ? `${Math.round(n / 1000)}k`
    : n >= 1000
    ? `${(n / 1000).toFixed(1)}k`
    : n >= 100
    ? `${Math.round(n)}`
    : `${Math.round(n * 100) / 100}`;

function frame(title: string, yLabel: string, ticks: number[], top: number, series: Series[]): string[] {
  const plotH = H - M.top - M.bottom;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" ${FAMILY} font-size="15" font-weight="600">${
      esc(title)
    }</text>`,
    `<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT}>${
      esc(yLabel)
    }</text>`,
  ];
  for (const t of ticks) {
    const y = r1(M.top + plotH - (t / top) * plotH);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" ${FONT}>${fmt(t)}</text>`);
  }
  // Legend under the title, wrapped into rows that fit the width.
  let x = M.left;
  let row = 0;
  series.forEach((s, i) => {
    const w = 26 + s.name.length * 6.5;
    if (x + w > W - M.right && x > M.left) {
      x = M.left;
      row++;
    }
    const y = 34 + row * 18;
    out.push(`<rect x="${r1(x)}" y="${y}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${r1(x + 16)}" y="${y + 10}" ${FONT}>${esc(s.name)}</text>`);
    x += w;
  });
  return out;
}

/** Groups of bars: one group per category, one bar per series. */
export function barChart(
  opts: { title: string; yLabel: string; categories: string[]; series: Series[] },
): string {
  const max = Math.max(0, ...opts.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const { top, ticks } = scale(max);
  const out = frame(opts.title, opts.yLabel, ticks, top, opts.series);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const groupW = plotW / opts.categories.length;
  const barW = (groupW * 0.8) / opts.series.length;
  opts.categories.forEach((cat, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    // Many categories: labels slanted so that they do not run into each other.
    const lx = r1(gx + groupW * 0.4);
    const ly = M.top + plotH + 16;
    out.push(
      opts.categories.length > 6
        ? `<text transform="translate(${lx} ${ly - 4}) rotate(-30)" text-anchor="end" ${FONT}>${
          esc(cat)
        }</text>`
        : `<text x="${lx}" y="${ly}" text-anchor="middle" ${FONT}>${esc(cat)}</text>`,
    );
    opts.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      const h = (v / top) * plotH;
      out.push(
        `<rect x="${r1(gx + si * barW)}" y="${r1(M.top + plotH - h)}" width="${
          r1(Math.max(1, barW - 2))
        }" height="${r1(h)}" fill="${COLORS[si % COLORS.length]}"><title>${
          esc(`${s.name} · ${cat}: ${fmt(v)}`)
        }</title></rect>`,
      );
    });
  });
  out.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#111"/>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}

/** Lines over numeric x values (e.g. p = 0 … 1). */
export function lineChart(
  opts: { title: string; yLabel: string; xLabel: string; x: number[]; series: Series[] },
): string {
  const max = Math.max(0, ...opts.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const { top, ticks } = scale(max);
  const out = frame(opts.title, opts.yLabel, ticks, top, opts.series);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x0 = Math.min(...opts.x);
  const x1 = Math.max(...opts.x);
  const px = (x: number) => M.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const py = (v: number) => M.top + plotH - (v / top) * plotH;
  for (const x of opts.x) {
    out.push(
      `<text x="${r1(px(x))}" y="${M.top + plotH + 16}" text-anchor="middle" ${FONT}>${fmt(x)}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + plotW / 2}" y="${M.top + plotH + 34}" text-anchor="middle" ${FONT}>${
      esc(opts.xLabel)
    }</text>`,
  );
  opts.series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const pts = s.values.flatMap((v, i) => (v === null ? [] : [[px(opts.x[i]!), py(v)] as const]));
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${
        pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")
      }"/>`,
    );
    for (const [a, b] of pts) {
      out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${color}"/>`);
    }
  });
  out.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#111"/>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
