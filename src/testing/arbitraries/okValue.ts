import type { Result } from "../../result.js";

/** The value of a result that must be ok (a generator's own output); throws naming it if not. */
export function okValue<T, E>(result: Result<T, E>): T {
  if (result.ok) return result.value;
  throw new Error(`Expected ok, got ${JSON.stringify(result)}`);
}
