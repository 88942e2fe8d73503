import { isPlainObject } from '../cluster/config.js';
import { NATS_SERVERS_MAX, validateNats } from '../cluster/validate-nats.js';
import { ConfigError } from '../core/errors.js';

/**
 * The value of a `--nats URL[,URL]` flag (meridian host, meridian check --transport nats) as
 * the list of server URLs, or what is wrong with it, naming the flag: each command throws its
 * own flag error with it.
 */
export function natsServersFlag(value: string): { servers: string[] } | { wrong: string } {
  const list = value.split(',');
  try {
    return { servers: validateNats({ servers: list, processes: 1 }, 1, isPlainObject).servers };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const index = /^nats\.servers\[(\d+)\]$/.exec(error.field);
    // A password in a URL is not shown (as shownServers hides it once connecting).
    const shown = (text: string): string => JSON.stringify(text.replace(/\/\/[^/@,]*@/g, '//***@'));
    if (index !== null) return { wrong: `--nats needs comma-separated URLs, each ${error.allowed}, got ${shown(list[Number(index[1])]!)}` };
    if (list.length >= 1 && list.length <= NATS_SERVERS_MAX) return { wrong: `--nats needs ${error.allowed}, got ${shown(value)}` };
    return { wrong: `--nats needs 1 to ${NATS_SERVERS_MAX} comma-separated NATS URLs, got ${list.length}` };
  }
}
