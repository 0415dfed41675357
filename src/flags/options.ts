/** Parsing of flags shared by several commands; bad values are exit 2 naming the flag. */
import { UsageError } from '../errors.js';
import { isPhase, phases, type Phase } from '../config/phases.js';

export function parsePhaseFlag(value: string | undefined, flag = '--phase'): Phase | undefined {
  if (value === undefined) return undefined;
  if (!isPhase(value)) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected one of ${phases.join(', ')}`);
  return value;
}

/**
 * `host:port` (`[v6]:port` too). A listen address (`listen`) takes an IP or
 * localhost and port 0 (pick a free one); an address to connect to takes a host
 * name and ports 1 to 65535.
 */
export function parseHostPort(text: string, flag: string, options: { listen?: boolean; example: string }): { host: string; port: number } {
  const host = options.listen ? '\\[[0-9A-Fa-f:]+\\]|[0-9.]+|localhost' : '\\[[0-9A-Fa-f:]+\\]|[A-Za-z0-9.-]+';
  const m = new RegExp(`^(${host}):(\\d{1,5})$`).exec(text);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65_535 || (!options.listen && port < 1)) throw new UsageError(`${flag} ${text}: expected host:port, e.g. ${options.example}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
