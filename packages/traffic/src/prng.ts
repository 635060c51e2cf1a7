/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman and Vigna, 2018), 32-bit state words,
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 *
 * Chosen over `Math.random` because every run of the reference workload must be reproducible
 * byte for byte from its seed, and over mulberry32 for its 128-bit state (period 2^128 - 1), since
 * one benchmark run draws tens of millions of numbers. Only integer arithmetic on 32-bit words
 * (`Math.imul`, shifts), so the stream is the same on every platform.
 */

/** A seed: a safe integer, or a string (hashed with FNV-1a). */
export type Seed = number | string;

/** FNV-1a, 32 bits: a stable hash of a string, used to turn string seeds and labels into numbers. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A 32-bit integer mixer (the splitmix32 finalizer): a cheap stateless hash of an integer. */
export function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/** xoshiro128** generator. Not cryptographic. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed a safe integer (any sign, up to 2^53) or a string. */
  constructor(seed: Seed) {
    let low: number;
    let high: number;
    if (typeof seed === "string") {
      low = fnv1a(seed);
      high = fnv1a(`${seed}\u0000`);
    } else {
      if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer or a string, got ${seed}`);
      low = seed >>> 0;
      high = Math.floor(seed / 4294967296) >>> 0;
    }
    let state = (low ^ mix32(high ^ 0x5bd1e995)) | 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      return mix32(state);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // The all-zero state is the one fixed point of xoshiro.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A generator at an explicit state (four 32-bit words, not all zero): for reference vectors. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    const rng = new Prng(0);
    [rng.a, rng.b, rng.c, rng.d] = state.map((word) => word | 0) as [number, number, number, number];
    if ((rng.a | rng.b | rng.c | rng.d) === 0) throw new RangeError("xoshiro state must not be all zero");
    return rng;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [0, n), for 1 <= n <= 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max], inclusive. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A float in [min, max) whose logarithm is uniform: for sizes that span orders of magnitude. */
  logUniform(min: number, max: number): number {
    return min * (max / min) ** this.next();
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** `count` hexadecimal digits. */
  hex(count: number): string {
    let out = "";
    while (out.length < count) {
      const word = this.nextUint32();
      out += (HEX_BYTES[word >>> 24] as string) + HEX_BYTES[(word >>> 16) & 0xff] + HEX_BYTES[(word >>> 8) & 0xff] + HEX_BYTES[word & 0xff];
    }
    return out.length === count ? out : out.slice(0, count);
  }

  /** A random (version 4, RFC 9562 variant) UUID in canonical lower-case form. */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/**
 * A table for drawing indexes with fixed relative weights: cumulative sums and a binary search,
 * so a draw costs O(log n) whatever the table size.
 */
export class WeightedTable<T> {
  readonly items: readonly T[];
  private readonly cumulative: Float64Array;
  private readonly total: number;

  /** @param entries items with non-negative weights, at least one positive. */
  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach(([, weight], index) => {
      if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`weight must be a finite non-negative number, got ${weight}`);
      sum += weight;
      this.cumulative[index] = sum;
    });
    if (!(sum > 0)) throw new RangeError("at least one weight must be positive");
    this.total = sum;
  }

  /** Draws one item. */
  draw(rng: Prng): T {
    return this.items[searchCumulative(this.cumulative, rng.next() * this.total)] as T;
  }

  /** The probability of the item at `index`. */
  probability(index: number): number {
    const upper = this.cumulative[index] ?? 0;
    const lower = index > 0 ? (this.cumulative[index - 1] ?? 0) : 0;
    return (upper - lower) / this.total;
  }
}

/** Index of the first element of an ascending array greater than `target` (clamped to the last). */
export function searchCumulative(cumulative: Float64Array, target: number): number {
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] as number) > target) high = middle;
    else low = middle + 1;
  }
  return low;
}
