import type { PeerDevice } from "../devices/peerDevice.js";
import { describeThrown } from "../edges/describeThrown.js";
import type { JsonObject } from "../events/json.js";
import type {
  ClaimedOneTimeKey,
  DecryptedOlmEvent,
  OlmBackend,
  OlmEncryptedContent,
  OlmFailure,
  OlmFailureReason,
  OlmStateChanges,
} from "../olm/olmBackend.js";
import type { Result } from "../result.js";

/**
 * An `OlmBackend` is the client's (or ours): "never throws" is its contract, not a guarantee.
 * This is the one place the coordinator calls it, and it holds the line: a throw, or an answer
 * that is not a result, becomes a typed failure.
 */
export class GuardedOlm {
  constructor(
    private readonly backend: OlmBackend,
    readonly ownDevice: PeerDevice,
  ) {}

  hasSession(device: PeerDevice): boolean {
    try {
      return this.backend.hasSession(device) === true;
    } catch {
      return false;
    }
  }

  createOutboundSession(device: PeerDevice, key: ClaimedOneTimeKey): Result<void, OlmFailure> {
    return guard("sessionCreationFailed", () => this.backend.createOutboundSession(device, key));
  }

  encrypt(
    device: PeerDevice,
    eventType: string,
    content: JsonObject,
  ): Result<OlmEncryptedContent, OlmFailure> {
    return guard("encryptionFailed", () => this.backend.encrypt(device, eventType, content));
  }

  decrypt(sender: PeerDevice, content: JsonObject): Result<DecryptedOlmEvent, OlmFailure> {
    return guard("decryptionFailed", () => this.backend.decrypt(sender, content));
  }

  /**
   * The backend's Olm state changes for the next commit, rebuilt from checked strings; a backend
   * that persists nothing has none. Throws (caught by the writer) on an answer of another shape.
   */
  takeChanges(): OlmStateChanges | undefined {
    const take = this.backend.takeChanges;
    if (typeof take !== "function") return undefined;
    const changes: unknown = take.call(this.backend);
    if (changes === undefined) return undefined;
    if (typeof changes !== "object" || changes === null) {
      throw new TypeError("olm.takeChanges answered with something that is not changes");
    }
    const account: unknown = Reflect.get(changes, "account");
    const sessions: unknown = Reflect.get(changes, "sessions");
    const pickle: unknown =
      typeof account === "object" && account !== null ? Reflect.get(account, "pickle") : undefined;
    if ((account !== undefined && typeof pickle !== "string") || !Array.isArray(sessions)) {
      throw new TypeError("olm.takeChanges answered with changes of the wrong shape");
    }
    return {
      account: typeof pickle === "string" ? { pickle } : undefined,
      sessions: sessions.map((entry: unknown) => {
        const peer: unknown =
          typeof entry === "object" && entry !== null ? Reflect.get(entry, "peer") : undefined;
        const pickles: unknown =
          typeof entry === "object" && entry !== null ? Reflect.get(entry, "pickles") : undefined;
        if (
          typeof peer !== "string" ||
          !Array.isArray(pickles) ||
          !pickles.every((p) => typeof p === "string")
        ) {
          throw new TypeError("olm.takeChanges answered with sessions of the wrong shape");
        }
        return { peer, pickles: [...(pickles as string[])] };
      }),
    };
  }
}

function guard<T>(
  reason: OlmFailureReason,
  call: () => Result<T, OlmFailure>,
): Result<T, OlmFailure> {
  try {
    const result: unknown = call();
    if (typeof result === "object" && result !== null) {
      const flag: unknown = Reflect.get(result, "ok");
      if (flag === true) return result as Result<T, OlmFailure>;
      if (flag === false) {
        const detail: unknown = Reflect.get(result, "detail");
        const given: unknown = Reflect.get(result, "reason");
        return {
          ok: false,
          reason: typeof given === "string" ? (given as OlmFailureReason) : reason,
          detail: typeof detail === "string" ? detail.slice(0, 200) : "",
        };
      }
    }
    return {
      ok: false,
      reason,
      detail: "the Olm backend answered with something that is not a result",
    };
  } catch (thrown) {
    return { ok: false, reason, detail: `the Olm backend threw ${describeThrown(thrown)}` };
  }
}
