import { isIP } from 'node:net';
import type { LintRule } from '../types.js';

/** Answers from a public resolver cross the internet unauthenticated; the VPC resolver does not. */
export const publicResolver: LintRule = {
  id: 'public-resolver',
  severity: 'info',
  summary: 'public resolver addresses',
  help: 'prefer the VPC resolver (169.254.169.253, or the VPC base address + 2): no spoofing across the internet, and it resolves private hosted zones.',
  check(ctx) {
    return ctx.all
      .filter(({ directive: d }) => d.name === 'resolver')
      .flatMap(({ directive: d }) => {
        const publics = d.args.filter((a) => !a.includes('=')).map(hostOf).filter((h) => isIP(h) !== 0 && isPublic(h));
        return publics.length === 0 ? [] : [{ message: `resolver ${publics.join(' ')} ${publics.length === 1 ? 'is' : 'are'} public`, at: d }];
      });
  },
};

function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  return isIP(address) === 6 ? address : address.replace(/:\d+$/, '');
}

function isPublic(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return !(a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127));
  }
  const lower = ip.toLowerCase();
  return !(lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe8') || lower.startsWith('fe9') || lower.startsWith('fea') || lower.startsWith('feb'));
}
