import { performance } from 'node:perf_hooks';
import { connect, RequestError, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { pack, unpack } from 'msgpackr';
import { FRAME_HEADER_BYTES } from '../../core/codec.js';
import { ControlError, NatsUnreachableError, TimeoutError } from '../../core/errors.js';
import type { DropCause } from '../../net/model.js';
import type { HostEvent } from '../env.js';
import { CONTROL_TIMEOUT_MS } from './runtime.js';
import type {
  ControlAnswer,
  NatsControlApi,
  NatsControlMethod,
  NatsControlRequest,
  NatsHello,
  NatsHostEvent,
  NatsHostStats,
  NatsLeaving,
} from './worker-protocol.js';

/**
 * The NATS transport's wire: subjects, the control plane's request/reply encoding, and the
 * data link between hosts (the threads transport's frames, one NATS message each, with a
 * credit window per host pair). Shared by the launcher (nats.ts) and hosts (nats-host.ts).
 * The control messages' types are in worker-protocol.ts.
 *
 * Subjects, under `meridian.<cluster>`:
 *   .hello              a host without an id announces itself (NatsHello)
 *   .assign.<uid>       request: the launcher gives that host its id, plan and settings (NatsAssign)
 *   .g.<generation>.d.<dst>.<src>  data frames from host src to host dst
 *   .g.<generation>.k.<src>  credit returned to host src: 8 bytes, uint32 from (dst), uint32 bytes
 *   .g.<generation>.c.<host>  control requests to a host (NatsControlRequest) → ControlAnswer
 *   .g.<generation>.ev  host events (NatsHostEvent); .g.<generation>.st host counters (NatsHostStats)
 *   .g.<generation>.bye  a host leaving unasked (NatsLeaving)
 *   .gone               the launcher took a host started elsewhere as gone (NatsGone): it exits, the others drop its frames
 *   .beat               the launcher is alive (remote hosts exit when it goes silent)
 *   .launcher           request: answered while a launcher runs under this name
 * where <generation> is the launcher's (NatsAssign.launcher): see subjects().
 */

/** Bytes host A may have in flight towards host B before it waits for B's credit. */
export const CREDIT_WINDOW_BYTES = 4 * 1024 * 1024;
/** The receiver returns credit once this much arrived, or after CREDIT_DELAY_MS. */
export const CREDIT_RETURN_BYTES = CREDIT_WINDOW_BYTES / 4;
/**
 * Credit short of CREDIT_RETURN_BYTES waits this long. The delay never holds a sender back:
 * it has a whole window and the receiver keeps less than a quarter of it owed. At 5 ms nearly
 * every small frame earned its own credit message, a socket write at the receiver and a read at
 * the sender: an idle cluster's server hosts (a frame every 25 ms from each peer) returned
 * about 85 a second, now 25 (idle 3 regions x 1 server, dedicated: about 10% less CPU in the
 * host processes, 2026-12-07). Well under CREDIT_STALL_MS, the stalled-window fallback.
 */
export const CREDIT_DELAY_MS = 100;
/**
 * Core NATS drops messages to a host that is gone (at most once): credit for them never
 * comes back. A window stuck this long with frames waiting is taken as lost and reopened.
 */
export const CREDIT_STALL_MS = 500;
/** Frames waiting for credit, per peer, at most; past it frames are dropped ('backlog-full'). */
export const BACKLOG_BYTES_MAX = 64 * 1024 * 1024;
/**
 * A frame this full is published before the turn ends. Larger than on threads
 * (FRAME_BYTES_FLUSH): each NATS message costs a protocol line and a parse on both sides.
 */
export const NATS_FRAME_BYTES_FLUSH = 8 * 1024;
/** Room kept under the server's max_payload for NATS's own framing. */
export const PAYLOAD_MARGIN_BYTES = 1024;
export const NATS_CONNECT_TIMEOUT_MS = 5_000;
export const BEAT_INTERVAL_MS = 1_000;
/** A remote host that hears no beat from its launcher this long exits. */
export const BEAT_SILENCE_MS = 10_000;
export const HELLO_INTERVAL_MS = 250;
/** How long a starting launcher waits for another one under its name to answer. */
export const LAUNCHER_PROBE_MS = 1_000;
/** A host pushes its counters at least this often, changed or not: the launcher hears it is alive. */
export const HOST_ALIVE_INTERVAL_MS = 1_000;
/** A remote host not heard from this long is taken as gone (killed, or its machine is). */
export const HOST_SILENCE_MS = 5_000;
/** Control methods that change nothing: a timeout on one is no indefinite outcome. */
const READ_ONLY_METHODS: ReadonlySet<NatsControlMethod> = new Set(['ping', 'summary', 'stats', 'errors']);

/** The subjects of a cluster name, whichever launcher runs it: a host uses them before it is assigned. */
export function clusterSubjects(cluster: string) {
  const p = `meridian.${cluster}`;
  return {
    prefix: p,
    hello: `${p}.hello`,
    assign: (uid: string) => `${p}.assign.${uid}`,
    gone: `${p}.gone`,
    beat: `${p}.beat`,
    launcher: `${p}.launcher`,
  };
}

/**
 * All the subjects of one launcher's generation (NatsAssign.launcher): data, credit, control,
 * events, counters and leaving carry it, so a host of a launcher killed and started again under
 * the same name, still running (stalled when the new launcher's first beat went out, it stops
 * when it reads it), sends its frames and answers where no host of the new launcher listens.
 */
export function subjects(cluster: string, generation: string) {
  const c = clusterSubjects(cluster);
  const g = `${c.prefix}.g.${generation}`;
  return {
    ...c,
    data: (dst: number, src: number) => `${g}.d.${dst}.${src}`,
    dataFor: (dst: number) => `${g}.d.${dst}.*`,
    credit: (src: number) => `${g}.k.${src}`,
    control: (host: number) => `${g}.c.${host}`,
    events: `${g}.ev`,
    stats: `${g}.st`,
    leaving: `${g}.bye`,
  };
}
export type Subjects = ReturnType<typeof subjects>;

/**
 * The servers without the user and password (`nats://alice:pw@host`) or token
 * (`nats://token@host`) in their URLs, and those as the client's options: nats.js signs in
 * with its options only, and ignored them in a URL (a server with authentication refused every
 * connection, "Authorization Violation"). The URLs carry one set at most (validateNats).
 */
export function natsCredentials(servers: readonly string[]): {
  servers: string[];
  auth: { user: string; pass: string } | { token: string } | Record<string, never>;
} {
  let auth: { user: string; pass: string } | { token: string } | Record<string, never> = {};
  const bare = servers.map((server) => {
    const url = new URL(server);
    if (url.username === '' && url.password === '') return server;
    const user = decodeURIComponent(url.username);
    auth = url.password === '' ? { token: user } : { user, pass: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
    return url.href;
  });
  return { servers: bare, auth };
}

/** Connect with bounded time; the error names the servers. */
export async function connectNats(servers: string[], name: string): Promise<NatsConnection> {
  try {
    const { servers: bare, auth } = natsCredentials(servers);
    return await connect({
      servers: bare,
      ...auth,
      name,
      timeout: NATS_CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: 10,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 3,
      // tls:// asks for TLS (certificate checked); nats.js alone drops the scheme and talks plain text.
      ...(servers.some((s) => s.startsWith('tls:')) ? { tls: {} } : {}),
    });
  } catch (error) {
    throw new NatsUnreachableError(`cannot reach NATS at ${shownServers(servers)} within ${NATS_CONNECT_TIMEOUT_MS} ms: ${(error as Error).message}`);
  }
}

/** Server URLs as a message shows them: a user and password in one (`nats://u:p@host`) read `***`. */
export function shownServers(servers: readonly string[]): string {
  return servers.map((url) => url.replace(/\/\/[^/@]*@/, '//***@')).join(', ');
}

/**
 * How a spawned host process gets its server URLs: in its environment, not its command line,
 * where a password in one would show to every user of the machine (ps).
 */
export const NATS_SERVERS_ENV = 'MERIDIAN_NATS_SERVERS';

// In core/errors.ts (exported by the package, which must not load the NATS client to name them).
export { ControlError, NatsUnreachableError };

/** The largest frame this connection's server accepts. */
export function frameBytesMax(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? 1024 * 1024) - PAYLOAD_MARGIN_BYTES;
}

/** The largest envelope a frame can hold on this connection. */
export function envelopeBytesMax(nc: NatsConnection): number {
  return frameBytesMax(nc) - FRAME_HEADER_BYTES;
}

export function encodeControl(value: unknown): Uint8Array {
  return pack(value);
}

export function decodeControl<T>(bytes: Uint8Array): T {
  return unpack(bytes) as T;
}

/**
 * A message anyone on the server may have published, decoded: undefined when it is not
 * msgpack or not what `check` expects. A subscription callback that throws stops the NATS
 * client reading: what comes off these subjects is checked, never trusted.
 */
export function decodeChecked<T>(bytes: Uint8Array, check: (value: unknown) => value is T): T | undefined {
  let value: unknown;
  try {
    value = unpack(bytes);
  } catch {
    return undefined;
  }
  return check(value) ? value : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isHostId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

function isHostEvent(e: unknown): e is HostEvent {
  if (!isObject(e)) return false;
  switch (e.kind) {
    case 'actor-error':
      return typeof e.address === 'string' && typeof e.incarnation === 'string' && isObject(e.error) && typeof e.error.message === 'string';
    case 'frame-error':
      return typeof e.error === 'string';
    case 'warn':
      return typeof e.address === 'string' && typeof e.message === 'string';
    case 'publish':
      return typeof e.address === 'string' && typeof e.topic === 'string';
    default:
      // 'host-exit' is the launcher's own finding, never a host's message.
      return false;
  }
}

export function isNatsHostEvent(v: unknown): v is NatsHostEvent {
  return isObject(v) && isHostId(v.host) && typeof v.uid === 'string' && isHostEvent(v.event);
}

export function isNatsHostStats(v: unknown): v is NatsHostStats {
  if (!isObject(v) || !isHostId(v.host) || typeof v.uid !== 'string' || !isObject(v.stats)) return false;
  const s = v.stats;
  if (![s.sent, s.delivered, s.bytes, s.errors].every(isCount)) return false;
  if (!isObject(s.dropped) || !isObject(s.actors) || !isObject(s.links) || !isObject(s.types)) return false;
  return (
    Object.values(s.dropped).every(isCount) &&
    Object.values(s.types).every(isCount) &&
    Object.values(s.actors).every(
      (a) => isObject(a) && [a.sent, a.received, a.restarts].every(isCount) && isObject(a.counters) && Object.values(a.counters).every(isCount),
    ) &&
    Object.values(s.links).every((l) => isObject(l) && isCount(l.sent) && isCount(l.dropped))
  );
}

/**
 * The launcher took host `host`, process `uid` (started elsewhere, with `meridian host`), as
 * gone: that process exits, and every other host drops what comes from host `host` (a host
 * id the launcher took as gone is never assigned again). Anyone on the server may publish it,
 * as any control request.
 */
export interface NatsGone {
  host: number;
  uid: string;
  reason: string;
}

export function isNatsGone(v: unknown): v is NatsGone {
  return isObject(v) && isHostId(v.host) && typeof v.uid === 'string' && typeof v.reason === 'string' && v.reason.length <= LEAVING_REASON_CHARS_MAX;
}

/** The longest leaving reason the launcher quotes. */
export const LEAVING_REASON_CHARS_MAX = 200;

export function isNatsLeaving(v: unknown): v is NatsLeaving {
  return isObject(v) && isHostId(v.host) && typeof v.uid === 'string' && typeof v.reason === 'string' && v.reason.length <= LEAVING_REASON_CHARS_MAX;
}

export function isNatsHello(v: unknown): v is NatsHello {
  // The uid becomes a subject token (assign.<uid>).
  return isObject(v) && typeof v.uid === 'string' && /^[A-Za-z0-9_-]{1,80}$/.test(v.uid) && Number.isInteger(v.pid);
}

/**
 * Publish unless the connection is closed or draining (nats.js throws then): a timer or a
 * frame sent after the client gave up must not throw. False when nothing was published.
 */
export function publishIfOpen(nc: NatsConnection, subject: string, data?: Uint8Array): boolean {
  if (nc.isClosed() || nc.isDraining()) return false;
  nc.publish(subject, data);
  return true;
}

/** What control method `M` answers. */
export type ControlResult<M extends NatsControlMethod> = ReturnType<NatsControlApi[M]>;

/** A control request: `method(args)` on host `host`, answered within CONTROL_TIMEOUT_MS. */
export async function callHost<M extends NatsControlMethod>(
  nc: NatsConnection,
  subj: Subjects,
  host: number,
  method: M,
  args: Parameters<NatsControlApi[M]>,
  timeout = CONTROL_TIMEOUT_MS,
): Promise<ControlResult<M>> {
  let reply;
  const request: NatsControlRequest<M> = { m: method, a: args };
  try {
    reply = await nc.request(subj.control(host), encodeControl(request), { timeout });
  } catch (error) {
    // Nobody serves the host's subject: the request reached no one (definite). Otherwise it may
    // have reached the host and been carried out, its answer lost or late: indefinite.
    if (error instanceof RequestError && error.isNoResponders())
      throw new ControlError(`host ${host} did not answer ${method}: ${(error as Error).message}`, true);
    // A read changed nothing, whether it reached the host or not.
    const outcome = READ_ONLY_METHODS.has(method) ? '' : '; it may or may not have been carried out';
    throw new TimeoutError(`host ${host} did not answer ${method} (${(error as Error).message})${outcome}`);
  }
  const answer = decodeControl<ControlAnswer<ControlResult<M>>>(reply.data);
  if (answer.e !== undefined) throw new ControlError(`host ${host} failed ${method}: ${answer.e}`);
  return answer.v;
}

/**
 * Serve control requests for `host` with the methods of `api`. Anyone on the server may
 * publish on the subject: each request is decoded and `check`ed (its method one `api` serves,
 * its arguments of the method's types, nats-assign.ts's controlRequestCheck) before any method
 * runs. A malformed one is answered with why, the field named ("malformed control request:
 * control.setNodeDead.dead: expected a boolean, got \"yes\""), or, with no reply subject to
 * answer on, dropped with a `warn`.
 */
export function serveControl(
  nc: NatsConnection,
  subj: Subjects,
  host: number,
  api: NatsControlApi,
  check: (value: unknown) => NatsControlRequest,
  warn: (line: string) => void,
): Subscription {
  const table: Record<NatsControlMethod, (...args: never[]) => unknown> = api;
  return nc.subscribe(subj.control(host), {
    callback: (error, msg) => {
      if (error !== null) return;
      const reply = (answer: ControlAnswer<unknown>): void => {
        if (msg.reply !== undefined && msg.reply !== '') msg.respond(encodeControl(answer));
      };
      let request: NatsControlRequest;
      try {
        let value: unknown;
        try {
          value = unpack(msg.data);
        } catch {
          throw new Error(`control: expected a msgpack-encoded { m, a }, got ${msg.data.length} bytes that do not decode`);
        }
        request = check(value);
      } catch (e) {
        const why = `malformed control request: ${(e as Error).message}`;
        if (msg.reply === undefined || msg.reply === '') warn(`host ${host}: dropped a ${why} (no reply subject to answer on)`);
        else reply({ e: why });
        return;
      }
      void (async () => {
        let answer: ControlAnswer<unknown>;
        try {
          answer = { v: await (table[request.m] as (...args: unknown[]) => unknown)(...request.a) };
        } catch (e) {
          answer = { e: (e as Error).message };
        }
        reply(answer);
      })();
    },
  });
}

interface Peer {
  inflight: number;
  backlog: Uint8Array[];
  backlogBytes: number;
  lastCredit: number;
}

/**
 * One host's data link: publishes frames to peers within a credit window per pair, receives
 * frames for this host and returns credit for them once handed to the host. No flow control
 * exists in core NATS; without the window a busy host would be cut off by the server as a
 * slow consumer.
 */
export class NatsLink {
  private readonly peers = new Map<number, Peer>();
  private readonly owed = new Map<number, number>();
  private creditTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly subs: Subscription[] = [];
  private closed = false;
  /** Hosts the launcher took as gone (NatsGone): nothing is sent to them, what they send is dropped. */
  private readonly fenced = new Set<number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subj: Subjects,
    readonly id: number,
    private readonly receive: (frame: Uint8Array) => void,
  ) {
    const dataPrefix = subj.data(id, 0).slice(0, -1);
    this.subs.push(
      nc.subscribe(subj.dataFor(id), {
        callback: (error, msg) => {
          if (error !== null || this.closed) return;
          const src = Number(msg.subject.slice(dataPrefix.length));
          // A host taken as gone that still runs (stalled, then resumed) must not act as the nodes it held.
          if (this.fenced.has(src)) return;
          this.receive(msg.data);
          this.owe(src, msg.data.byteLength);
        },
      }),
    );
    this.subs.push(
      nc.subscribe(subj.credit(id), {
        callback: (error, msg) => {
          if (error !== null || this.closed || msg.data.byteLength !== 8) return;
          const view = new DataView(msg.data.buffer, msg.data.byteOffset, 8);
          this.credit(view.getUint32(0), view.getUint32(4));
        },
      }),
    );
  }

  private peer(id: number): Peer {
    let p = this.peers.get(id);
    if (p === undefined) this.peers.set(id, (p = { inflight: 0, backlog: [], backlogBytes: 0, lastCredit: performance.now() }));
    return p;
  }

  /** Send a frame to `peer` now or when its window has room; else why it was dropped. */
  send(peerId: number, frame: Uint8Array): DropCause | undefined {
    if (this.closed || this.nc.isClosed()) return 'stopped';
    if (this.fenced.has(peerId)) return 'dead';
    const p = this.peer(peerId);
    if (p.backlog.length === 0 && (p.inflight === 0 || p.inflight + frame.byteLength <= CREDIT_WINDOW_BYTES)) {
      this.publish(peerId, p, frame);
      return undefined;
    }
    if (p.backlogBytes + frame.byteLength > BACKLOG_BYTES_MAX) {
      // A full buffer on the way: as a real network does, it loses what does not fit. Its own
      // cause, not 'loss': the host counts the frame's messages in stats().dropped['backlog-full'].
      return 'backlog-full';
    }
    if (p.backlog.length === 0) p.lastCredit = performance.now();
    p.backlog.push(frame);
    p.backlogBytes += frame.byteLength;
    this.watchStalls();
    return undefined;
  }

  private publish(peerId: number, p: Peer, frame: Uint8Array): void {
    p.inflight += frame.byteLength;
    publishIfOpen(this.nc, this.subj.data(peerId, this.id), frame);
  }

  private drain(peerId: number, p: Peer): void {
    while (p.backlog.length > 0) {
      const next = p.backlog[0]!;
      if (p.inflight > 0 && p.inflight + next.byteLength > CREDIT_WINDOW_BYTES) return;
      p.backlog.shift();
      p.backlogBytes -= next.byteLength;
      this.publish(peerId, p, next);
    }
  }

  private credit(from: number, bytes: number): void {
    const p = this.peer(from);
    p.inflight = Math.max(0, p.inflight - bytes);
    p.lastCredit = performance.now();
    this.drain(from, p);
  }

  /**
   * From now on drop every frame from host `peerId`, and send it none: the launcher took it as
   * gone (see NatsGone). For good: that host id is not assigned again. The credit still owed it
   * for frames it sent before is forgotten too: it was sent to it at the next return (noticed
   * by a helper, session 69).
   */
  fence(peerId: number): void {
    this.fenced.add(peerId);
    this.peers.delete(peerId);
    this.owed.delete(peerId);
  }

  /** Forget what is in flight to `peer` (it restarted: credit for the old frames will not come). */
  reset(peerId: number): void {
    const p = this.peers.get(peerId);
    if (p === undefined) return;
    p.inflight = 0;
    this.drain(peerId, p);
  }

  private watchStalls(): void {
    if (this.stallTimer !== undefined || this.closed) return;
    this.stallTimer = setInterval(() => {
      let waiting = false;
      const now = performance.now();
      for (const [id, p] of this.peers) {
        if (p.backlog.length === 0) continue;
        if (now - p.lastCredit >= CREDIT_STALL_MS) {
          p.inflight = 0;
          p.lastCredit = now;
          this.drain(id, p);
        }
        if (p.backlog.length > 0) waiting = true;
      }
      if (!waiting) {
        clearInterval(this.stallTimer);
        this.stallTimer = undefined;
      }
    }, CREDIT_STALL_MS / 5);
  }

  private owe(src: number, bytes: number): void {
    if (!Number.isInteger(src)) return;
    const owed = (this.owed.get(src) ?? 0) + bytes;
    this.owed.set(src, owed);
    if (owed >= CREDIT_RETURN_BYTES) {
      this.returnCredit(src, owed);
      return;
    }
    if (this.creditTimer === undefined) this.creditTimer = setTimeout(this.returnAll, CREDIT_DELAY_MS);
  }

  private returnCredit(src: number, bytes: number): void {
    this.owed.delete(src);
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.id);
    view.setUint32(4, bytes);
    publishIfOpen(this.nc, this.subj.credit(src), out);
  }

  private readonly returnAll = (): void => {
    this.creditTimer = undefined;
    if (this.closed) return;
    for (const [src, bytes] of [...this.owed]) this.returnCredit(src, bytes);
  };

  close(): void {
    this.closed = true;
    if (this.creditTimer !== undefined) clearTimeout(this.creditTimer);
    if (this.stallTimer !== undefined) clearInterval(this.stallTimer);
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.length = 0;
    this.peers.clear();
  }
}
