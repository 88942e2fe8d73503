// ava's configuration (a file rather than package.json's "ava" field, since sortTestFiles
// is a function). The suite runs two test files at a time, one process each, on a 2-core
// machine; in ava's default (alphabetical) order a long file that starts late runs alone
// at the end while the other core idles. The longest files (wall time, each alone, measured
// 2026-12-07) start first, so the many short ones fill in around them. The list only orders:
// a file missing from it, renamed or no longer long costs time, never a test.
const LONGEST_FIRST = [
  'nats-transport',
  'check-cli',
  'package',
  'linearizability-sim',
  'nemesis',
  'sim',
  'scenario-threads',
  'transactions',
  'paxoscommit-random',
  'nats-scenario',
  'server-forward-reroute',
  'paxoscommit-duel',
  'shardlog-random',
  'snapshot-pieces',
  'cli-leftovers',
  'check-pool',
  'check-many',
];

const rank = (file) => {
  const name = file.replace(/^.*[\\/]/, '').replace(/\.test\.js$/, '');
  const at = LONGEST_FIRST.indexOf(name);
  return at === -1 ? LONGEST_FIRST.length : at;
};

export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '120s',
  workerThreads: false,
  concurrency: 2,
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b, [], { numeric: true }),
};
