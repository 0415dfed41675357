/** `validate` warns when callback.bodyBufferSize cannot hold the preset's largest callback, or exceeds what SQS accepts. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { vendorPreset } from '../../src/vendors/index.js';
import { exampleConfig, withValue } from '../support/config.js';

const bufferWarnings = (size: string | undefined) => {
  const result = validateConfig(withValue(exampleConfig(), 'callback.bodyBufferSize', size));
  if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('; '));
  return result.warnings.filter((w) => w.path === 'callback.bodyBufferSize');
};

describe('callback.bodyBufferSize rule', () => {
  it('the default holds the largest callback the preset can send and stays within SQS 1 MiB', () => {
    expect(bufferWarnings(undefined)).toEqual([]);
    expect(vendorPreset('bizppurio').maxCallbackBytes).toBeLessThanOrEqual(64 * 1024);
  });
  it('warns, naming the preset and its largest callback, when the buffer is smaller', () => {
    const [warning, ...rest] = bufferWarnings('8k');
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ severity: 'warning' });
    expect(warning!.message).toContain('Bizppurio');
    expect(warning!.message).toContain(String(vendorPreset('bizppurio').maxCallbackBytes));
  });
  it('accepts exactly the largest callback and exactly 1m; warns above SQS 1 MiB', () => {
    expect(bufferWarnings(`${vendorPreset('bizppurio').maxCallbackBytes}`)).toEqual([]);
    expect(bufferWarnings('1m')).toEqual([]);
    expect(bufferWarnings('2m')[0]!.message).toContain('1 MiB');
  });
});
