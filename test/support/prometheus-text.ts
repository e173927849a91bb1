/**
 * A small, strict parser for the Prometheus text exposition format 0.0.4, for tests: it throws
 * on anything a Prometheus server would reject (bad names, bad escapes, unparsable values,
 * samples without a family, duplicate series, histogram buckets that are not cumulative or
 * disagree with _count), so "it parses" means something.
 *
 * @example
 * const families = parsePrometheusText(await (await app.request('/metrics')).text());
 * families.get('feishu_bot_agent_calls_total')?.samples;
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class PrometheusParseError extends Error {
  constructor(lineNumber: number, line: string, problem: string) {
    super(`line ${lineNumber}: ${problem}: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = 'PrometheusParseError';
  }
}

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seriesSeen = new Set<string>();
  if (!text.endsWith('\n')) throw new PrometheusParseError(0, text.slice(-40), 'text must end with a newline');
  const lines = text.split('\n');
  lines.pop();

  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    const fail = (problem: string): never => {
      throw new PrometheusParseError(lineNumber, line, problem);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (match === null) return; // a plain comment
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name!)) fail('bad metric name');
      const family = families.get(name!) ?? { name: name!, type: 'untyped', help: undefined, samples: [] };
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) fail(`unknown type ${rest}`);
        if (family.samples.length > 0) fail('TYPE after samples');
        family.type = rest as MetricType;
      } else {
        if (family.help !== undefined) fail('second HELP');
        family.help = unescapeHelp(rest);
      }
      families.set(name!, family);
      return;
    }

    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, families) ?? fail(`sample ${sample.name} has no # TYPE family`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) fail('duplicate series');
    seriesSeen.add(key);
    family.samples.push(sample);
  });

  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
    if (family.type === 'counter') {
      for (const sample of family.samples) {
        if (sample.value < 0) throw new Error(`${sample.name}: counter is negative`);
      }
    }
  }
  return families;
}

/** The value of the one sample with exactly these labels (extra labels on the sample ignored). */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const familyName = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(name) ?? families.get(familyName);
  const matches = family?.samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value),
  );
  if (matches === undefined || matches.length === 0) return undefined;
  if (matches.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]!.value;
}

function familyOf(sampleName: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined) return direct;
  const match = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
  if (match === null) return undefined;
  const family = families.get(match[1]!);
  if (family === undefined) return undefined;
  if (family.type === 'histogram') return family;
  if (family.type === 'summary' && match[2] !== 'bucket') return family;
  return undefined;
}

function parseSample(line: string, fail: (problem: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) ?? fail('sample must start with a metric name');
  const name = nameMatch[0];
  let position = name.length;
  const labels: Record<string, string> = {};
  if (line[position] === '{') {
    position++;
    while (line[position] !== '}') {
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(position)) ?? fail('bad label name');
      const label = labelMatch[0];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) fail(`reserved or bad label name ${label}`);
      position += label.length;
      if (line[position] !== '=' || line[position + 1] !== '"') fail('expected ="');
      position += 2;
      let value = '';
      for (;;) {
        const character = line[position];
        if (character === undefined) fail('unterminated label value');
        if (character === '"') break;
        if (character === '\\') {
          const escaped = line[position + 1];
          if (escaped === '\\') value += '\\';
          else if (escaped === '"') value += '"';
          else if (escaped === 'n') value += '\n';
          else fail(`bad escape \\${escaped}`);
          position += 2;
          continue;
        }
        value += character;
        position++;
      }
      position++;
      if (label in labels) fail(`label ${label} twice`);
      labels[label] = value;
      if (line[position] === ',') position++;
      else if (line[position] !== '}') fail('expected , or }');
    }
    position++;
  }
  if (line[position] !== ' ') fail('expected a space before the value');
  const parts = line
    .slice(position + 1)
    .trim()
    .split(/\s+/);
  if (parts.length < 1 || parts.length > 2) fail('expected value [timestamp]');
  const value = parseValue(parts[0]!) ?? fail(`bad value ${parts[0]}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail('bad timestamp');
  return { name, labels, value };
}

function parseValue(text: string): number | undefined {
  // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case
  // (prom-client writes "Nan" for an empty event-loop histogram).
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : '\\'));
}

/** Buckets of each series must be cumulative, end at +Inf and agree with _count. */
function checkHistogram(family: MetricFamily): void {
  const seriesKey = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([label]) => label !== 'le')
        .sort(),
    );
  const buckets = new Map<string, Array<{ le: number; value: number }>>();
  const counts = new Map<string, number>();
  for (const sample of family.samples) {
    const key = seriesKey(sample.labels);
    if (sample.name.endsWith('_bucket')) {
      const le = sample.labels.le;
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      const bound = parseValue(le);
      if (bound === undefined) throw new Error(`${family.name}: bad le ${le}`);
      buckets.set(key, [...(buckets.get(key) ?? []), { le: bound, value: sample.value }]);
    } else if (sample.name.endsWith('_count')) {
      counts.set(key, sample.value);
    }
  }
  for (const [key, series] of buckets) {
    for (let index = 1; index < series.length; index++) {
      if (series[index]!.le <= series[index - 1]!.le) throw new Error(`${family.name}${key}: le not increasing`);
      if (series[index]!.value < series[index - 1]!.value) throw new Error(`${family.name}${key}: not cumulative`);
    }
    const last = series.at(-1)!;
    if (last.le !== Number.POSITIVE_INFINITY) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== last.value) throw new Error(`${family.name}${key}: +Inf bucket ≠ _count`);
  }
}
