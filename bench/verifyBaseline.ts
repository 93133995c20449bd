import {
  DEFAULT_MAX_MESSAGES_PER_REQUEST,
  type JsonValue,
  type PeerDevice,
  type SendToDeviceRequest,
  type ShareOutcome,
} from "../src/index.js";
import { BaselineWithholding } from "./baseline/baselineWithholding.js";
import { openBenchCoordinator } from "./coordinator.js";
import { RecordingTransport } from "./doubles/recordingTransport.js";
import { SetOlmBackend } from "./doubles/setOlmBackend.js";
import { allOutcomes, ownDevice, type Population, seeded, shareOutcomes } from "./population.js";

/*
 * Before (b) is timed: the baseline must send exactly what the library sends. On the same
 * inputs, both through a RecordingTransport, the requests must carry the same multiset of
 * (event type, user id, device id, content) messages (txnIds aside), each request at most
 * DEFAULT_MAX_MESSAGES_PER_REQUEST messages and one per device (a body is keyed by device, so
 * that holds by shape, and is checked against the message count), and the same number of
 * requests. Checked on the (a) outcome for the whole population, then on a sequence of calls
 * over a subset that exercises the rules: failures that continue, sessions ending episodes, a
 * new episode, a device failed and established in the same call, a malformed entry and our own
 * device (both refused). Throws on the first difference.
 */

export interface BaselineCheck {
  readonly steps: number;
  readonly messages: number;
  readonly requests: number;
}

export async function verifyBaseline(population: Population): Promise<BaselineCheck> {
  const full = await compareSteps([shareOutcomes(population)], "the (a) outcome");
  const subset = population.devices.slice(0, Math.min(population.devices.length, 5_000));
  const sequence = await compareSteps(ruleSequence(subset), "the rule sequence");
  return {
    steps: full.steps + sequence.steps,
    messages: full.messages + sequence.messages,
    requests: full.requests + sequence.requests,
  };
}

function ruleSequence(devices: readonly PeerDevice[]): unknown[][] {
  const random = seeded(42);
  const first = devices.map(
    (device): ShareOutcome => ({
      device,
      outcome: random() < 0.2 ? "failed" : "established",
    }),
  );
  const failedFirst = new Set(first.filter((o) => o.outcome === "failed").map((o) => o.device));
  // Failures continue for those, a few more fail for the first time, a few fail and recover.
  const second: unknown[] = devices.map((device, i) => ({
    device,
    outcome: failedFirst.has(device) || i % 17 === 0 ? "failed" : "established",
  }));
  for (let i = 3; i < devices.length; i += 41)
    second.push({ device: devices[i], outcome: "established" });
  second.push({ device: { userId: "not a user" }, outcome: "failed" }, 42, null);
  second.push({ device: ownDevice, outcome: "failed" });
  // Half of those in an episode get a session; then everybody fails.
  const third = devices.map(
    (device, i): ShareOutcome => ({
      device,
      outcome: i % 2 === 0 ? "established" : "failed",
    }),
  );
  return [first, second, third, allOutcomes(devices, "failed"), allOutcomes(devices, "failed")];
}

async function compareSteps(steps: readonly unknown[][], what: string): Promise<BaselineCheck> {
  const libraryTransport = new RecordingTransport(true);
  const library = await openBenchCoordinator("none", {
    olm: new SetOlmBackend(ownDevice),
    transport: libraryTransport,
  });
  const baselineTransport = new RecordingTransport(true);
  const baseline = new BaselineWithholding(ownDevice, baselineTransport);
  let messages = 0;
  let requests = 0;
  for (const [index, step] of steps.entries()) {
    const libraryFrom = libraryTransport.sent.length;
    const baselineFrom = baselineTransport.sent.length;
    // Typed callers cannot pass junk; the bench's inputs include some on purpose.
    const report = await library.kw.reportShareOutcomes(step as ShareOutcome[]);
    const refusedByBaseline = await baseline.reportShareOutcomes(step);
    const where = `${what}, step ${index + 1}`;
    if (report.refused.length !== refusedByBaseline) {
      throw new Error(
        `baseline check failed (${where}): library refused ${report.refused.length}, baseline ${refusedByBaseline}`,
      );
    }
    const ours = libraryTransport.sent.slice(libraryFrom);
    const theirs = baselineTransport.sent.slice(baselineFrom);
    const a = flatten(ours, `${where}, library`);
    const b = flatten(theirs, `${where}, baseline`);
    if (ours.length !== theirs.length) {
      throw new Error(
        `baseline check failed (${where}): ${ours.length} library requests, ${theirs.length} baseline requests`,
      );
    }
    if (a.length !== b.length || a.some((message, i) => message !== b[i])) {
      const differs = a.find((message, i) => message !== b[i]) ?? b[a.length] ?? "";
      throw new Error(
        `baseline check failed (${where}): ${a.length} library messages, ${b.length} baseline messages; first difference: ${differs.slice(0, 200)}`,
      );
    }
    messages += a.length;
    requests += ours.length;
  }
  await library.close();
  return { steps: steps.length, messages, requests };
}

/** Every message of the requests as one sorted list of strings; checks the packing rule. */
function flatten(requests: readonly SendToDeviceRequest[], where: string): string[] {
  const all: string[] = [];
  for (const request of requests) {
    let inRequest = 0;
    for (const [userId, devices] of Object.entries(request.body.messages)) {
      for (const [deviceId, content] of Object.entries(devices)) {
        inRequest += 1;
        all.push(`${request.eventType}\n${userId}\n${deviceId}\n${canonical(content)}`);
      }
    }
    if (inRequest === 0 || inRequest > DEFAULT_MAX_MESSAGES_PER_REQUEST) {
      throw new Error(`baseline check failed (${where}): a request of ${inRequest} messages`);
    }
  }
  return all.sort();
}

/** JSON with sorted keys, so key order does not count as a difference. */
function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, JsonValue>)[k] ?? null)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
