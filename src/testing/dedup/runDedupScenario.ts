import type { PeerDevice } from "../../devices/peerDevice.js";
import { buildNoOlmNotice } from "../../events/buildNotice.js";
import type { DeviceId, UserId } from "../../events/matrixIds.js";
import { LibolmBackend } from "../../olm/libolmBackend.js";
import { InMemoryHomeserver } from "../homeserver/inMemoryHomeserver.js";
import type { DedupRun, DedupStep } from "./dedupRunArbitraries.js";
import type { DedupTrace, ObservedStep, PeerObservation, StepObservation } from "./dedupTrace.js";
import type { GlueFactory, GlueUnderTest } from "./glueUnderTest.js";

/** Options of {@link runDedupScenario}. */
export interface DedupScenarioOptions {
  /** The homeserver double (e.g. with a `schemaCheck`). Default: a new one. */
  readonly homeserver?: InMemoryHomeserver;
  /** Where the kit's clock starts (ms). */
  readonly start?: number;
}

const OUR_USER = "@us:ours.example" as UserId;
const OUR_DEVICE = "OURDEVICE" as DeviceId;
const SETTLE_RETRIES = 50;

async function account(userId: string, deviceId: string): Promise<LibolmBackend> {
  const created = await LibolmBackend.create({
    userId: userId as UserId,
    deviceId: deviceId as DeviceId,
  });
  if (!created.ok) throw new Error(`libolm: ${created.detail}`);
  return created.value;
}

function upload(hs: InMemoryHomeserver, device: PeerDevice, body: Record<string, unknown>): void {
  const uploaded = hs.uploadKeys(device.userId, device.deviceId, body);
  if (!uploaded.ok) throw new Error(`upload refused: ${uploaded.problems.join("; ")}`);
}

/**
 * Runs `run` against the client's glue: our device (real libolm), 1–3 peer devices (real
 * libolm, passive: they publish keys, send us m.no_olm, and decrypt what we send them), the
 * homeserver double between them. Returns what was seen, for `dedupViolations`.
 */
export async function runDedupScenario(
  run: DedupRun,
  makeGlue: GlueFactory,
  options: DedupScenarioOptions = {},
): Promise<DedupTrace> {
  const hs = options.homeserver ?? new InMemoryHomeserver();
  const clock = { now: options.start ?? Date.UTC(2026, 0, 5, 9) };
  const olm = await account(OUR_USER, OUR_DEVICE);
  const peers: LibolmBackend[] = [];
  let glue: GlueUnderTest | undefined;
  try {
    upload(hs, olm.ownDevice, { device_keys: olm.signedDeviceKeys() });
    for (let i = 0; i < run.peers; i += 1) {
      const peer = await account(`@peer${i}:peer${i}.example`, `PEER${i}`);
      peers.push(peer);
      upload(hs, peer.ownDevice, { device_keys: peer.signedDeviceKeys() });
    }
    const us = olm.ownDevice;
    glue = await makeGlue({
      userId: OUR_USER,
      deviceId: OUR_DEVICE,
      olm,
      transport: hs.transportFor(OUR_USER, OUR_DEVICE),
      now: () => clock.now,
      peers: peers.map((p) => p.ownDevice),
    });
    const active = glue;
    const observed: StepObservation[] = [];
    let txn = 0;

    const perform = async (step: DedupStep): Promise<void> => {
      const peerAt = (i: number): LibolmBackend | undefined => peers[i];
      switch (step.k) {
        case "share":
          await active.shareRoomKey(step.peers.flatMap((i) => peerAt(i)?.ownDevice ?? []));
          return;
        case "publishKeys": {
          const peer = peerAt(step.peer);
          const keys = peer?.generateOneTimeKeys(step.count);
          if (peer === undefined || keys === undefined || !keys.ok) return;
          upload(hs, peer.ownDevice, { one_time_keys: keys.value });
          return;
        }
        case "peerNotice": {
          const peer = peerAt(step.peer);
          if (peer === undefined) return;
          const { userId, deviceId, curve25519 } = peer.ownDevice;
          txn += 1;
          const notice = buildNoOlmNotice({ senderKey: curve25519, fromDevice: deviceId });
          await hs.transportFor(userId, deviceId).sendToDevice({
            eventType: "m.room_key.withheld",
            txnId: `peer.${txn}`,
            body: { messages: { [us.userId]: { [us.deviceId]: notice } } },
          });
          return;
        }
        case "sync":
          await active.receiveToDevice(hs.sync(us.userId, us.deviceId));
          return;
        case "advance":
          clock.now += step.ms;
          return;
        case "sendFails":
          hs.failNext(us, "sendToDevice", step.count);
          return;
        case "retry":
          await active.retry();
          return;
        case "loseSession": {
          const peer = peerAt(step.peer);
          if (peer !== undefined) olm.forgetSessions(peer.ownDevice);
          return;
        }
      }
    };

    const observe = async (
      index: number,
      step: ObservedStep,
      act: () => Promise<void>,
    ): Promise<void> => {
      const before = peers.map((p) => ({
        session: olm.hasSession(p.ownDevice),
        keys: hs.oneTimeKeyCount(p.ownDevice.userId, p.ownDevice.deviceId),
        claims: claimsOf(hs, us, p.ownDevice),
        notices: noticesTo(hs, us, p.ownDevice),
      }));
      await act();
      const seen: PeerObservation[] = peers.map((p, i) => {
        const was = before[i] ?? { session: false, keys: 0, claims: 0, notices: 0 };
        const inbox = hs.sync(p.ownDevice.userId, p.ownDevice.deviceId);
        let dummies = 0;
        let undecryptable = 0;
        for (const event of inbox) {
          if (event.type !== "m.room.encrypted" || event.sender !== us.userId) continue;
          const decrypted = p.decrypt(us, event.content);
          if (!decrypted.ok) undecryptable += 1;
          else if (decrypted.value.type === "m.dummy") dummies += 1;
        }
        return {
          peer: i,
          sessionBefore: was.session,
          sessionAfter: olm.hasSession(p.ownDevice),
          keysBefore: was.keys,
          noticesDelivered: noticesTo(hs, us, p.ownDevice) - was.notices,
          dummiesDelivered: dummies,
          undecryptable,
          keysClaimed: claimsOf(hs, us, p.ownDevice) - was.claims,
        };
      });
      observed.push({ index, step, at: clock.now, peers: seen });
    };

    for (const [index, step] of run.steps.entries()) {
      await observe(index, step, () => perform(step));
    }
    await observe(run.steps.length, { k: "settle" }, async () => {
      // Use up the injected send failures, then one clean retry.
      for (let i = 0; i < SETTLE_RETRIES && hs.pendingFaults(us, "sendToDevice") > 0; i += 1) {
        await active.retry();
      }
      await active.retry();
    });
    const specViolations = hs.violations.map((v) => `${v.endpoint}: ${v.problems.join("; ")}`);
    return { run, steps: observed, specViolations };
  } finally {
    await glue?.close();
    for (const peer of peers) peer.dispose();
    olm.dispose();
  }
}

const claimsOf = (hs: InMemoryHomeserver, us: PeerDevice, peer: PeerDevice): number =>
  hs.claims.filter(
    (c) =>
      c.claimer.userId === us.userId &&
      c.claimer.deviceId === us.deviceId &&
      c.target.userId === peer.userId &&
      c.target.deviceId === peer.deviceId,
  ).length;

const noticesTo = (hs: InMemoryHomeserver, us: PeerDevice, peer: PeerDevice): number =>
  hs.deliveries.filter(
    (m) =>
      m.eventType === "m.room_key.withheld" &&
      m.content.code === "m.no_olm" &&
      m.sender.userId === us.userId &&
      m.sender.deviceId === us.deviceId &&
      m.recipient.userId === peer.userId &&
      m.recipient.deviceId === peer.deviceId,
  ).length;
