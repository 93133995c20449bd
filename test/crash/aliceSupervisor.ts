import type { PeerDevice } from "../../src/devices/peerDevice.js";
import type { JsonObject } from "../../src/events/json.js";
import type { InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { AliceProcess } from "./aliceProcess.js";
import type { ChildEntry } from "./childEntry.js";
import type { CrashRelay, StoryPosition } from "./crashRelay.js";
import { ALICE, ALICE_KEYS } from "./crashStory.js";
import type { Command, CommandResult, Note, StartMessage } from "./ipcProtocol.js";
import type { KillPlan } from "./killPlan.js";

/*
 * Keeps alice running: starts the child on the database file, runs each command, and when the
 * child is killed mid-command starts it again on the same file and issues the command again, as
 * the client would (it shares again, syncs again since its last saved position, asks again for
 * the per-session notices). A command is built afresh for each attempt, so what it carries from
 * the server (alice's published key count) is current.
 */

export class StudyFailure extends Error {
  override name = "StudyFailure";
}

export interface SupervisorParts {
  readonly entry: ChildEntry;
  readonly dbPath: string;
  readonly hs: InMemoryHomeserver;
  readonly relay: CrashRelay;
  readonly kills: KillPlan | undefined;
  readonly devices: readonly PeerDevice[];
  readonly position: () => StoryPosition;
  readonly maxMessagesPerRequest: number;
  readonly mutation: string | null;
  readonly onNote: (note: Note) => void;
}

export class AliceSupervisor {
  #child: AliceProcess | undefined;
  #device: PeerDevice | undefined;
  #launches = 0;
  readonly startupMs: number[] = [];
  readonly moduleLoadMs: number[] = [];
  readonly problems: string[] = [];

  constructor(private readonly parts: SupervisorParts) {}

  /** Starts after the first: each follows a kill. */
  get restarts(): number {
    return Math.max(0, this.#launches - 1);
  }

  /** Alice's device as her (restored) account reports it. */
  get device(): PeerDevice {
    if (this.#device === undefined) throw new StudyFailure("alice has not started yet");
    return this.#device;
  }

  async run(build: () => Command): Promise<CommandResult> {
    const { kills, relay } = this.parts;
    for (;;) {
      const child = await this.#started();
      const command = build();
      relay.begin("command", command.op);
      let running = true;
      const delay = kills?.timerFor(command.op);
      const timer =
        delay === undefined
          ? undefined
          : setTimeout(() => {
              if (!running || !child.alive) return;
              kills?.record("timed", "command");
              child.kill();
            }, delay);
      const outcome = await child.command(this.parts.position().time, command);
      running = false;
      clearTimeout(timer);
      if (outcome.kind === "ok") {
        kills?.commandCompleted();
        return outcome.value;
      }
      if (outcome.kind === "crashed") throw new StudyFailure(`alice crashed: ${outcome.detail}`);
      this.#child = undefined;
    }
  }

  async #started(): Promise<AliceProcess> {
    while (this.#child === undefined) {
      const { relay, entry } = this.parts;
      this.#launches += 1;
      const published = this.#publishedCurve25519() !== undefined;
      const start: StartMessage = {
        kind: "start",
        dbPath: this.parts.dbPath,
        userId: ALICE.userId,
        deviceId: ALICE.deviceId,
        devices: this.parts.devices,
        time: this.parts.position().time,
        published,
        initialOneTimeKeys: ALICE_KEYS,
        maxMessagesPerRequest: this.parts.maxMessagesPerRequest,
        mutation: this.parts.mutation,
      };
      relay.begin("startup", "startup");
      const { child, ready } = AliceProcess.launch(entry, start, {
        onCall: (from, call, answer) => void relay.handle(from, call, answer),
        onNote: this.parts.onNote,
      });
      const delay = this.parts.kills?.startupTimer();
      const timer =
        delay === undefined
          ? undefined
          : setTimeout(() => {
              if (!child.alive || this.#child === child) return;
              this.parts.kills?.record("timed", "startup");
              child.kill();
            }, delay);
      const outcome = await ready;
      clearTimeout(timer);
      if (outcome.kind === "crashed") throw new StudyFailure(`alice crashed: ${outcome.detail}`);
      if (outcome.kind === "killed") {
        await child.exited;
        continue;
      }
      this.startupMs.push(outcome.value.startupMs);
      this.moduleLoadMs.push(outcome.value.moduleLoadMs);
      this.#checkIdentity(outcome.value.ownDevice);
      this.#child = child;
    }
    return this.#child;
  }

  /** The account is durable: after a restart it is the same one, the one the server knows. */
  #checkIdentity(device: PeerDevice): void {
    const published = this.#publishedCurve25519();
    if (published !== undefined && published !== device.curve25519) {
      this.problems.push(
        `alice's curve25519 key ${device.curve25519} is not the published one (${published}): the account was not restored`,
      );
    }
    if (this.#device !== undefined && this.#device.curve25519 !== device.curve25519) {
      this.problems.push("alice's identity keys changed across a restart");
    }
    this.#device ??= device;
  }

  #publishedCurve25519(): string | undefined {
    const { device_keys } = this.parts.hs.queryKeys([ALICE.userId]);
    const keys = device_keys[ALICE.userId]?.[ALICE.deviceId]?.keys;
    if (typeof keys !== "object" || keys === null || Array.isArray(keys)) return undefined;
    const curve = (keys as JsonObject)[`curve25519:${ALICE.deviceId}`];
    return typeof curve === "string" ? curve : undefined;
  }

  /** Kills the child (if running) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    child.kill();
    await child.exited;
  }
}
