/**
 * VRRP timer arithmetic, as keepalived 2.2.7 computes it (vrrp.h VRRP_TIMER_SKEW_CALC,
 * VRRP_MS_DOWN_TIMER), so that a vigil backup and a keepalived backup elect at the same
 * moment. keepalived keeps times in integer microseconds (TIMER_HZ = 1 000 000) and
 * truncates; the *Us functions do the same, the *Ms ones divide by 1000 (fractional ms).
 *
 * v2 (RFC 3768 §6.1): Skew_Time = (256 − Priority) / 256 s — independent of the advert
 *   interval (keepalived: `pri * TIMER_HZ / 256`).
 *   Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.
 *   prio 100, 1 s: 3 s + 609.375 ms = 3609.375 ms (bench: 3610 ms);
 *   prio 150, 1 s: 3 s + 414.062 ms = 3414.062 ms (issue: 3.41 s).
 * v3 (RFC 5798 §6.1): Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256, the
 *   interval in centiseconds — keepalived: `pri * (master_adver_int / 10000) * 625 / 16` µs
 *   (625/16 = 10000/256: centiseconds to µs over 256), truncated.
 *   Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.
 *   prio 100, 0.1 s: 300 ms + 60.937 ms = 360.937 ms (bench: 361 ms).
 */

/** RFC 3768 §6.1 / RFC 5798 §6.1 (keepalived VRRP_DOWN_TIMER_ADVERTS): adverts missed before master down */
export const DOWN_TIMER_ADVERTS = 3;
/** µs per second (keepalived TIMER_HZ) */
const US_PER_S = 1_000_000;
/** µs per centisecond (keepalived TIMER_CENTI_HZ) */
const US_PER_CS = 10_000;

function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > 255) throw new RangeError(`priority ${priority} not in 0..255`);
}

/** µs. Skew_Time for `priority` (the effective one); `advertIntMs` is Master_Adver_Interval (v3 only). */
export function skewTimeUs(version: 2 | 3, priority: number, advertIntMs: number): number {
  checkPriority(priority);
  const pri = 256 - priority;
  if (version === 2) return Math.floor((pri * US_PER_S) / 256);
  const cs = Math.floor((advertIntMs * 1000) / US_PER_CS);
  return Math.floor((pri * cs * 625) / 16);
}

/** µs. Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalUs(version: 2 | 3, priority: number, advertIntMs: number): number {
  return DOWN_TIMER_ADVERTS * Math.round(advertIntMs * 1000) + skewTimeUs(version, priority, advertIntMs);
}

/** ms (fractional, µs resolution). See skewTimeUs. */
export function skewTimeMs(version: 2 | 3, priority: number, advertIntMs: number): number {
  return skewTimeUs(version, priority, advertIntMs) / 1000;
}

/** ms (fractional, µs resolution). See masterDownIntervalUs. */
export function masterDownIntervalMs(version: 2 | 3, priority: number, advertIntMs: number): number {
  return masterDownIntervalUs(version, priority, advertIntMs) / 1000;
}

/**
 * ms. keepalived's smallest skew (VRRP_TIMER_SKEW_MIN, priority 255 in the formula): a sync
 * group member that wants MASTER at start waits one advert interval plus this.
 */
export function skewMinMs(version: 2 | 3, advertIntMs: number): number {
  return skewTimeUs(version, 255, advertIntMs) / 1000;
}

/**
 * ms. The advert interval as keepalived stores a configured one (vrrp.c, vrrp_complete_instance):
 * v2 rounded to whole seconds (1..255), v3 to centiseconds (10 ms..40.95 s).
 */
export function normaliseAdvertIntMs(version: 2 | 3, advertIntMs: number): number {
  if (version === 2) return Math.min(255, Math.max(1, Math.round(advertIntMs / 1000))) * 1000;
  return Math.min(0x0fff, Math.max(1, Math.round(advertIntMs / 10))) * 10;
}
