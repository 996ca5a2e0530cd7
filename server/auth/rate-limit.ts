/**
 * In-memory token buckets, one per key. Each bucket holds up to `burst` tokens and
 * refills at `perMinute` tokens per minute. State lives in this process only, so
 * several server processes each apply the full rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly refillPerMs: number;

  constructor(
    private readonly burst: number,
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.refillPerMs = perMinute / 60_000;
  }

  /** Takes `cost` tokens from the bucket of `key`; returns 0 when allowed, else the seconds until it would be. */
  take(key: string, cost = 1): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (cost > this.burst) return Number.POSITIVE_INFINITY;
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil((cost - bucket.tokens) / this.refillPerMs / 1000);
  }

  /** Drops buckets that have refilled completely, so unused keys cost no memory. */
  prune(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs >= this.burst) this.buckets.delete(key);
    }
  }
}
