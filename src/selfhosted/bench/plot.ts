/**
 * A hand-built SVG Pareto plot: output tokens/s per GPU (system throughput) against output
 * tokens/s per user (1000 / TPOT p50, interactivity), measured points joined in sweep order, and
 * the estimator's curve for the same model and GPU when available.
 */

export interface CurvePoint {
  perUser: number;
  perGpu: number;
  label: string;
}

export interface Series {
  name: string;
  color: string;
  points: CurvePoint[];
  dashed?: boolean;
}

const W = 720;
const H = 480;
const M = { left: 72, right: 24, top: 40, bottom: 56 };

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" upper bound for an axis: 1, 2 or 5 × 10^k at or above the maximum. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const exp = Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    const candidate = step * 10 ** exp;
    if (candidate >= value) return candidate;
  }
  return 10 ** (exp + 1);
}

export function paretoSvg(title: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.perUser) && Number.isFinite(p.perGpu));
  const xMax = niceMax(Math.max(0, ...all.map((p) => p.perUser)));
  const yMax = niceMax(Math.max(0, ...all.map((p) => p.perGpu)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number): number => M.left + (v / xMax) * pw;
  const y = (v: number): number => M.top + ph - (v / yMax) * ph;
  const f = (v: number): string => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const vx = (xMax * i) / 5;
    const vy = (yMax * i) / 5;
    out.push(`<line x1="${f(x(vx))}" y1="${M.top}" x2="${f(x(vx))}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<line x1="${M.left}" y1="${f(y(vy))}" x2="${M.left + pw}" y2="${f(y(vy))}" stroke="#eee"/>`);
    out.push(`<text x="${f(x(vx))}" y="${M.top + ph + 18}" text-anchor="middle">${+vx.toPrecision(3)}</text>`);
    out.push(`<text x="${M.left - 8}" y="${f(y(vy) + 4)}" text-anchor="end">${+vy.toPrecision(3)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">output tokens/s per user (1000 / TPOT p50)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">output tokens/s per GPU</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.perUser) && Number.isFinite(p.perGpu));
    if (pts.length > 0) {
      const path = pts.map((p) => `${f(x(p.perUser))},${f(y(p.perGpu))}`).join(' ');
      out.push(
        `<polyline class="series" data-series="${escape(s.name)}" points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      for (const p of pts) {
        out.push(
          `<circle cx="${f(x(p.perUser))}" cy="${f(y(p.perGpu))}" r="3.5" fill="${s.color}"><title>${escape(`${s.name} ${p.label}: ${p.perUser.toFixed(1)} tok/s/user, ${p.perGpu.toFixed(1)} tok/s/GPU`)}</title></circle>`,
        );
      }
    }
    const ly = M.top + 16 + i * 18;
    out.push(
      `<line x1="${M.left + pw - 190}" y1="${ly - 4}" x2="${M.left + pw - 166}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${M.left + pw - 160}" y="${ly}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
