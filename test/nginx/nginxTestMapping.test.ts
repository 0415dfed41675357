/** The real nginx -t, with its message mapped back to the rendered file and line. */
import { describe, expect, it } from 'vitest';
import { writeHarness } from '../../src/nginx/harness.js';
import { runNginxTest } from '../../src/nginx/nginxTest.js';
import { findNginx } from '../../src/nginx/nginxBinary.js';
import { renderNginx } from '../../src/render/nginxConfig.js';
import { loadTemplates } from '../../src/render/templates.js';
import { validateConfig } from '../../src/config/validate.js';
import { exampleConfig } from '../support/config.js';

describe('nginx -t through the harness', () => {
  it('maps a failure to the rendered file name and the line nginx names', async () => {
    const result = validateConfig(exampleConfig());
    if (!result.ok) throw new Error('example config must validate');
    const templates = await loadTemplates('nginx');
    const harness = await writeHarness({
      render: (prefix) => {
        const rendered = renderNginx({ ...result.config, parityLog: { ...result.config.parityLog, path: `${prefix}/logs/parity.log` } }, 'shadow', templates);
        // A hand edit gone wrong on line 3 of the server include.
        const server = rendered.files.find((f) => f.context === 'server')!;
        const lines = server.contents.split('\n');
        lines.splice(2, 0, 'proxy_bogus_directive on;');
        server.contents = lines.join('\n');
        return rendered;
      },
    });
    try {
      const test = await runNginxTest(await findNginx(), harness);
      expect(test.ok).toBe(false);
      expect(test.messages.find((m) => m.level === 'emerg')).toMatchObject({ file: 'mirror-bizppurio.server.conf', line: 3 });
      expect(test.messages.find((m) => m.level === 'emerg')?.text).toMatch(/unknown directive "proxy_bogus_directive"/);
    } finally {
      await harness.remove();
    }
  });
});
