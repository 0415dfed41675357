/**
 * A compact set of join keys the ledger has let go of (judged missing, or matched
 * and past the dedupe window), kept only to notice when one comes back: 64-bit
 * fingerprints in an open-addressing table, 16 bytes per key at most, instead of
 * the key string and its body. A fingerprint collision can only make a key look
 * seen, never unseen; the ledger treats a hit as "may have been judged
 * differently", so a collision costs a conservative fallback, never a wrong count.
 */
export class KeyFingerprints {
  private hi = new Int32Array(1024);
  private lo = new Int32Array(1024);
  private mask = 1023;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(key: string): void {
    const [h, l] = fingerprint(key);
    if (this.count + 1 > (this.mask + 1) / 2) this.grow();
    this.insert(h, l);
  }

  has(key: string): boolean {
    if (this.count === 0) return false;
    const [h, l] = fingerprint(key);
    for (let slot = l & this.mask; ; slot = (slot + 1) & this.mask) {
      const sh = this.hi[slot]!;
      const sl = this.lo[slot]!;
      if (sh === 0 && sl === 0) return false;
      if (sh === h && sl === l) return true;
    }
  }

  private insert(h: number, l: number): void {
    for (let slot = l & this.mask; ; slot = (slot + 1) & this.mask) {
      const sh = this.hi[slot]!;
      const sl = this.lo[slot]!;
      if (sh === h && sl === l) return;
      if (sh === 0 && sl === 0) {
        this.hi[slot] = h;
        this.lo[slot] = l;
        this.count++;
        return;
      }
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Int32Array(hi.length * 2);
    this.lo = new Int32Array(lo.length * 2);
    this.mask = this.hi.length - 1;
    this.count = 0;
    for (let i = 0; i < hi.length; i++) if (hi[i] !== 0 || lo[i] !== 0) this.insert(hi[i]!, lo[i]!);
  }
}

/** Two independent 32-bit FNV-1a style hashes; (0, 0) marks an empty slot, so it is never returned. */
function fingerprint(key: string): [number, number] {
  let h = 0x811c9dc5 | 0;
  let l = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h = Math.imul(h ^ c, 0x01000193);
    l = Math.imul(l ^ c, 0x5bd1e995);
    l ^= l >>> 15;
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  l = Math.imul(l ^ (l >>> 16), 0x85ebca6b);
  l ^= l >>> 13;
  return h === 0 && l === 0 ? [0, 1] : [h, l];
}
