// npm run bench:delivery [-- --subscribers 240 --rate 20 --duration 20]
// Create → delivered latency across two Clarion instances (issue 4): a fresh migrated database, 2 server
// processes, ≥ 200 subscribers (nurses and doctors over 3 departments + head doctors) spread over both,
// alerts raised at a rate on alternating instances. Prints a table; writes reports/bench-delivery.json.
import { parseArgs } from 'node:util';
import { defaults, runHarness } from '../load-tests/harness/run.js';
import { formatReport } from '../load-tests/harness/table.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '240' },
    instances: { type: 'string', default: '2' },
    rate: { type: 'string', default: '20' },
    duration: { type: 'string', default: '20' },
  },
});

const report = await runHarness({
  ...defaults,
  subscribers: Number(values.subscribers),
  instances: Number(values.instances),
  rate: Number(values.rate),
  duration: Number(values.duration),
  departments: 3,
  headShare: 0.1,
  burstRounds: 3,
  flood: 300,
  baselines: [],
  worker: false,
  apiUsers: 0,
  clientProcs: 1,
  database: 'clarion_bench_delivery',
  keepDatabase: false,
  out: 'reports/bench-delivery.json',
  plot: 'reports/bench-delivery-latency.svg',
  log: (line) => console.log(line),
});

const c = report.targets[0];
console.log(`\n${formatReport(report)}\n`);
if (c) {
  const l = c.steady.latency;
  console.log(`create → delivered, ${c.connected} subscribers on ${values.instances} instances: p50 ${l.p50} ms · p95 ${l.p95} ms · p99 ${l.p99} ms · max ${l.max} ms`);
  console.log(`deliveries expected ${c.counts.expected}, received ${c.counts.received}, duplicates ${c.counts.duplicates}, lost ${c.counts.lost}`);
}
console.log('report: reports/bench-delivery.json, plot: reports/bench-delivery-latency.svg');
process.exit(c && c.counts.lost === 0 && c.counts.duplicates === 0 ? 0 : 1);
