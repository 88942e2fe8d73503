/**
 * A commit coordinator's `begin` checks its arguments before it sends anything: the 2PC and 3PC
 * coordinators and Paxos Commit's leader share those checks (src/protocols/commit-common.ts), and
 * each error names the field as that protocol calls it (`participants`, or `rms` for Paxos Commit).
 */
import test from 'ava';
import { ValidationError } from '../src/core/errors.js';
import { PaxosCommitNode } from '../src/protocols/paxoscommit.js';
import { ThreePcCoordinator } from '../src/protocols/threepc.js';
import { TwoPcCoordinator } from '../src/protocols/twopc.js';

interface Beginner {
  begin(txn: string, participants: ReadonlyArray<{ to: string; payload: unknown }>): void;
  ready(): { messages: unknown[] };
}

const CORES: Array<{ name: string; field: string; make: () => Beginner }> = [
  { name: '2PC', field: 'participants', make: () => new TwoPcCoordinator({ self: 'c', voteTimeoutTicks: 5, commitRetryTicks: 5 }) },
  { name: '3PC', field: 'participants', make: () => new ThreePcCoordinator({ self: 'c', voteTimeoutTicks: 5, ackTimeoutTicks: 5 }) },
  {
    name: 'Paxos Commit',
    field: 'rms',
    make: () => new PaxosCommitNode({ self: 'c', acceptors: ['c', 'a1', 'a2'], voteTimeoutTicks: 5, leaderTimeoutTicks: 8, recoveryTicks: 10 }),
  },
];

const p = (to: string) => ({ to, payload: null });

for (const { name, field, make } of CORES) {
  test(`${name}: begin refuses a bad transaction id, no participants and a repeated address, naming the field, and sends nothing`, (t) => {
    const core = make();
    const refuses = (txn: unknown, participants: Array<{ to: string; payload: unknown }>, expected: string, message: RegExp): void => {
      const error = t.throws(() => core.begin(txn as string, participants), { instanceOf: ValidationError });
      t.is(error?.field, expected);
      t.regex(error?.message ?? '', message);
    };
    refuses('', [p('p1')], 'txn', /non-empty string/);
    refuses(7, [p('p1')], 'txn', /non-empty string/);
    refuses('t1', [], field, /must not be empty/);
    refuses('t1', [p('p1'), p('p2'), p('p1')], field, /distinct/);
    t.is(core.ready().messages.length, 0, 'a refused begin sends nothing');
    core.begin('t1', [p('p1'), p('p2')]);
    t.true(core.ready().messages.length >= 2, 'a good begin asks each participant');
    refuses('t1', [p('p1')], 'txn', /already active/);
  });
}
