#!/usr/bin/env node
/**
 * Sums the CPU profiles `node --cpu-prof --cpu-prof-dir=DIR` writes, one per thread (workers
 * included), by function, by source file and by part of the system:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/run.js commit --quick
 *   node scripts/cpu-profile.mjs /tmp/prof [--match REGEX] [--top N]
 *
 * `--match` keeps the profiles whose file name matches (a profile's name carries its thread
 * id: `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`; thread 0 is the main thread). The
 * worker bundle (dist/workers/*.bundle.cjs) is mapped back to its source files through its
 * source map (sourceUrlOf of bench/lib/cpu-profile.ts, as `bench profile` does; build first). Self time is a sample's time given to
 * the function on top of its stack; a part's time goes to the innermost frame of the stack
 * that belongs to a part (the participant, the coordinator, a Paxos group, the durable
 * store...), split by what ran on top (the codec, postMessage, a file write, or the part's
 * own code). GC, idle and "program" are their own rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sourceUrlOf } from '../dist/bench/lib/cpu-profile.js';

const args = process.argv.slice(2);
const dir = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
if (dir === undefined) {
  console.error('usage: node scripts/cpu-profile.mjs DIR [--match REGEX] [--top N]');
  process.exit(2);
}
const match = new RegExp(option('--match', '\\.cpuprofile$'));
const top = Number(option('--top', '40'));
if (!Number.isInteger(top) || top < 1) {
  console.error(`--top must be a positive integer (got ${option('--top', '')})`);
  process.exit(2);
}

/** The parts of the system, tried in order against a frame's source file. */
const PARTS = [
  [/replication\/(participant|commit-cores)|protocols\/(twopc|threepc|paxoscommit|commit)/, 'participant'],
  [/cluster\/coordinator/, 'coordinator'],
  [/cluster\/client/, 'client'],
  [/durable/, 'durable store'],
  [/replication\/state-machine/, 'state machine'],
  [/replication\/(group|shard-log|learner)|protocols\/multipaxos/, 'paxos group'],
  [/cluster\/server/, 'server (other)'],
  [/timers|tick-clock/, 'timers'],
  [/thread-host|runtime\/(host|cell|stats)|worker-protocol|host-main/, 'runtime/transport'],
];
/** What ran on top of a stack, for the split of a part's time. */
const TOPS = [
  [/core\/codec|msgpackr/, 'codec'],
  [/snapshot-pieces/, 'size measuring'],
];
const NATIVE = new Map([
  ['postMessage', 'postMessage'],
  ['writeBuffer', 'file write'],
  ['writeSync', 'file write'],
]);
const OWN_ROWS = new Set(['(garbage collector)', '(idle)', '(program)']);

const short = (file, name) =>
  file.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\/.*\/(src|workers|bench)\//, '$1/') || `(${name || 'native'})`;
const byFunction = new Map();
const byFile = new Map();
const byPart = new Map();
const add = (map, key, t) => map.set(key, (map.get(key) ?? 0) + t);
let total = 0;
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && match.test(f));
for (const f of files) {
  const profile = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) add(self, profile.samples[i], profile.timeDeltas[i] ?? 0);
  for (const [id, t] of self) {
    total += t;
    const frame = nodes.get(id).callFrame;
    const file = short(sourceUrlOf(frame), frame.functionName);
    const at = frame.url.endsWith('.bundle.cjs') ? ` (bundle line ${frame.lineNumber + 1})` : `:${frame.lineNumber + 1}`;
    add(byFunction, `${frame.functionName || '(anonymous)'} ${path.basename(file)}${at}`, t);
    add(byFile, file, t);
    if (OWN_ROWS.has(frame.functionName)) {
      add(byPart, frame.functionName, t);
      continue;
    }
    let onTop = NATIVE.get(frame.functionName);
    let part;
    for (let cur = id; cur !== undefined && part === undefined; cur = parent.get(cur)) {
      const cf = nodes.get(cur).callFrame;
      const src = sourceUrlOf(cf);
      if (onTop === undefined) onTop = TOPS.find(([re]) => re.test(src))?.[1];
      part = PARTS.find(([re]) => re.test(src))?.[1];
    }
    add(byPart, `${part ?? 'other'}: ${onTop ?? 'own code'}`, t);
    add(byPart, `${part ?? 'other'} (all)`, t);
  }
}
const table = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${(t / 1000).toFixed(0).padStart(8)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
console.log(`${files.length} profiles, ${(total / 1000).toFixed(0)} ms sampled`);
table('by part (innermost part on the stack: what ran on top)', byPart, top);
table('by file (self)', byFile, top);
table('by function (self)', byFunction, top);
