/**
 * The comlink baseline of the transport bench: a worker that answers each call with the bench
 * reply. Every call is a structured-clone round trip (request and reply: two messages).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { portEndpoint } from '../src/runtime/admin.js';
import { makeReply, type BenchReply, type BenchRequest } from '../bench/lib/messages.js';

export interface EchoApi {
  handle(req: BenchRequest): BenchReply;
}

const api: EchoApi = {
  handle: (req) => makeReply(req),
};

// The main thread hands over one end of a MessageChannel, so it can close its end when done.
Comlink.expose(api, portEndpoint((workerData as { port: MessagePort }).port));
