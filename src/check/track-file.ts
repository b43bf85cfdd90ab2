/**
 * FILE_CHECK's arithmetic, pure (keepalived trackers/track_file.c and check/check_file.c):
 * - the file holds a number in text, read as strtol(…, 0) reads it: leading blanks, a sign,
 *   0x… hex, 0… octal, anything after the digits ignored; a missing or empty file is 0; a
 *   number outside the 32-bit range leaves the previous value in place;
 * - with weight 0, a non-zero value is a failure and 0 is OK (`reverse` swaps them);
 * - otherwise value × weight (× −1 with `reverse`) is added to the real server's weight,
 *   and a result at or below −2147483648 (keepalived IPVS_WEIGHT_FAULT) is a failure.
 */

/** keepalived IPVS_WEIGHT_FAULT / IPVS_WEIGHT_LIMIT */
const WEIGHT_FAULT = -2147483648;
const WEIGHT_LIMIT = 2147483647;

/** The file's number; undefined: out of range, keep the previous value. */
export function parseTrackFileValue(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/.exec(text);
  const digits = m?.[2];
  if (digits === undefined) return 0;
  const mag = digits.length > 1 && (digits[1] === 'x' || digits[1] === 'X') ? Number.parseInt(digits.slice(2), 16) : digits.startsWith('0') ? Number.parseInt(digits, 8) : Number(digits);
  const v = m?.[1] === '-' ? -mag : mag;
  if (v < -2147483648 || v > 2147483648) return undefined;
  return v;
}

/** What one FILE_CHECK makes of the value: down, or up adding `delta` to the weight. */
export function fileCheckStatus(value: number, weight: number, reverse: boolean): { up: false } | { up: true; delta: number } {
  if (weight === 0) return (value !== 0) !== reverse ? { up: false } : { up: true, delta: 0 };
  const s = value * weight * (reverse ? -1 : 1);
  if (s <= WEIGHT_FAULT) return { up: false };
  return { up: true, delta: Math.min(s, WEIGHT_LIMIT) };
}
