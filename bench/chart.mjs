import { boundText } from './targets.mjs';

// The chart of BENCHMARKS.md: one bar per target, its ratio against a line at its bound, green when met and
// red when not. Plain SVG with its own white background, so that it reads the same in GitHub's light and dark
// themes, and written by the bench itself: no chart library, no external service.

const WIDTH = 880;
const LEFT = 24;
const RIGHT = 120;
const ROW = 46;
const TOP = 40;
const COLORS = { met: '#1a7f37', notMet: '#cf222e', none: '#8c959f' };

/** @param {{ targets: import('./targets.mjs').Target[], commit?: string | null, date?: string }} results */
export function renderChart(results) {
  const { targets } = results;
  const largest = Math.max(2, ...targets.flatMap((target) => [target.ratio ?? 0, target.bound]));
  const scale = Math.ceil(largest * 1.1 * 2) / 2;
  const x = (/** @type {number} */ ratio) => LEFT + (Math.min(ratio, scale) / scale) * (WIDTH - LEFT - RIGHT);
  const height = TOP + targets.length * ROW + 36;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
    '<title>Each ratio of ours to its baseline against its target</title>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="600" fill="#1f2328">Ours against each baseline (ratio of medians) and its target${results.commit ? ` (commit ${escapeXml(results.commit.slice(0, 12))})` : ''}</text>`,
  ];
  for (let tick = 0; tick <= scale + 1e-9; tick += 0.5) {
    const at = x(tick).toFixed(1);
    const strong = Math.abs(tick - 1) < 1e-9;
    parts.push(
      `<line x1="${at}" y1="${TOP - 6}" x2="${at}" y2="${height - 30}" stroke="${strong ? '#57606a' : '#d0d7de'}" stroke-width="1"${strong ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${at}" y="${height - 14}" text-anchor="middle" fill="#57606a">${tick.toFixed(1)}×</text>`,
    );
  }
  targets.forEach((target, index) => {
    const top = TOP + index * ROW;
    const color = target.met === null ? COLORS.none : target.met ? COLORS.met : COLORS.notMet;
    const verdict = verdictText(target);
    const figure = target.ratio === null ? verdict : `${target.ratio.toFixed(2)}× ${verdict}`;
    const better = target.better === 'higher' ? 'higher is better' : 'lower is better';
    parts.push(
      `<text x="${LEFT}" y="${top + 12}" fill="#1f2328">${escapeXml(target.pair)} <tspan fill="#57606a">(${better}; target ${escapeXml(boundText(target))})</tspan></text>`,
    );
    if (target.ratio !== null) {
      parts.push(
        `<rect x="${LEFT}" y="${top + 18}" width="${Math.max(1, x(target.ratio) - LEFT).toFixed(1)}" height="16" rx="2" fill="${color}"/>`,
      );
    }
    const bound = x(target.bound).toFixed(1);
    parts.push(
      `<line x1="${bound}" y1="${top + 17}" x2="${bound}" y2="${top + 37}" stroke="#1f2328" stroke-width="2.5"/>`,
      `<text x="${((target.ratio === null ? LEFT : x(target.ratio)) + 6).toFixed(1)}" y="${top + 31}" fill="${color}" font-weight="600">${figure}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** `met`, `not met`, or `not measured` when its section did not run. @param {import('./targets.mjs').Target} target */
export function verdictText(target) {
  return target.met === null ? 'not measured' : target.met ? 'met' : 'not met';
}

/** @param {string} text */
function escapeXml(text) {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
