/**
 * `callback.bodyBufferSize` against the vendor's largest callback. A body larger
 * than `client_body_buffer_size` goes to a temp file and nginx logs `$request_body`
 * empty (FINDINGS.md): verify then matches such a callback on its key only and
 * counts it "body not checked". Above SQS's 1 MiB message limit the buffer holds
 * bodies that can never become a message.
 */
import { sizeToBytes } from './nginxValues.js';
import { vendorPreset } from '../vendors/index.js';
import type { MirrorConfig, RuleIssue } from './types.js';

/** The SQS message size limit (AWS Compute Blog, "More room to build: serverless services now support payloads up to 1 MB"). */
const sqsMaxMessageBytes = 1024 * 1024;

export function bodyBufferRule(config: MirrorConfig): RuleIssue[] {
  const buffer = sizeToBytes(config.callback.bodyBufferSize);
  const preset = vendorPreset(config.vendor);
  if (buffer < preset.maxCallbackBytes) {
    return [{
      severity: 'warning',
      path: 'callback.bodyBufferSize',
      message: `${config.callback.bodyBufferSize} (${buffer} bytes) is smaller than the largest ${preset.displayName} callback (${preset.maxCallbackBytes} bytes): larger bodies are logged empty and verify cannot check them; expected at least ${Math.ceil(preset.maxCallbackBytes / 1024)}k`,
    }];
  }
  if (buffer > sqsMaxMessageBytes) {
    return [{
      severity: 'warning',
      path: 'callback.bodyBufferSize',
      message: `${config.callback.bodyBufferSize} is above SQS's 1 MiB message limit: no larger body can become a message; expected at most 1m`,
    }];
  }
  return [];
}
