import { bizppurio } from './bizppurio.js';
import type { VendorPreset } from './preset.js';

export type { VendorPreset } from './preset.js';

/** Every preset `vendor:` may name. The core reaches vendors only through this list. */
export const vendorIds = ['bizppurio'] as const;
export type VendorId = (typeof vendorIds)[number];

const presets: Record<VendorId, VendorPreset> = { bizppurio };

export function vendorPreset(id: VendorId): VendorPreset {
  return presets[id];
}
