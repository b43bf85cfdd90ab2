/**
 * keepalived's HEX_STR (UDP_CHECK `payload` and `require_reply`), keepalived.conf(5):
 * whitespace separates groups; within a group hex digits pair up from the left and an odd
 * last digit is a byte of its own, so `Ab12f 3 456` is AB 12 0F 03 45 06. In a reply pattern
 * an `X`/`x` digit matches any value of those four bits (a mask bit of 1 means "ignored").
 */
export interface HexStr {
  readonly data: Uint8Array;
  /** per byte, the bits to ignore; only when some digit was X/x */
  readonly mask?: Uint8Array;
}

/** undefined when a group holds anything but hex digits (and X/x where allowed), or nothing at all. */
export function parseHexStr(text: string, allowWildcard: boolean): HexStr | undefined {
  const data: number[] = [];
  const mask: number[] = [];
  let wild = false;
  for (const group of text.split(/\s+/)) {
    if (group === '') continue;
    for (let i = 0; i < group.length; i += 2) {
      const pair = group.slice(i, i + 2);
      let v = 0;
      let m = 0;
      for (const ch of pair.length === 1 ? `0${pair}` : pair) {
        v <<= 4;
        m <<= 4;
        if (/[0-9a-fA-F]/.test(ch)) v |= parseInt(ch, 16);
        else if (allowWildcard && (ch === 'x' || ch === 'X')) {
          m |= 0xf;
          wild = true;
        } else return undefined;
      }
      data.push(v);
      mask.push(m);
    }
  }
  if (data.length === 0) return undefined;
  return wild ? { data: Uint8Array.from(data), mask: Uint8Array.from(mask) } : { data: Uint8Array.from(data) };
}
