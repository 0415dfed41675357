/**
 * Pure: nginx's own stderr lines (`nginx: [emerg] ... in /path/file.conf:12`) to
 * structured messages, with paths mapped back to the rendered file they came from.
 */
type NginxLevel = 'emerg' | 'alert' | 'crit' | 'error' | 'warn' | 'notice' | 'info' | 'debug';

export interface NginxMessage {
  level: NginxLevel;
  text: string;
  /** The file nginx named, mapped to the rendered file's name when it is one of ours. */
  file?: string;
  line?: number;
}

const messagePattern = /^nginx: \[(emerg|alert|crit|error|warn|notice|info|debug)\] (.*?)(?: in (\S+):(\d+))?$/;

export function parseNginxMessages(stderr: string, fileMap: Record<string, string> = {}): NginxMessage[] {
  const messages: NginxMessage[] = [];
  for (const raw of stderr.split('\n')) {
    const match = messagePattern.exec(raw.trim());
    if (!match) continue;
    const [, level, text, file, line] = match;
    messages.push({
      level: level as NginxLevel,
      text: text!,
      ...(file ? { file: fileMap[file] ?? file, line: Number(line) } : {}),
    });
  }
  return messages;
}

export function isFailure(message: NginxMessage): boolean {
  return message.level === 'emerg' || message.level === 'alert' || message.level === 'crit';
}
