/*
 * The child process: alice's coordinator over a SQLite file, with real libolm, and the parent's
 * relay as its only network (every transport call is an IPC round trip). The parent SIGKILLs it
 * at will and starts it again on the same file; everything alice knows after that comes from
 * the store. Kept lean: its start-up time is paid once per kill.
 */

import { type KeyWithholding, openKeyWithholding } from "../../src/coordinator/keyWithholding.js";
import type { IncomingResult } from "../../src/coordinator/keyWithholdingTypes.js";
import { DeviceList } from "../../src/devices/deviceList.js";
import type { JsonValue } from "../../src/events/json.js";
import type { DeviceId, UserId } from "../../src/events/matrixIds.js";
import { LibolmBackend } from "../../src/olm/libolmBackend.js";
import type { Result } from "../../src/result.js";
import { openSqliteStore } from "../../src/sqlite.js";
import type { KeyWithholdingStore } from "../../src/store/keyWithholdingStore.js";
import type { Transport, TransportFailure } from "../../src/transport/transport.js";
import {
  type Call,
  type CallResult,
  type ChildMessage,
  type Command,
  type CommandResult,
  isParentMessage,
  type Note,
  type StartMessage,
  type SyncBatch,
} from "./ipcProtocol.js";
import { isMutationName, type MutationName, mutateStore } from "./storeMutations.js";

/** Process start to here: Node itself plus loading every module (imports are hoisted). */
const moduleLoadMs = performance.now();

/** The fixed test pickle key: exactly 32 bytes. */
const PICKLE_KEY = new TextEncoder().encode("crash-test pickle key: 32 bytes!");

/** The clock is data: the last reading the parent sent. */
let now = 0;
let mutation: MutationName | undefined;

const send = (message: ChildMessage): void => {
  process.send?.(message);
};

const note = (n: Note): void => send({ kind: "note", note: n });

function fatal(detail: string): never {
  send({ kind: "fatal", detail });
  // Let the IPC message go out before exiting.
  setTimeout(() => process.exit(70), 50);
  throw new Error(detail);
}

// ---- calls to the relay ----

const waiting = new Map<number, (result: CallResult) => void>();
let nextCallId = 0;

function call(c: Call): Promise<CallResult> {
  nextCallId += 1;
  const id = nextCallId;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    send({ kind: "call", id, call: c });
  });
}

const transport: Transport = {
  sendToDevice: async (request) =>
    (await call({ op: "sendToDevice", request })) as Result<void, TransportFailure>,
  claimKeys: async (request) =>
    (await call({ op: "claimKeys", request })) as Result<JsonValue, TransportFailure>,
};

/** The store, with a kill point on each side of every commit. */
function withCommitPoints(store: KeyWithholdingStore): KeyWithholdingStore {
  return {
    loadOlm: () => store.loadOlm(),
    load: () => store.load(),
    commit: async (changes) => {
      await call({ op: "commitPoint", when: "before" });
      await store.commit(changes);
      await call({ op: "commitPoint", when: "after" });
    },
  };
}

// ---- the device ----

interface Alice {
  readonly olm: LibolmBackend;
  readonly kw: KeyWithholding;
}

async function open(start: StartMessage): Promise<Alice> {
  now = start.time;
  const opened = openSqliteStore({ path: start.dbPath });
  if (!opened.ok) fatal(`openSqliteStore: ${opened.reason}: ${opened.detail}`);
  mutation = start.mutation !== null && isMutationName(start.mutation) ? start.mutation : undefined;
  const store = withCommitPoints(
    mutation === undefined ? opened.value : mutateStore(opened.value, mutation),
  );
  const olm = await LibolmBackend.open({
    userId: start.userId as UserId,
    deviceId: start.deviceId as DeviceId,
    pickleKey: PICKLE_KEY,
    store,
  });
  if (!olm.ok) fatal(`LibolmBackend.open: ${olm.reason}: ${olm.detail}`);
  const kw = await openKeyWithholding({
    olm: olm.value,
    transport,
    devices: new DeviceList(start.devices),
    store,
    clock: () => now,
    // Small requests, so one flush is a batch of several (kills land between them).
    maxMessagesPerRequest: start.maxMessagesPerRequest,
    hooks: {
      onHookError: (error, where) =>
        note({
          type: "hookError",
          where,
          detail: error instanceof Error ? error.message : String(error),
        }),
      onPeerReachable: ({ device }) =>
        note({ type: "peerReachable", userId: device.userId, deviceId: device.deviceId }),
      onRepliedToNotice: ({ device }) =>
        note({ type: "repliedToNotice", userId: device.userId, deviceId: device.deviceId }),
      onPeerStateChange: ({ device, event }) => {
        if (event.type !== "DUMMY_QUEUED") return;
        note({
          type: "dummyDecided",
          userId: device.userId,
          deviceId: device.deviceId,
          replyId: event.replyId,
        });
      },
    },
  });
  if (!kw.ok) fatal(`openKeyWithholding: ${kw.reason}: ${kw.detail}`);
  const alice = { olm: olm.value, kw: kw.value };
  // Resume what the last run left: pending requests (same txnIds), replies and notices in flight.
  await alice.kw.flush();
  if (!start.published) await publishFirstTime(alice, start.initialOneTimeKeys);
  return alice;
}

/**
 * Device keys and the first one-time keys, in one upload: only while the server does not have
 * our device keys. The account (with the new keys) is committed before the keys are published,
 * so a key someone claims is always one a restarted alice still holds.
 */
async function publishFirstTime(alice: Alice, count: number): Promise<void> {
  const keys = alice.olm.generateOneTimeKeys(count);
  if (!keys.ok) fatal(`generateOneTimeKeys: ${keys.detail}`);
  await alice.kw.flush();
  const body = { device_keys: alice.olm.signedDeviceKeys(), one_time_keys: keys.value };
  const uploaded = await call({ op: "uploadKeys", body });
  if (!uploaded.ok) fatal(`first upload refused: ${uploaded.detail}`);
}

async function topUp(alice: Alice, target: number, published: number): Promise<number> {
  const missing = target - published;
  if (missing <= 0) return 0;
  const keys = alice.olm.generateOneTimeKeys(missing);
  if (!keys.ok) fatal(`generateOneTimeKeys: ${keys.detail}`);
  // Durable before published (see publishFirstTime).
  await alice.kw.flush();
  const uploaded = await call({ op: "uploadKeys", body: { one_time_keys: keys.value } });
  if (!uploaded.ok) fatal(`upload refused: ${uploaded.detail}`);
  return missing;
}

async function run(alice: Alice, command: Command): Promise<CommandResult> {
  const { kw, olm } = alice;
  switch (command.op) {
    case "establish": {
      const outcomes = await kw.establishSessions(command.devices);
      return {
        op: "establish",
        outcomes: outcomes.map((o) =>
          "device" in o ? `${o.device.deviceId}:${o.outcome}` : o.outcome,
        ),
      };
    }
    case "withhold": {
      const report = await kw.withholdSessions(command.requests);
      if (report.refused.length > 0)
        fatal(`withholdSessions refused ${JSON.stringify(report.refused)}`);
      return { op: "withhold", stillPending: report.stillPending };
    }
    case "sync": {
      const pulled = await call({ op: "syncPull" });
      if (!pulled.ok) fatal("syncPull failed");
      const batch = pulled.value as SyncBatch;
      const handled: string[] = [];
      if (mutation === "ackBeforeHandling") await call({ op: "syncAck", upTo: batch.upTo });
      // Each event's effects are durable when handleToDeviceEvent resolves; only then is the
      // batch acknowledged, so a kill before the ack makes the relay deliver it again.
      for (const event of batch.events) handled.push(describe(await kw.handleToDeviceEvent(event)));
      await call({ op: "syncAck", upTo: batch.upTo });
      return { op: "sync", handled };
    }
    case "flush": {
      const report = await kw.flush();
      return { op: "flush", stillPending: report.stillPending };
    }
    case "states": {
      const states = command.devices.map((device) => {
        const state = kw.peerState(device);
        if (!state.ok) fatal(`peerState refused: ${state.detail}`);
        return { userId: device.userId, deviceId: device.deviceId, snapshot: state.value };
      });
      return { op: "states", states, pendingRequests: kw.pendingRequests };
    }
    case "setTime":
      return { op: "setTime" };
    case "forget": {
      const dropped = olm.forgetSessions(command.device);
      // Made durable now: the next transaction carries the backend's changes.
      await kw.flush();
      return { op: "forget", dropped };
    }
    case "topUpKeys":
      return { op: "topUpKeys", uploaded: await topUp(alice, command.target, command.published) };
  }
}

function describe(result: IncomingResult): string {
  switch (result.kind) {
    case "noOlmNotice":
      return `noOlmNotice:${result.device.deviceId}:${result.reply}`;
    case "decrypted":
      return `decrypted:${result.device.deviceId}:${result.type}:${result.newSession ? "new" : "old"}`;
    case "rejected":
      return `rejected:${result.reason}`;
    case "sessionWithheld":
      return `sessionWithheld:${result.device.deviceId}`;
    case "notHandled":
      return `notHandled:${result.type}`;
  }
}

// ---- the message loop: one command at a time, in order ----

let alice: Promise<Alice> | undefined;
let queue: Promise<unknown> = Promise.resolve();

process.on("message", (message: unknown) => {
  if (!isParentMessage(message)) return;
  switch (message.kind) {
    case "callResult":
      waiting.get(message.id)?.(message.result);
      waiting.delete(message.id);
      return;
    case "start":
      alice = open(message);
      queue = alice.then((opened) =>
        send({
          kind: "ready",
          ownDevice: opened.olm.ownDevice,
          startupMs: performance.now(),
          moduleLoadMs,
        }),
      );
      return;
    case "command": {
      const { id, time, command } = message;
      queue = queue.then(async () => {
        if (alice === undefined) fatal("a command before start");
        const opened = await alice;
        now = Math.max(now, time);
        send({ kind: "done", id, result: await run(opened, command) });
      });
      return;
    }
  }
});

process.on("uncaughtException", (error) => fatal(`uncaught: ${error.stack ?? error.message}`));
process.on("unhandledRejection", (reason) => fatal(`unhandled rejection: ${String(reason)}`));
// The parent going away (killed, crashed) must not leave us behind.
process.on("disconnect", () => process.exit(0));
