/**
 * Config keys for running the commands against local stand-ins for AWS (the config
 * `mirror sandbox up` writes): the emulator's credentials, where probes connect and
 * which CA they trust, and the logs doctor reads. One group, so a real config never
 * mixes them in by accident: a config without `sandbox` talks to AWS as before.
 */
import { z } from 'zod';
import { filePathPattern } from './nginxValues.js';

const filePath = z.string().regex(filePathPattern, { error: 'expected an absolute file path of letters, digits and . _ - / @ + = ,' });

export const sandboxKeysSchema = z
  .strictObject({
    sqsCredentials: z
      .strictObject({
        accessKeyId: z.string().min(1).describe('access key id the SQS emulator accepts'),
        secretAccessKey: z.string().min(1).describe('its secret (an emulator\'s dummy value; never printed)'),
      })
      .optional()
      .describe('credentials for sqs.endpoint, used instead of the AWS default provider chain'),
    gatewayAddress: z
      .string()
      .regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|localhost):\d{1,5}$/, { error: 'expected host:port such as 127.0.0.1:8443' })
      .optional()
      .describe('where probes connect instead of resolving the API Gateway host (Host and SNI stay the gateway\'s)'),
    caCertificate: filePath.optional().describe('CA bundle probes verify the gateway certificate with (default: apiGateway.trustedCertificate)'),
    errorLogs: z.array(filePath).optional().describe('logs `mirror doctor -c` reads when given no other input (nginx error log, gateway execution log)'),
  })
  .describe('local stand-ins for AWS: only in the config `mirror sandbox up` writes');

type SandboxKeys = z.output<typeof sandboxKeysSchema>;
