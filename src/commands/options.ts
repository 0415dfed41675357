/** Parsing of flags shared by several commands; bad values are exit 2 naming the flag. */
import { UsageError } from '../errors.js';
import { isPhase, phases, type Phase } from '../config/phases.js';

export function parsePhaseFlag(value: string | undefined, flag = '--phase'): Phase | undefined {
  if (value === undefined) return undefined;
  if (!isPhase(value)) throw new UsageError(`${flag} ${JSON.stringify(value)}: expected one of ${phases.join(', ')}`);
  return value;
}
