import type {
  KeyWithholdingHooks,
  UndecryptableExplanation,
} from "../../src/coordinator/keyWithholdingTypes.js";
import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { RoomId } from "../../src/events/matrixIds.js";
import { peerLeaves } from "../../src/machine/peerSnapshot.js";
import type { LibolmLoadOptions } from "../../src/olm/wasmSource.js";
import type { KeyWithholdingStore } from "../../src/store/keyWithholdingStore.js";
import type { DeliveredMessage, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { SimulatedDevice } from "../../src/testing/world/simulatedDevice.js";
import { DemoTrace, type TraceEntry } from "./demoTrace.js";

/*
 * The m.no_olm story between three simulated devices, each with its own real libolm account,
 * connected through the in-memory homeserver. It narrates what happens and checks, at each
 * turn, that it happened as the spec says. Alice keeps everything (peer states, outbox, Olm
 * account and sessions) in a durable store and restarts in the middle of the story.
 *
 * No Node built-in here, so the story runs in a browser too: the caller brings the homeserver
 * double, alice's store and where libolm comes from (noOlmStory.ts does it for Node).
 */

export interface Check {
  readonly what: string;
  readonly ok: boolean;
}

export interface StoryResult {
  readonly checks: readonly Check[];
  readonly ok: boolean;
  /** What crossed the network and what the machines did (docs/diagrams/demo-sequence.md). */
  readonly trace: readonly TraceEntry[];
}

/** Alice's durable store, as opened: the library's store, and a way to close it. */
export type StoreHandle = KeyWithholdingStore & { close(): void | Promise<void> };

/** Where alice's state lives: opened at the start, and again over the same data at her restart. */
export interface AliceStoreSource {
  readonly open: () => Promise<StoreHandle>;
  /** The store as the narration names it: "in a SQLite file", "opens the same SQLite file". */
  readonly describe: { readonly article: "a" | "an"; readonly noun: string };
  /** Where it is (a file path, a database name): printed, never traced, so traces compare. */
  readonly location: string;
}

export interface StoryOptions {
  /** A fresh homeserver double, checking what crosses it against the spec. */
  readonly homeserver: InMemoryHomeserver;
  readonly aliceStore: AliceStoreSource;
  /** Where libolm's wasm comes from; the default is libolm's own (fine in Node). */
  readonly libolm?: LibolmLoadOptions;
}

const ROOM = "!garden:example.org" as RoomId;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const short = (d: { userId: string; deviceId: string }) =>
  `${d.userId.slice(1).split(":")[0]}/${d.deviceId}`;

/** Runs the story over `options`; never throws for a failed check, only for a broken setup. */
export async function runNoOlmStoryWith(
  print: (line: string) => void,
  options: StoryOptions,
): Promise<StoryResult> {
  const { homeserver: hs, aliceStore: source } = options;
  const storeName = `${source.describe.article} ${source.describe.noun}`;
  const clock = { now: Date.UTC(2026, 10, 26, 9, 0, 0) };
  const time = () => new Date(clock.now).toISOString().slice(11, 19);
  const log = (line: string) => print(`${time()}  ${line}`);
  const trace = new DemoTrace();
  // The story's own sentences, printed and traced.
  const say = (line: string) => {
    log(line);
    trace.narration(time(), line);
  };
  const checks: Check[] = [];
  const check = (what: string, ok: boolean) => {
    checks.push({ what, ok });
    log(`${ok ? "ok  " : "FAIL"} ${what}`);
  };

  hs.onDeliver((m) => log(`  msg  ${describeMessage(m)}`));
  const timeline = (owner: string): KeyWithholdingHooks => ({
    onPeerStateChange: ({ device, event, from, to }) => {
      trace.state(owner, device, `${from.olm}/${from.reply}`, `${to.olm}/${to.reply}`, event.type);
      log(
        `  state ${owner}'s machine for ${short(device)}: ${from.olm}/${from.reply} -> ${to.olm}/${to.reply}  (${event.type})`,
      );
    },
    onPeerReachable: ({ device }) => {
      trace.hook(owner, `onPeerReachable(${short(device)}): re-share`);
      log(`  hook ${owner}: ${short(device)} is reachable again, re-sharing`);
    },
    onRepliedToNotice: ({ device, newSession }) => {
      const how = newSession ? "new session" : "existing session";
      trace.hook(owner, `onRepliedToNotice(${short(device)}, ${how})`);
      log(`  hook ${owner}: answered ${short(device)}'s m.no_olm (${how})`);
    },
  });

  let aliceStore = await source.open();
  // The key that encrypts Alice's Olm pickles; a real client keeps it in the OS keychain.
  const pickleKey = new Uint8Array(32).fill(7);

  const make = (user: string, device: string, oneTimeKeys: number, durable = false) =>
    SimulatedDevice.create({
      hs: trace.watch(hs),
      userId: `@${user}:example.org`,
      deviceId: device,
      oneTimeKeys,
      clock: () => clock.now,
      hooks: timeline(user),
      ...(options.libolm === undefined ? {} : { libolm: options.libolm }),
      ...(durable ? { store: aliceStore, pickleKey } : {}),
    });
  log(`alice keeps her state in ${source.location}`);
  trace.narration(time(), `alice keeps her state in ${storeName}`);
  const alice = await make("alice", "ALICEPHONE", 5, true);
  const bob = await make("bob", "BOBLAPTOP", 0);
  const mallory = await make("mallory", "MALLORY", 5);
  const everyone = [alice, bob, mallory];
  for (const d of everyone)
    d.refreshDevices(["@alice:example.org", "@bob:example.org", "@mallory:example.org"]);
  const noOlmToBob = () =>
    hs.deliveries.filter(
      (m) => m.eventType === "m.room_key.withheld" && m.recipient.userId === "@bob:example.org",
    );

  try {
    say("alice/ALICEPHONE has 5 one-time keys; bob/BOBLAPTOP has none left.");
    const early = alice.encryptRoomMessage(ROOM, "Lunch at noon?");
    const earlyAt = clock.now;
    say(
      "alice sends a room message and shares the room key with bob: no Olm session can be set up.",
    );
    await alice.shareRoomKey(ROOM, [bob.device]);
    say("alice tries again 10 times, a minute apart.");
    const aliceClaims = () => hs.requestCount(alice.device, "claimKeys");
    const claimsBeforeRetries = aliceClaims();
    for (let i = 0; i < 10; i++) {
      clock.now += MINUTE;
      const [outcome] = await alice.shareRoomKey(ROOM, [bob.device]);
      if (outcome?.outcome === "backingOff") {
        const until = new Date(outcome.until).toISOString().slice(11, 19);
        say(
          `  share skips bob's /keys/claim: his keys ran out a moment ago (backing off until ${until})`,
        );
      }
    }
    check("exactly one m.no_olm reached bob after 11 failed shares", noOlmToBob().length === 1);
    check(
      "alice did not claim on every share: 15 s doubling backoff, 5 of 10 retries claimed",
      aliceClaims() - claimsBeforeRetries === 5,
    );

    clock.now += MINUTE;
    const explanation = () =>
      bob.kw.explainUndecryptable({
        sender: alice.device.userId,
        senderKey: alice.device.curve25519,
        roomId: ROOM,
        sessionId: String(early.session_id) as never,
        originServerTs: earlyAt,
      });
    say("bob syncs: he receives the m.no_olm and answers it.");
    const [bobGot] = await bob.sync();
    check(
      "bob answered with a new Olm session",
      bobGot?.kind === "noOlmNotice" && bobGot.reply === "newSession",
    );
    check("bob claimed exactly one of alice's one-time keys", hs.claims.length === 1);
    check(
      "bob can explain alice's message: withheld, m.no_olm",
      codeOf(explanation()) === "m.no_olm",
    );

    clock.now += MINUTE;
    say("alice syncs: she decrypts bob's m.dummy with libolm.");
    const [aliceGot] = await alice.sync();
    check(
      "alice decrypted a real m.dummy from a new session",
      aliceGot?.kind === "decrypted" && aliceGot.type === "m.dummy",
    );
    check("alice's machine for bob ended the episode", olm(alice, bob.device) === "established");

    clock.now += MINUTE;
    say("bob syncs: the room key arrives over Olm.");
    await bob.sync();
    const read = bob.decryptRoomMessage(early);
    check("bob decrypts alice's early message", read.ok && read.body === "Lunch at noon?");

    clock.now += 2 * HOUR;
    say(
      "two hours later alice must replace her Olm session with bob, and bob is out of keys again.",
    );
    alice.olm.forgetSessions(bob.device);
    say("alice's connection drops as she sends the m.no_olm, and then her app is killed.");
    hs.failNext(alice.device, "sendToDevice", 1);
    await alice.shareRoomKey(ROOM, [bob.device]);
    const [pendingTxn] = (await aliceStore.load()).requests as { txnId: string }[];
    check(
      "the new m.no_olm waits in alice's outbox on disk, not delivered",
      noOlmToBob().length === 1 && pendingTxn !== undefined,
    );
    const identity = alice.device.curve25519;
    await alice.kw.stop();
    await aliceStore.close();
    clock.now += MINUTE;
    say(`alice's app starts again: it opens the same ${source.describe.noun}.`);
    aliceStore = await source.open();
    await alice.restartOver(aliceStore);
    check(
      "after the restart alice has the same identity key (her Olm account came back)",
      alice.device.curve25519 === identity,
    );
    await alice.kw.flush();
    const resent = noOlmToBob();
    check(
      "the stored m.no_olm went out after the restart, once, with its original txnId (2 in all)",
      resent.length === 2 && resent[1]?.txnId === pendingTxn?.txnId,
    );
    for (let i = 0; i < 2; i++) {
      await alice.shareRoomKey(ROOM, [bob.device]);
      clock.now += MINUTE;
    }
    check(
      "the episode went on across the restart: still exactly one new m.no_olm (2 in all)",
      noOlmToBob().length === 2,
    );
    say("bob's laptop uploads new one-time keys; alice's client sees his device list change.");
    bob.uploadOneTimeKeys(5);
    await alice.kw.devicesChanged([bob.device]);
    const [reached] = await alice.shareRoomKey(ROOM, [bob.device]);
    check(
      "alice's next share claims at once despite the backoff and reaches bob over a new session",
      reached?.outcome === "established" && olm(alice, bob.device) === "established",
    );
    clock.now += MINUTE;
    say(
      "bob syncs: he still has his session with alice, so he answers over it without a key claim.",
    );
    const claimsBeforeAnswer = hs.claimsAnswered;
    const [second] = await bob.sync();
    check(
      "bob answered the second notice over the existing session, claiming nothing",
      second?.kind === "noOlmNotice" &&
        second.reply === "existingSession" &&
        hs.claimsAnswered === claimsBeforeAnswer,
    );

    clock.now += MINUTE;
    say("mallory forges an m.no_olm to bob claiming alice's key.");
    await mallory.sendRaw(
      "m.room_key.withheld",
      bob.device,
      { algorithm: "m.megolm.v1.aes-sha2", sender_key: alice.device.curve25519, code: "m.no_olm" },
      "forged-1",
    );
    const claimsBeforeForgery = hs.claimsAnswered;
    const sentBeforeForgery = hs.deliveries.length;
    const [forged] = await bob.sync();
    check(
      "the forged notice is rejected: mallory does not own alice's key",
      forged?.kind === "rejected" && forged.reason === "senderDoesNotOwnKey",
    );
    check(
      "the forgery made bob claim nothing and send nothing",
      hs.claimsAnswered === claimsBeforeForgery && hs.deliveries.length === sentBeforeForgery,
    );
    check("nothing crossed the homeserver against the spec", hs.violations.length === 0);

    print("");
    print("Final states (olm / reply):");
    for (const owner of everyone) {
      for (const peer of everyone) {
        if (peer === owner) continue;
        const leaves = peerLeaves(owner.stateOf(peer.device).value);
        print(`  ${short(owner.device)} -> ${short(peer.device)}: ${leaves.olm} / ${leaves.reply}`);
      }
    }
  } finally {
    for (const d of everyone) d.dispose();
    await aliceStore.close();
  }
  return { checks, ok: checks.every((c) => c.ok), trace: trace.entries };
}

const olm = (owner: SimulatedDevice, peer: PeerDevice) => peerLeaves(owner.stateOf(peer).value).olm;

function describeMessage(m: DeliveredMessage): string {
  const route = `${short(m.sender)} -> ${short(m.recipient)}`;
  if (m.eventType === "m.room_key.withheld")
    return `m.room_key.withheld  ${route}  code=${String(m.content.code)}`;
  const ciphertext = m.content.ciphertext;
  const entry =
    ciphertext !== null && typeof ciphertext === "object"
      ? Object.values(ciphertext)[0]
      : undefined;
  const kind =
    entry !== null && typeof entry === "object" && "type" in entry && entry.type === 0
      ? "pre-key"
      : "normal";
  return `${m.eventType}  ${route}  (Olm ${kind} message)`;
}

const codeOf = (explanation: UndecryptableExplanation): string | undefined =>
  explanation.kind === "explained" ? explanation.code : undefined;
