/**
 * The whole core loop on one machine: the shadow stack (real nginx, origin,
 * dnsmasq, test CA) with the gateway stand-in executing the rendered OpenAPI
 * document in place of API Gateway, delivering to fauxqs in its own process.
 * `mirror sandbox up`, `mirror demo` and the end-to-end tests all run this code.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { validateConfig } from '../config/validate.js';
import type { MirrorConfig } from '../config/types.js';
import type { Phase } from '../config/phases.js';
import { startFauxqs, type Fauxqs } from '../sqs/fauxqs.js';
import { startStandIn } from '../gateway/standIn.js';
import type { OpenApiDocument } from '../gateway/openapiDocument.js';
import { openApiFor } from './apigwDocument.js';
import { sandboxRawConfig } from './sandboxConfig.js';
import { startShadowStack, type ShadowStack, type ShadowStackOptions } from './shadowStack.js';
import type { QueueMessage } from '../verify/engine/records.js';
import { toQueueMessage } from '../verify/sources/sqsSource.js';
import { startQueueConsumer, type QueueConsumer } from './queueConsumer.js';

export interface FullSandboxOptions extends Omit<ShadowStackOptions, 'gateway'> {
  /** Replace the rendered document before the stand-in runs it (tests: the seed's template). */
  editDocument?: (document: OpenApiDocument) => void;
  /**
   * Makes SQS fail (500 InternalError) for the messages this picks: a known set of
   * lost callbacks for the comparator tests. The stand-in then answers 503, which
   * the mirror discards, as with a real outage.
   */
  failSend?: (message: { body: string; attributes: Record<string, string> }) => boolean;
  /** Where the stand-in writes its execution-log lines. */
  gatewayLogPath?: string;
  /**
   * Run a consumer beside the queue from the start (receive and delete, as the real
   * one does): the config the sandbox writes then says `verify.liveConsumer: true`.
   * `startConsumer()` starts it later (the demo: once the probes into shadow are in).
   */
  consumer?: boolean;
}

export interface FullSandbox {
  stack: ShadowStack;
  fauxqs: Fauxqs;
  queueUrl: string;
  gatewayPort: number;
  document: OpenApiDocument;
  /**
   * A config tree for the CLI commands (verify, probe, cutover) pointed at this
   * sandbox: the stack's own config, with sqs.endpoint set to fauxqs.
   */
  configTree(): Record<string, any>;
  /** Stops the gateway stand-in alone (tests: API Gateway unreachable). */
  stopGateway(): Promise<void>;
  /** The running consumer, once started (option `consumer` or startConsumer()). */
  readonly consumer: QueueConsumer | undefined;
  /** Starts the consumer (once; later calls return the running one). */
  startConsumer(): QueueConsumer;
  /** Receives and deletes up to `max` messages, long-polling briefly. */
  drain(max: number, timeoutMs?: number): Promise<QueueMessage[]>;
  stop(): Promise<void>;
}

export async function startFullSandbox(options: FullSandboxOptions = {}): Promise<FullSandbox> {
  const phase: Phase = options.phase ?? 'shadow';
  // Validated before any process starts: a bad user config is an error, not a half-started sandbox.
  const documentConfig = gatewayConfig(phase, options.editConfig, options.userConfig);
  const fauxqs = await startFauxqs({ region: documentConfig.sqs.queue.region ?? documentConfig.apiGateway.region });
  let client: SQSClient | undefined;
  try {
    const queueUrl = await fauxqs.createQueue(documentConfig.sqs.queue.name);
    const document = await openApiFor(documentConfig);
    options.editDocument?.(document);
    client = fauxqs.client();
    // doctor reads the execution log from the start: it exists, empty, before any request.
    if (options.gatewayLogPath) await writeFile(options.gatewayLogPath, '', { flag: 'a', mode: 0o600 });
    const sqs = client;
    let gatewayPort = 0;
    let standInStop: (() => Promise<void>) | undefined;
    const stack = await startShadowStack({
      ...options,
      gateway: async (ca) => {
        const standIn = await startStandIn({
          document,
          stage: documentConfig.apiGateway.stage,
          executeApiHost: `${documentConfig.apiGateway.restApiId}.execute-api.${documentConfig.apiGateway.region}.amazonaws.com`,
          ...(documentConfig.apiGateway.customDomain ? { customDomain: { host: documentConfig.apiGateway.customDomain, basePath: documentConfig.apiGateway.basePath } } : {}),
          tls: { cert: ca.cert, key: ca.key },
          sqs: { client: options.failSend ? failing(sqs, options.failSend) : sqs, queueUrl: async (_account, name) => (name === documentConfig.sqs.queue.name ? queueUrl : undefined) },
          ...(options.gatewayLogPath ? { log: (line: string) => void appendFile(options.gatewayLogPath!, `${line}\n`) } : {}),
        });
        gatewayPort = standIn.port;
        standInStop = standIn.stop;
        return standIn;
      },
    });
    let consumer: QueueConsumer | undefined;
    const startConsumer = () => (consumer ??= startQueueConsumer({ client: sqs, queueUrl }));
    if (options.consumer) startConsumer();
    return {
      stack,
      fauxqs,
      queueUrl,
      gatewayPort,
      document,
      get consumer() {
        return consumer;
      },
      startConsumer,
      configTree() {
        const tree = structuredClone(stack.rawConfig);
        tree.sqs = { ...tree.sqs, endpoint: fauxqs.endpoint };
        // What the commands need to reach this sandbox with `-c` alone, no AWS
        // variables and no flags (docs: README, "The sandbox").
        tree.sandbox = {
          sqsCredentials: { ...fauxqsCredentials },
          gatewayAddress: `127.0.0.1:${gatewayPort}`,
          caCertificate: stack.ca.caPath,
          errorLogs: [stack.harness.errorLogPath, ...(options.gatewayLogPath ? [options.gatewayLogPath] : [])],
        };
        // A queue with a consumer is never peeked: verify and the gates judge from API Gateway's answers.
        if (options.consumer || consumer) tree.verify = { ...tree.verify, liveConsumer: true };
        return tree;
      },
      async stopGateway() {
        await standInStop?.();
      },
      async drain(max, timeoutMs = 15_000) {
        const out: QueueMessage[] = [];
        const deadline = Date.now() + timeoutMs;
        while (out.length < max && Date.now() < deadline) {
          const got = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['SentTimestamp'] }),
          );
          const messages = got.Messages ?? [];
          out.push(...messages.map(toQueueMessage));
          if (messages.length > 0) {
            await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
          }
        }
        return out;
      },
      async stop() {
        await consumer?.stop();
        await stack.stop();
        sqs.destroy();
        await fauxqs.stop();
      },
    };
  } catch (error) {
    client?.destroy();
    await fauxqs.stop();
    throw error;
  }
}

/** fauxqs checks no signature; any non-empty pair signs its requests. */
const fauxqsCredentials = { accessKeyId: 'fauxqs', secretAccessKey: 'fauxqs' } as const;

function failing(client: SQSClient, pick: NonNullable<FullSandboxOptions['failSend']>): SQSClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return async (command: unknown) => {
        if (command instanceof SendMessageCommand) {
          const attributes = Object.fromEntries(Object.entries(command.input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']));
          if (pick({ body: command.input.MessageBody ?? '', attributes })) {
            throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
          }
        }
        return target.send(command as never);
      };
    },
  });
}

/** The config the document is rendered from: the sandbox defaults, edited like the stack's. */
export function gatewayConfig(phase: Phase, edit: ((raw: Record<string, any>) => void) | undefined, user?: Record<string, any>): MirrorConfig {
  const raw = sandboxRawConfig({
    originUrl: 'http://127.0.0.1:9',
    targetPort: 443,
    trustedCertificate: '/etc/ssl/certs/ca-certificates.crt',
    resolverAddress: '127.0.0.1:53',
    resolverTimeout: '5s',
    parityLogPath: '/tmp/parity.log',
    phase,
  }, user);
  edit?.(raw);
  const result = validateConfig(raw, phase);
  if (!result.ok) throw new Error(`sandbox config is invalid: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return result.config;
}

