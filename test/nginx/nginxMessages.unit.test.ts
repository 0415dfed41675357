/** nginx -t output parsing, against outputs recorded from the real nginx 1.22.1 (test/fixtures/nginx-t). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFailure, parseNginxMessages } from '../../src/nginx/nginxMessages.js';

function recorded(name: string): { stderr: string; exitCode: number } {
  const base = new URL(`../fixtures/nginx-t/${name}`, import.meta.url);
  return {
    stderr: readFileSync(new URL(`${base.href}.stderr`), 'utf8'),
    exitCode: Number(readFileSync(new URL(`${base.href}.exit`), 'utf8')),
  };
}

const fileMap = { '/tmp/ngx/conf/server.conf': 'mirror-bizppurio.server.conf' };

describe('parseNginxMessages', () => {
  it('maps an error to the rendered file and line', () => {
    const { stderr, exitCode } = recorded('unknown');
    expect(exitCode).toBe(1);
    expect(parseNginxMessages(stderr, fileMap)).toEqual([
      { level: 'emerg', text: 'unknown directive "mirror_body"', file: 'mirror-bizppurio.server.conf', line: 4 },
    ]);
  });

  it('keeps a message nginx gives no file for (a missing trusted certificate)', () => {
    const messages = parseNginxMessages(recorded('cert').stderr, fileMap);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ level: 'emerg', text: expect.stringContaining('/nonexistent/ca.pem') });
    expect(messages[0]!.file).toBeUndefined();
    expect(messages.every(isFailure)).toBe(true);
  });

  it('shows why a literal execute-api host fails offline', () => {
    expect(parseNginxMessages(recorded('host').stderr, fileMap)[0]).toMatchObject({
      text: 'host not found in upstream "a1b2c3d4e5.execute-api.ap-northeast-2.amazonaws.com"',
      file: 'mirror-bizppurio.server.conf',
    });
  });

  it('finds no message in a successful test', () => {
    const { stderr, exitCode } = recorded('ok');
    expect(exitCode).toBe(0);
    expect(parseNginxMessages(stderr)).toEqual([]);
  });
});
