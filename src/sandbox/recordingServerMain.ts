/**
 * Runs a counting RecordingServer in a process of its own (benchmarks: the mirror
 * target must not share nginx's or the load generator's event loop). Options come
 * as one JSON argument; it prints `{"port":N}` once listening, and answers a line
 * `count` on stdin with `{"count":N}`. SIGTERM stops it.
 */
import { createInterface } from 'node:readline';
import { startRecordingServer, type RecordingServerOptions } from './recordingServer.js';

const options = JSON.parse(process.argv[2] ?? '{}') as RecordingServerOptions;
const server = await startRecordingServer({ ...options, record: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') process.stdout.write(`${JSON.stringify({ count: server.count() })}\n`);
});
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
