/**
 * Runs the fauxqs SQS emulator bound to 127.0.0.1 only. fauxqs 2.4.1 calls
 * `app.listen({ host: "0.0.0.0" })` whatever it is told (its `host` option only
 * shapes queue URLs), so this process narrows any wildcard listen to loopback
 * before fauxqs starts, and fixes its body-character check (below). Prints `{"port":N}` once listening; SIGTERM stops it.
 */
import { Server } from 'node:net';

const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const first = args[0];
  if (first && typeof first === 'object' && 'host' in first) {
    const options = first as { host?: string };
    if (options.host === '0.0.0.0' || options.host === '::' || options.host === undefined) args[0] = { ...options, host: '127.0.0.1' };
  }
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;

// fauxqs 2.4.1 tests bodies with a regex lacking the `u` flag, so every character
// outside the Basic Multilingual Plane (emoji: a surrogate pair) is refused with
// InvalidMessageContents. Real SQS allows #x10000 to #x10FFFF (SendMessage API
// reference). Same module instance as fauxqs's own import, so this fixes its check.
const fauxqsEntry = import.meta.resolve('fauxqs');
const sqsTypes = (await import(new URL('./sqs/sqsTypes.js', fauxqsEntry).href)) as { INVALID_MESSAGE_BODY_CHAR?: RegExp };
const sqsInvalidChar = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
if (sqsTypes.INVALID_MESSAGE_BODY_CHAR instanceof RegExp) {
  Object.defineProperty(sqsTypes.INVALID_MESSAGE_BODY_CHAR, 'test', { value: (text: string) => sqsInvalidChar.test(text) });
}

const { startFauxqs } = await import('fauxqs');
const port = Number(process.argv[2] ?? 0);
const region = process.argv[3] ?? 'ap-northeast-2';
const server = await startFauxqs({ port, host: 'localhost', defaultRegion: region, logger: false });
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
