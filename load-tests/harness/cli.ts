// npm run load -- --subscribers 2000 --instances 2 --rate 100 --duration 60 [--baseline ws,socketio] [--no-worker]
//   [--departments 10] [--burst 5] [--flood 1000] [--api-users 100] [--client-procs 2] [--cpu-prof] [--out reports/load.json]
//   [--tsx]  server and worker from the TypeScript sources (tsx) instead of the compiled dist/ (built when stale)
//   npm run load -- --prepare-k6 reports/k6-fixture.json --subscribers 200   (database + sessions for load-tests/k6)
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { memoryPlotPath } from './memory.js';
import { defaults, type HarnessOptions, runHarness } from './run.js';
import { formatReport } from './table.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string' },
    instances: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    departments: { type: 'string' },
    'head-share': { type: 'string' },
    burst: { type: 'string' },
    flood: { type: 'string' },
    baseline: { type: 'string' },
    'no-worker': { type: 'boolean', default: false },
    'api-users': { type: 'string' },
    'think-ms': { type: 'string' },
    'ack-ratio': { type: 'string' },
    'client-procs': { type: 'string' },
    database: { type: 'string' },
    'pool-max': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'server-root': { type: 'string' },
    tsx: { type: 'boolean', default: false },
    out: { type: 'string' },
    plot: { type: 'string' },
    'prepare-k6': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${(await import('node:fs')).readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 4).join('\n')}\n`);
  process.exit(0);
}

const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const baselines = values.baseline === undefined ? defaults.baselines : values.baseline === 'none' || values.baseline === '' ? [] : values.baseline.split(',');
for (const b of baselines) if (b !== 'ws' && b !== 'socketio') throw new Error(`unknown baseline "${b}" (ws, socketio or none)`);

const options: HarnessOptions = {
  ...defaults,
  subscribers: num(values.subscribers, defaults.subscribers),
  instances: num(values.instances, defaults.instances),
  rate: num(values.rate, defaults.rate),
  duration: num(values.duration, defaults.duration),
  departments: num(values.departments, defaults.departments),
  headShare: num(values['head-share'], defaults.headShare),
  burstRounds: num(values.burst, defaults.burstRounds),
  flood: num(values.flood, defaults.flood),
  baselines: baselines as HarnessOptions['baselines'],
  worker: !values['no-worker'],
  apiUsers: num(values['api-users'], defaults.apiUsers),
  thinkMs: num(values['think-ms'], defaults.thinkMs),
  ackRatio: num(values['ack-ratio'], defaults.ackRatio),
  clientProcs: num(values['client-procs'], defaults.clientProcs),
  database: values.database ?? defaults.database,
  poolMax: values['pool-max'] ? Number(values['pool-max']) : undefined,
  cpuProf: values['cpu-prof'],
  serverRoot: values['server-root'],
  fromSource: values.tsx,
  out: values.out ?? defaults.out,
  plot: values.plot ?? (values.out ? values.out.replace(/\.json$/, '') + '-latency.svg' : defaults.plot),
};

if (values['prepare-k6']) {
  // A database and sessions for the k6 scripts (k6 cannot open sessions itself): start servers on it after.
  const { withDatabase } = await import('../../server/db/admin.js');
  const { freshDatabase, seedFixture } = await import('./setup.js');
  const url = withDatabase(options.postgresUrl, options.database);
  await freshDatabase(url);
  const fx = await seedFixture(url, { subscribers: options.subscribers, departments: options.departments, headShare: options.headShare, operators: 5, admins: 10, nursesPerDept: 5, extraUsers: 2_000 });
  const fixture = {
    departments: fx.departments,
    operators: fx.operators.map((u) => u.token),
    admins: fx.admins.map((u) => u.token),
    nurses: fx.nurses.map((list) => list.map((u) => u.token)),
    screens: fx.subscribers.map((u) => ({ token: u.token, dept: u.dept })),
  };
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(values['prepare-k6']), { recursive: true });
  writeFileSync(values['prepare-k6'], JSON.stringify(fixture));
  console.log(`fixture: ${values['prepare-k6']} (database ${options.database}); now start servers with DATABASE_URL=${url}`);
  process.exit(0);
}

const bar = new cliProgress.SingleBar(
  { format: '{target} |{bar}| {value}/{total} alerts | {deliveries} deliveries | {errors} errors | {procs}', hideCursor: true, clearOnComplete: true },
  cliProgress.Presets.shades_classic,
);
let current = '';
const planned = Math.round(options.rate * options.duration) + options.burstRounds * options.departments + options.flood;
options.log = (line) => {
  if (current) bar.stop();
  current = '';
  console.log(line);
};
options.onProgress = (p) => {
  if (current !== p.target) {
    current = p.target;
    bar.start(planned, 0, { target: p.target, deliveries: 0, errors: 0, procs: '' });
  }
  bar.update(p.raised, { deliveries: p.deliveries, errors: p.errors, procs: p.procs.map((x) => `${x.name} ${Math.round(x.rssMb)}MB ${x.cpuPct}%`).join(' ') });
};

const report = await runHarness(options);
bar.stop();
console.log(`\n${formatReport(report)}\n\nreport: ${options.out}\nplot:   ${options.plot}\nmemory: ${memoryPlotPath(options.plot)}`);
process.exit(0);
