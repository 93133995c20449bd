/// <reference lib="dom" preserve="true" />
import { type StoreError, type StoreErrorReason, StoreFailure } from "../keyWithholdingStore.js";

// IndexedDB's DOMException names (W3C IndexedDB 3.0, "Exceptions").
const REASON_BY_NAME: ReadonlyMap<string, StoreErrorReason> = new Map([
  // Opened with a version lower than the database's: written by a newer library.
  ["VersionError", "newerSchema"],
  // An object store or index this library uses is missing: not the database it left.
  ["NotFoundError", "corrupt"],
  ["DataError", "invalidArgument"],
  ["DataCloneError", "invalidArgument"],
  ["ConstraintError", "invalidArgument"],
  ["QuotaExceededError", "ioError"],
  ["UnknownError", "ioError"],
  ["AbortError", "ioError"],
  ["InvalidStateError", "ioError"],
  ["TransactionInactiveError", "ioError"],
  ["ReadOnlyError", "ioError"],
  ["TimeoutError", "ioError"],
  ["SecurityError", "ioError"],
]);

const nameOf = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null) return undefined;
  const name: unknown = Reflect.get(error, "name");
  return typeof name === "string" ? name : undefined;
};

const messageOf = (error: unknown): string => {
  if (error === null || error === undefined) return "no error given";
  const message: unknown = typeof error === "object" ? Reflect.get(error, "message") : undefined;
  return typeof message === "string" && message !== "" ? message : String(error);
};

/**
 * Maps whatever IndexedDB raised (a DOMException, or anything a wrapped factory threw) to a typed
 * error; what is not a known name could not be opened, read or written: `ioError`. The original
 * name and message stay in `detail`.
 */
export const storeErrorOf = (error: unknown, context: string): StoreError => {
  const name = nameOf(error);
  return {
    reason: (name === undefined ? undefined : REASON_BY_NAME.get(name)) ?? "ioError",
    detail: `${context}: ${name ?? "error"}: ${messageOf(error)}`,
  };
};

/** The same, as the `StoreFailure` a store method rejects with (kept as is when it already is one). */
export const storeFailureOf = (error: unknown, context: string): StoreFailure => {
  if (error instanceof StoreFailure) return error;
  const { reason, detail } = storeErrorOf(error, context);
  return new StoreFailure(reason, detail);
};
