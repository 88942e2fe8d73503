import test from 'ava';
import { startCluster } from '../src/index.js';
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
