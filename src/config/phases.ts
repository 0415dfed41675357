/** The cutover phases of PRODUCT.md, in the order traffic walks them. */
export const phases = ['off', 'shadow', 'shadow-domain', 'primary', 'direct'] as const;
export type Phase = (typeof phases)[number];

export function isPhase(value: string): value is Phase {
  return (phases as readonly string[]).includes(value);
}

/** Phases whose nginx config talks to API Gateway through the custom domain. */
export function usesCustomDomain(phase: Phase): boolean {
  return phase === 'shadow-domain' || phase === 'primary' || phase === 'direct';
}
