/**
 * A port on 127.0.0.1 that is free right now, for TCP and UDP both (a DNS server
 * needs the pair). The kernel picks it; there is no fixed port anywhere.
 */
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

export async function freePort(options: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeTcpPort();
    if (!options.udp || (await udpPortFree(port))) return port;
  }
  throw new Error('no port on 127.0.0.1 was free for both TCP and UDP after 20 attempts');
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}
