import { type DeviceRef, deviceKey } from "./ids.js";

export type TransactionOutcome =
  /** First time this sender used the txnId: process it. */
  | "new"
  /** The same request again: acknowledge, change nothing. */
  | "retry"
  /** The txnId was reused for a different request: acknowledged, but the new body is lost. */
  | "conflict";

/**
 * Transaction ids seen per sending device. The spec scopes them to an access token (one
 * device); to-device being the only endpoint here, the scope is (user, device, txnId).
 */
export class TransactionLog {
  private readonly seen = new Map<string, string>();

  /** Classifies the request and remembers it if new; `fingerprint` identifies its content. */
  admit(sender: DeviceRef, txnId: string, fingerprint: string): TransactionOutcome {
    const key = JSON.stringify([deviceKey(sender), txnId]);
    const previous = this.seen.get(key);
    if (previous === undefined) {
      this.seen.set(key, fingerprint);
      return "new";
    }
    return previous === fingerprint ? "retry" : "conflict";
  }
}
