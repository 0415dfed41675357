/**
 * The one serializer from config values to nginx text. Config validation already
 * refused anything unsafe; this is the second lock on the door: a value that could
 * end a directive, open a block, break quoting, start a comment or expand a
 * variable never reaches a rendered file, even if a schema rule is loosened.
 */
import { UsageError } from '../errors.js';

const unsafe = /[\s;{}"'#$\\`\x00-\x1f\x7f]/;

/** A usage error (exit 2, as the README promises for a value refused before it reaches a file), not an unexpected one. */
export class UnsafeNginxValueError extends UsageError {}

export function nginxArg(value: string | number, key: string): string {
  const text = String(value);
  if (text === '' || unsafe.test(text)) {
    throw new UnsafeNginxValueError(`${key}: refusing to render ${JSON.stringify(text)} into nginx config`);
  }
  return text;
}
