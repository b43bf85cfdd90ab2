/**
 * koffi's native binding, loaded without the package's index. The index carries koffi's
 * build tool (for prebuilt downloads), which loads node's https, tls, http, zlib and crypto:
 * 66 more built-in modules and ~13 ms on the path to the first advert (this 2-core host; libc.ts
 * is loaded before the daemon raises its priority), 1.1 MB of RSS. vigil calls the binding's
 * own functions only (load, func, struct, …), which the index re-exports as they are.
 * Where no binding of this platform's name loads, the index does what it does.
 */
import { createRequire } from 'node:module';
import type Koffi from 'koffi';

const requireKoffi = createRequire(import.meta.url);

/** koffi's build directory names: process.arch, except these */
const ARCH: Readonly<Record<string, string>> = { arm: 'armhf', riscv64: 'riscv64d' };

function loadKoffi(): typeof Koffi {
  const arch = ARCH[process.arch] ?? process.arch;
  for (const triplet of [`${process.platform}_${arch}`, ...(process.platform === 'linux' ? [`musl_${arch}`] : [])]) {
    try {
      return requireKoffi(`koffi/build/koffi/${triplet}/koffi.node`) as typeof Koffi;
    } catch {
      /* not this one: the next, then the index */
    }
  }
  return requireKoffi('koffi') as typeof Koffi;
}

const koffi = loadKoffi();
export default koffi;
