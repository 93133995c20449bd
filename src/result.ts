/**
 * Outcome of an operation that can refuse its input: the value, or a typed rejection.
 * An operation that returns one does not throw for bad input; it answers with a rejection instead.
 *
 * - `{ ok: true, value }`: accepted; `value` is the result.
 * - `{ ok: false, ...E }`: refused; the rejection's fields (typically `reason` and `detail`) sit
 *   next to `ok`, so check `ok` first, then switch on `reason`.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & E);

/** Wraps `value` as an accepted {@link Result} (`{ ok: true, value }`); it does not copy it. */
export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
