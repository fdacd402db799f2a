// Line charts as standalone SVG text, written by the benchmark itself (no browser, no dependency):
// one polyline per contender over a shared x axis (linear or log), with ticks, a legend and titles.

/** One line of a chart: a contender's values at each x. Points with a non-finite y are skipped. */
export interface ChartSeries {
  name: string;
  points: readonly (readonly [x: number, y: number])[];
}

/** A curve to draw, e.g. throughput against connected clients. */
export interface ChartSpec {
  /** File name stem: `benchmarks/charts/<id>.svg`. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic x axis (1, 10, 100, 1000...). @default false */
  logX?: boolean;
  /** Logarithmic y axis, for values spanning decades (points <= 0 are skipped). @default false */
  logY?: boolean;
  series: readonly ChartSeries[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 190, top: 48, bottom: 56 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** 1, 2 or 5 times a power of ten, so that about `count` steps cover `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** Short label for a tick value: 1500 -> "1.5k", 2000000 -> "2M". */
export function tickLabel(value: number): string {
  const abs = Math.abs(value);
  const trim = (n: number): string => String(Number(n.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

/** The chart as SVG text. An empty chart (no finite point) still renders its frame and a note. */
export function renderLineChart(spec: ChartSpec): string {
  const series = spec.series.map((s) => ({
    name: s.name,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.logX || x > 0) && (!spec.logY || y > 0)),
  }));
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  ];
  if (xs.length === 0) {
    out.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#888">no data</text>`, '</svg>');
    return `${out.join('\n')}\n`;
  }
  const tx = (x: number): number => (spec.logX ? Math.log10(x) : x);
  let x0 = Math.min(...xs.map(tx));
  let x1 = Math.max(...xs.map(tx));
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const yMax = Math.max(...ys);
  const yStep = niceStep(yMax > 0 ? yMax : 1, 5);
  const y1 = Math.max(yStep, Math.ceil(yMax / yStep) * yStep);
  // Log y: whole decades around the values.
  const d0 = Math.floor(Math.log10(Math.min(...ys)));
  const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(yMax)));
  const px = (x: number): number => MARGIN.left + ((tx(x) - x0) / (x1 - x0)) * plotW;
  const py = spec.logY
    ? (y: number): number => MARGIN.top + plotH - ((Math.log10(y) - d0) / (d1 - d0)) * plotH
    : (y: number): number => MARGIN.top + plotH - (Math.max(0, y) / y1) * plotH;
  const yTicks = spec.logY
    ? Array.from({ length: d1 - d0 + 1 }, (_, i) => 10 ** (d0 + i))
    : Array.from({ length: Math.floor((y1 + yStep / 2) / yStep) + 1 }, (_, i) => i * yStep);

  for (const y of yTicks) {
    const yy = py(y).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${yy}" x2="${MARGIN.left + plotW}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${tickLabel(y)}</text>`);
  }
  const xTicks = spec.logX
    ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i))
    : [...new Set(xs)].sort((a, b) => a - b);
  for (const x of xTicks) {
    const xx = px(x).toFixed(1);
    out.push(`<line x1="${xx}" y1="${MARGIN.top + plotH}" x2="${xx}" y2="${MARGIN.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${xx}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${tickLabel(x)}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    if (sorted.length > 1) {
      const path = sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${path}"/>`);
    }
    for (const [x, y] of sorted) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 14;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
