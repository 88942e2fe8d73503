import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError, startCluster, type ClusterConfig } from '../src/index.js';
import { scenarioFactor } from '../src/harness/scenario.js';
import { regionOfServer, replicasOf, serverId, type Topology } from '../src/cluster/topology.js';
import type { RegionConfig } from '../src/cluster/config.js';

/** Every list of `count` region sizes from 1 to `most`, regions named a, b, c, ... */
function shapes(count: number, most: number): RegionConfig[][] {
  if (count === 0) return [[]];
  const out: RegionConfig[][] = [];
  for (const rest of shapes(count - 1, most))
    for (let servers = 1; servers <= most; servers++) out.push([...rest, { name: String.fromCharCode(97 + rest.length), servers }]);
  return out;
}

function topologies(each: (t: Topology) => void): void {
  for (let r = 1; r <= 4; r++)
    for (const regions of shapes(r, 4)) {
      const total = regions.reduce((n, x) => n + x.servers, 0);
      for (let factor = 1; factor <= Math.min(total, 15); factor++) each({ regions, shards: 8, factor, mode: 'active' });
    }
}

/** replicasOf as it was before regions of different sizes were handled (audit, session 59). */
function replicasBefore(shard: number, topology: Topology): string[] {
  const { regions, factor } = topology;
  const out: string[] = [];
  const r = regions.length;
  for (let k = 0; k < factor; k++) {
    const region = regions[(shard + k) % r]!;
    const index = (Math.floor(shard / r) + Math.floor(k / r)) % region.servers;
    const id = serverId(region.name, index);
    if (!out.includes(id)) out.push(id);
    else {
      for (let j = 1; j < region.servers; j++) {
        const alt = serverId(region.name, (index + j) % region.servers);
        if (!out.includes(alt)) {
          out.push(alt);
          break;
        }
      }
    }
  }
  return out;
}

test("every shard has a group of exactly `factor` servers, in as many regions as it can, whatever the regions' sizes (1 to 4 regions of 1 to 4 servers)", (t) => {
  let shapesSeen = 0;
  topologies((topology) => {
    shapesSeen++;
    for (let shard = 0; shard < topology.shards; shard++) {
      const group = replicasOf(shard, topology);
      const where = `shard ${shard}, regions ${topology.regions.map((x) => x.servers).join('+')}, factor ${topology.factor}: [${group.join(',')}]`;
      if (group.length !== topology.factor || new Set(group).size !== group.length) return t.fail(`${where}: not ${topology.factor} distinct servers`);
      const regions = new Set(group.map(regionOfServer)).size;
      if (regions !== Math.min(topology.factor, topology.regions.length)) return t.fail(`${where}: in ${regions} regions`);
    }
  });
  t.log(`${shapesSeen} shapes and factors, 8 shards each`);
  t.pass();
});

test('regions of equal size keep the groups they had (what every check run uses)', (t) => {
  topologies((topology) => {
    if (topology.regions.some((x) => x.servers !== topology.regions[0]!.servers)) return;
    for (let shard = 0; shard < topology.shards; shard++) t.deepEqual(replicasOf(shard, topology), replicasBefore(shard, topology));
  });
});

test('active, regions of 1, 1 and 3 servers, factor 5: every shard stays writable with 2 of its 5 servers down (sim)', async (t) => {
  const seed = 1;
  t.log(`seed ${seed}`);
  const c = await startCluster({
    regions: [
      { name: 'a', servers: 1 },
      { name: 'b', servers: 1 },
      { name: 'c', servers: 3 },
    ],
    transport: 'sim',
    seed,
    replication: { mode: 'active', factor: 5 },
    shards: 4,
  });
  try {
    for (let shard = 0; shard < 4; shard++) t.is(c.replicasOf(shard).length, 5, `shard ${shard}: [${c.replicasOf(shard).join(',')}]`);
    const client = c.client({ region: 'c' });
    await client.put('k0', 0);
    await c.crash('a/0');
    await c.crash('b/0');
    await c.sleep(2_000);
    const shards = new Set<number>();
    for (let i = 0; i < 8; i++) {
      await client.put(`k${i}`, i);
      shards.add(c.shardOf(`k${i}`));
    }
    t.is(shards.size, 4, 'the keys cover every shard');
  } finally {
    await c.stop();
  }
});

function hybrid(servers: number[], factor: number | undefined, shards = 4): ClusterConfig {
  return {
    regions: servers.map((n, i) => ({ name: `r${i + 1}`, servers: n })),
    transport: 'sim',
    seed: 1,
    shards,
    replication: factor === undefined ? { mode: 'hybrid' } : { mode: 'hybrid', factor },
  };
}

test("hybrid refuses a factor above the servers of a shard's home region, naming replication.factor and the most it takes", async (t) => {
  for (const [servers, factor, shards, most, region] of [
    [[1, 1, 1], 3, 4, 1, 'r1'],
    [[2, 2], 3, 4, 2, 'r1'],
    [[3, 1], 3, 2, 1, 'r2'],
  ] as const) {
    const e = await t.throwsAsync(startCluster(hybrid([...servers], factor, shards)), { instanceOf: ConfigError }, `regions ${servers.join('+')}`);
    t.is(e?.field, 'replication.factor');
    t.is(
      e?.message,
      `config.replication.factor: expected an integer from 1 to ${most} (in mode 'hybrid' a shard's group is inside its home region, and region ${region}, a home, has ${most} server${most === 1 ? '' : 's'}), got ${factor}`,
    );
  }
});

test("hybrid takes a factor up to its home regions' servers, and defaults to at most 3 of them", async (t) => {
  // One shard: its home is r1 (3 servers); r2 holds only its learner.
  for (const [config, group] of [
    [hybrid([3, 1], 3, 1), ['r1/0', 'r1/1', 'r1/2']],
    [hybrid([2, 2], undefined), ['r1/0', 'r1/1']],
    [hybrid([1, 1, 1], undefined), ['r1/0']],
    [hybrid([4, 4], undefined), ['r1/0', 'r1/1', 'r1/2']],
  ] as const) {
    const c = await startCluster(config);
    try {
      t.deepEqual(c.replicasOf(0), [...group]);
    } finally {
      await c.stop();
    }
  }
});

test("the checking harness gives a hybrid cluster at most a region's servers (scenarioFactor)", (t) => {
  t.is(scenarioFactor('hybrid', { servers: 2, factor: 3 }), 2);
  t.is(scenarioFactor('hybrid', { servers: 1, factor: 5 }), 1);
  t.is(scenarioFactor('hybrid', { servers: 3, factor: 2 }), 2);
  t.is(scenarioFactor('active', { servers: 1, factor: 3 }), 3);
  t.is(scenarioFactor(undefined, { servers: 1, factor: 3 }), 3);
});

test('a dataDir recorded by a hybrid cluster whose factor was cut (before the refusal) restarts with the factor of its groups', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meridian-factor-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const regions = [
    { name: 'a', servers: 2 },
    { name: 'b', servers: 2 },
  ];
  const file = join(dataDir, 'meridian-layout.json');
  // What a cluster of regions of 2 servers given hybrid factor 3 wrote: groups of 2.
  writeFileSync(file, JSON.stringify({ shards: 4, regions, replication: { mode: 'hybrid', factor: 3 } }));
  const config: ClusterConfig = { regions, transport: 'threads', shards: 4, dataDir, replication: { mode: 'hybrid', factor: 3 } };
  await t.throwsAsync(startCluster(config), { instanceOf: ConfigError, message: /^config\.replication\.factor: expected an integer from 1 to 2 / });
  const c = await startCluster({ ...config, replication: { mode: 'hybrid', factor: 2 } });
  try {
    await c.client({ region: 'a' }).put('k', 1);
  } finally {
    await c.stop();
  }
  t.deepEqual(JSON.parse(readFileSync(file, 'utf8')).replication, { mode: 'hybrid', factor: 2 });
});
