import type { ActorContext, Behavior } from '../runtime/actor.js';
import type { Load, Req, Res, RequestBody } from './messages.js';
import { heartbeatAddress, replicasOf, shardOf, type Topology } from './topology.js';

/** A forwarded request may travel this many hops between servers before it is failed. */
export const FORWARD_HOPS_MAX = 3;
/** Weight of the newest sample in the server's latency EWMA. */
export const LATENCY_EWMA_ALPHA = 0.2;

export interface ServerParams {
  id: string;
  region: string;
  topology: Topology;
  /** How often the server tells its heartbeat actor its load. */
  loadIntervalMs: number;
}

/**
 * State of a server in replication mode 'none': each shard lives on exactly one server (its
 * first replica). Writes are persisted so a restarted server recovers its data.
 */
export interface ServerState {
  params: ServerParams;
  data: Map<string, unknown>;
  requests: number;
  inflight: number;
  latencyEwmaMs: number;
  busyMs: number;
}

type Record_ = { k: string; v?: unknown; d?: true };

export function executeOnMap(data: Map<string, unknown>, body: RequestBody): { ok: true; value?: unknown; writes: Record_[] } | { ok: false; code: 'VALIDATION'; message: string } {
  switch (body.op) {
    case 'get':
      return { ok: true, value: data.get(body.key), writes: [] };
    case 'put':
      data.set(body.key, body.value);
      return { ok: true, writes: [{ k: body.key, v: body.value }] };
    case 'delete': {
      const existed = data.delete(body.key);
      return { ok: true, value: existed, writes: [{ k: body.key, d: true }] };
    }
    case 'cas': {
      const current = data.get(body.key);
      if (!sameValue(current, body.expected)) return { ok: true, value: false, writes: [] };
      data.set(body.key, body.value);
      return { ok: true, value: true, writes: [{ k: body.key, v: body.value }] };
    }
    case 'txn':
      return { ok: false, code: 'VALIDATION', message: "transactions need a commit protocol: replication mode 'none' runs single-key operations only" };
  }
}

/** Structural equality of codec-safe values (what cas and transaction checks compare). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

export function currentLoad(state: { inflight: number; latencyEwmaMs: number; busyMs: number; requests: number }, mailbox: number): Load {
  return { inflight: state.inflight, mailbox, latencyEwmaMs: state.latencyEwmaMs, busyMs: state.busyMs, requests: state.requests };
}

export const serverBehavior: Behavior<ServerState, ServerParams> = {
  name: 'server',
  init(ctx, params, recovered) {
    const data = new Map<string, unknown>();
    for (const record of recovered as Record_[]) {
      if (record.d) data.delete(record.k);
      else data.set(record.k, record.v);
    }
    ctx.setTimer('load', params.loadIntervalMs);
    return { params, data, requests: 0, inflight: 0, latencyEwmaMs: 0, busyMs: 0 };
  },
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'req':
        handleRequest(state, msg as unknown as Req, ctx);
        return;
      case 'timer':
        if ((msg as { key?: string }).key === 'load') {
          ctx.send(heartbeatAddress(state.params.id), { type: 'load', load: currentLoad(state, ctx.mailbox()) });
          ctx.setTimer('load', state.params.loadIntervalMs);
        }
        return;
      default:
        return;
    }
  },
  summary(state) {
    return { keys: state.data.size, requests: state.requests };
  },
  load(state) {
    return { requests: state.requests, inflight: state.inflight };
  },
};

function handleRequest(state: ServerState, req: Req, ctx: ActorContext): void {
  const { topology, id } = state.params;
  const owner = replicasOf(shardOf(req.body.key, topology.shards), topology)[0]!;
  if (owner !== id) {
    const hops = (req.hops ?? 0) + 1;
    if (hops > FORWARD_HOPS_MAX) {
      ctx.reply({ type: 'res', rid: req.rid, ok: false, code: 'UNAVAILABLE', message: `request for key ${JSON.stringify(req.body.key)} forwarded more than ${FORWARD_HOPS_MAX} times` });
      return;
    }
    ctx.forward(owner, { type: 'req', rid: req.rid, body: req.body, hops });
    return;
  }
  state.requests++;
  ctx.count('requests');
  const result = executeOnMap(state.data, req.body);
  if (!result.ok) {
    ctx.reply({ type: 'res', rid: req.rid, ok: false, code: result.code, message: result.message });
    return;
  }
  for (const w of result.writes) ctx.persist(w);
  const res: Res = { type: 'res', rid: req.rid, ok: true, by: id };
  if (result.value !== undefined) res.value = result.value;
  ctx.reply(res);
}
