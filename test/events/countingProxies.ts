/**
 * Test-only Proxies that count the reflective work done on them, so limits can be asserted as
 * "refused after reading at most N properties" rather than as wall-clock time.
 */
export interface Work {
  /** Keys handed out by `ownKeys` (what an honest container of that size would list). */
  listed: number;
  /** Property descriptors read with `getOwnPropertyDescriptor`. */
  described: number;
  /** Values read with `get` (copyJson never needs one). */
  read: number;
}

const newWork = (): Work => ({ listed: 0, described: 0, read: 0 });

/**
 * A dense array of `length` zeros that exists only as far as it is looked at: `length` may be
 * 10^9 without allocating anything. Listing its keys counts `length + 1`, as a real array would
 * cost, but only really builds the list when it is small enough to build.
 */
export function countingArray(length: number): { readonly array: unknown; readonly work: Work } {
  const work = newWork();
  const isIndex = (key: string | symbol): key is string =>
    typeof key === "string" && /^(0|[1-9]\d*)$/.test(key) && Number(key) < length;
  const array = new Proxy<unknown[]>([], {
    ownKeys(target) {
      work.listed += length + 1;
      if (length > 1_000_000) return Reflect.ownKeys(target); // too big to build honestly
      return [...Array.from({ length }, (_, index) => String(index)), "length"];
    },
    getOwnPropertyDescriptor(target, key) {
      work.described += 1;
      if (key === "length") {
        return { value: length, writable: true, enumerable: false, configurable: false };
      }
      if (isIndex(key)) return { value: 0, writable: true, enumerable: true, configurable: true };
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    get(target, key, receiver) {
      work.read += 1;
      if (key === "length") return length;
      return isIndex(key) ? 0 : Reflect.get(target, key, receiver);
    },
  });
  return { array, work };
}

/**
 * A plain object whose own keys are `keys`, each holding 0. The key list is built by the
 * caller once; listing it counts its length, and every other read is counted as it happens.
 */
export function countingObject(keys: readonly string[]): {
  readonly object: unknown;
  readonly work: Work;
} {
  const work = newWork();
  const own = new Set(keys);
  const object = new Proxy<Record<string, unknown>>(
    {},
    {
      ownKeys() {
        work.listed += keys.length;
        return [...keys];
      },
      getOwnPropertyDescriptor(target, key) {
        work.described += 1;
        if (typeof key === "string" && own.has(key)) {
          return { value: 0, writable: true, enumerable: true, configurable: true };
        }
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
      get(target, key, receiver) {
        work.read += 1;
        return typeof key === "string" && own.has(key) ? 0 : Reflect.get(target, key, receiver);
      },
    },
  );
  return { object, work };
}

/** Any object, forwarded unchanged; listing counts the keys the target really has. */
export function countingProxy<T extends object>(
  target: T,
): { readonly proxy: T; readonly work: Work } {
  const work = newWork();
  const proxy = new Proxy(target, {
    ownKeys(inner) {
      const keys = Reflect.ownKeys(inner);
      work.listed += keys.length;
      return keys;
    },
    getOwnPropertyDescriptor(inner, key) {
      work.described += 1;
      return Reflect.getOwnPropertyDescriptor(inner, key);
    },
    get(inner, key, receiver) {
      work.read += 1;
      return Reflect.get(inner, key, receiver);
    },
  });
  return { proxy, work };
}

/** Everything counted; a property read of any kind is one unit of work. */
export const totalWork = (work: Work): number => work.listed + work.described + work.read;
