/** Where nginx logs API Gateway's answers to the mirror subrequests (the render and verify agree on it here). */
import type { MirrorConfig } from './types.js';

export function answersLogPath(config: Pick<MirrorConfig, 'parityLog'>): string {
  const { path, answersPath } = config.parityLog;
  if (answersPath) return answersPath;
  return path.endsWith('.log') ? `${path.slice(0, -'.log'.length)}-answers.log` : `${path}-answers`;
}
