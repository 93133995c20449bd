import { registerFakeDevices } from "../../../src/testing/homeserver/index.js";
import type { KeysClaimRequest, SendToDeviceRequest } from "../../../src/transport/transport.js";
import { specHomeserver } from "../support/browserSpecHomeserver.js";
import { ALICE, ALICE_HARNESS, type AliceHarness, BOB } from "./frameHarness.js";
import { FrameReports } from "./frameReports.js";

/*
 * The test page's side of alice's frames: the homeserver double and bob live here, so they
 * survive alice's page being killed and loaded again. The homeserver double checks everything
 * that crosses it against the vendored spec, as in Node.
 */

export interface SendSeen {
  readonly eventType: string;
  readonly txnId: string;
}

export class AliceWorld {
  readonly hs = specHomeserver();
  readonly reports = new FrameReports<"boot" | "done">();
  /** Every sendToDevice alice made, answered or not. */
  readonly sends: SendSeen[] = [];
  readonly #transport = this.hs.transportFor(ALICE.userId, ALICE.deviceId);
  #holdNextWithheld = false;
  #reachedServer: (() => void) | undefined;
  plan: ReturnType<AliceHarness["plan"]> = "first";

  constructor(readonly databaseName: string) {
    // Bob uploads identity keys and no one-time keys: alice cannot claim one.
    registerFakeDevices(this.hs, [BOB]);
    const harness: AliceHarness = {
      databaseName,
      pickleKey: Array.from({ length: 32 }, (_, i) => i + 1),
      plan: () => this.plan,
      call: (endpoint, json) => this.#call(endpoint, json),
      uploadKeys: (json) =>
        JSON.stringify(this.hs.uploadKeys(ALICE.userId, ALICE.deviceId, JSON.parse(json))),
      queryBob: () => JSON.stringify(this.hs.queryKeys([BOB.userId])),
      report: (kind, json) => this.reports.push(kind, json),
    };
    Reflect.set(window, ALICE_HARNESS, harness);
  }

  /**
   * The next m.room_key.withheld alice sends takes full effect at the homeserver, and its answer
   * never comes: resolves once the homeserver has it, so the test can kill the page then.
   */
  holdNextWithheldAnswer(): Promise<void> {
    this.#holdNextWithheld = true;
    return new Promise((resolve) => {
      this.#reachedServer = resolve;
    });
  }

  async #call(endpoint: "sendToDevice" | "claimKeys", json: string): Promise<string> {
    if (endpoint === "claimKeys") {
      return JSON.stringify(await this.#transport.claimKeys(JSON.parse(json) as KeysClaimRequest));
    }
    const request = JSON.parse(json) as SendToDeviceRequest;
    this.sends.push({ eventType: request.eventType, txnId: request.txnId });
    const answer = await this.#transport.sendToDevice(request);
    if (this.#holdNextWithheld && request.eventType === "m.room_key.withheld") {
      this.#holdNextWithheld = false;
      this.#reachedServer?.();
      return new Promise<string>(() => {});
    }
    return JSON.stringify(answer);
  }

  /** m.room_key.withheld messages the homeserver put into bob's inbox. */
  withheldToBob() {
    return this.hs.deliveries.filter(
      (m) => m.eventType === "m.room_key.withheld" && m.recipient.userId === BOB.userId,
    );
  }

  dispose(): void {
    Reflect.deleteProperty(window, ALICE_HARNESS);
  }
}
