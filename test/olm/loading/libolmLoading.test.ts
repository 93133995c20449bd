import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describeOlmError } from "../../../src/olm/olmFailure.js";
import { unavailable } from "../../../src/olm/wasmSource.js";

/*
 * libolm keeps its state per process, so each scenario runs in a fresh one (loadingChild.ts)
 * and prints what it saw; the assertions are here.
 */
const child = fileURLToPath(new URL("./loadingChild.ts", import.meta.url));
const run = (scenario: string): Record<string, unknown> =>
  JSON.parse(
    execFileSync(process.execPath, ["--import", "tsx", child, scenario], {
      encoding: "utf8",
      // libolm prints its own abort messages when a host's raw init fails; not test output.
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    }),
  );

describe("loading libolm", () => {
  it("libolm itself keeps a failed init: a second init with the right location gets the same rejection", () => {
    // Why the loader fetches and checks the wasm before calling libolm's init.
    expect(run("libolmCaches")).toEqual({ samePromise: true, states: ["rejected", "rejected"] });
  });

  it("retries after a wrong wasmUrl or bytes that are not libolm's, then loads from the right URL", () => {
    const seen = run("retry");
    expect(seen.wrongUrl).toMatchObject({
      ok: false,
      reason: "olmUnavailable",
      detail: expect.stringMatching(/^Fetching http:\/\/127\.0\.0\.1:\d+\/olm\.wasm: HTTP 404\.$/),
      causeIsError: true,
    });
    expect(seen.notOlm).toMatchObject({
      ok: false,
      reason: "olmUnavailable",
      detail: expect.stringContaining("not libolm 3.2.15's olm.wasm"),
      causeIsError: true,
    });
    expect(seen.right).toEqual({ ok: true });
    expect(seen.backend).toBe(true);
    // Neither window.Olm nor OLM_OPTIONS is left behind, and libolm's crash listeners are gone.
    expect(seen.globals).toEqual([]);
    expect(seen.listenersKept).toBe(true);
  });

  it("reports a failure of libolm's own init as a real Error, the same each time, saying it is kept", () => {
    const seen = run("hostFailed");
    expect(seen.first).toMatchObject({
      ok: false,
      reason: "olmUnavailable",
      detail: expect.stringMatching(
        /ENOENT.*libolm keeps this failure until the page or process is reloaded/,
      ),
      causeIsError: true,
    });
    expect(seen.again).toEqual(seen.first);
    expect(seen.same).toBe(true);
  });
});

describe("errors from libolm that are not Errors", () => {
  it("keeps the text of a thrown string (emscripten aborts with one)", () => {
    expect(describeOlmError("both async and sync fetching of the wasm failed")).toBe(
      "a thrown string: both async and sync fetching of the wasm failed",
    );
  });

  it("wraps the thrown value in a real Error, as its cause", () => {
    const failure = unavailable("libolm's init failed: no wasm", "no wasm");
    expect(failure.cause).toBeInstanceOf(Error);
    expect(failure.cause.message).toBe("libolm could not be loaded: libolm's init failed: no wasm");
    expect(failure.cause.cause).toBe("no wasm");
  });
});
