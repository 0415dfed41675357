/**
 * A throwaway certificate authority made with the real openssl: one CA, and a
 * server certificate for the names the sandbox serves (the execute-api host, the
 * custom domain), so nginx verifies the mirror target exactly as it would verify
 * API Gateway. Keys are P-256: fast to make, accepted by nginx and Node.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { MissingDependencyError } from '../errors.js';

export interface TestCa {
  dir: string;
  /** PEM file of the CA: what `apiGateway.trustedCertificate` points at. */
  caPath: string;
  caPem: string;
  /** PEM server certificate and key for `names`. */
  cert: string;
  key: string;
  names: readonly string[];
  remove(): Promise<void>;
}

export async function createTestCa(names: readonly string[], options: { parentDir?: string; openssl?: string } = {}): Promise<TestCa> {
  if (names.length === 0) throw new Error('createTestCa needs at least one server name');
  const openssl = options.openssl ?? 'openssl';
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'mirror-ca-'));
  const run = async (args: string[]) => {
    try {
      await execa(openssl, args, { cwd: dir, stdin: 'ignore' });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOENT') {
        await rm(dir, { recursive: true, force: true });
        throw new MissingDependencyError(`openssl not found (looked for "${openssl}")`, [
          'install it: apt-get install -y openssl',
        ]);
      }
      throw error;
    }
  };
  try {
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await run(['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=mirror test CA']);
    await run(['req', '-new', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`]);
    await writeFile(
      join(dir, 'server.ext'),
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
        '',
      ].join('\n'),
    );
    await run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
    const [caPem, cert, key] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')));
    return {
      dir,
      caPath: join(dir, 'ca.pem'),
      caPem: caPem!,
      cert: cert!,
      key: key!,
      names,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
