import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BOUNDED_FUZZ,
  type CoordinatorFixture,
  coordinatorFixture,
  fuzzDecode,
  fuzzEdges,
  fuzzHandleToDevice,
  fuzzPublicArguments,
  fuzzRestore,
  fuzzStepPeer,
  newCounters,
} from "./harness/fuzz.js";

const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20261126);
const clean = (c: ReturnType<typeof newCounters>) => ({
  escaped: c.escaped,
  stateChangesFromInvalid: c.stateChangesFromInvalid,
  reasonless: c.reasonless,
  examples: c.examples,
});
const ok = { escaped: 0, stateChangesFromInvalid: 0, reasonless: 0, examples: [] };

describe(`fuzz (seed ${SEED})`, () => {
  let fx: CoordinatorFixture;
  const keep = setInterval(() => {}, 1000);
  beforeAll(async () => {
    fx = await coordinatorFixture();
  });
  afterAll(() => {
    clearInterval(keep);
    fx.world.close();
  });

  it("decodeWithheldEvent", async () => {
    const c = newCounters();
    await fuzzDecode(BOUNDED_FUZZ.decode, SEED, c);
    expect(clean(c)).toEqual(ok);
  });
  it("stepPeer over reachable snapshots and hostile snapshots", async () => {
    const c = newCounters();
    await fuzzStepPeer(BOUNDED_FUZZ.step, SEED + 1, c);
    expect(clean(c)).toEqual(ok);
  });
  it("restorePeerSnapshot", async () => {
    const c = newCounters();
    await fuzzRestore(BOUNDED_FUZZ.restore, SEED + 2, c);
    expect(clean(c)).toEqual(ok);
  });
  it("handleToDeviceEvent on a real coordinator", async () => {
    const c = newCounters();
    await fuzzHandleToDevice(BOUNDED_FUZZ.handle, SEED + 3, c, fx);
    expect(clean(c)).toEqual(ok);
  });
  it("every public method's arguments", async () => {
    const c = newCounters();
    await fuzzPublicArguments(BOUNDED_FUZZ.args, SEED + 4, c, fx);
    expect(clean(c)).toEqual(ok);
  });
  it("hostile edges: transport, device list, store, hooks", async () => {
    const c = newCounters();
    await fuzzEdges(BOUNDED_FUZZ.edges, SEED + 5, c, fx);
    expect(clean(c)).toEqual(ok);
  });
});
