import { expect, it } from "vitest";
import { loadLibolm } from "../../src/olm/olmRuntime.js";

it("loading libolm leaves the host's process listeners as they were", async () => {
  const before = {
    exception: process.listeners("uncaughtException"),
    rejection: process.listeners("unhandledRejection"),
  };
  const loaded = await loadLibolm();
  expect(loaded.ok).toBe(true);
  expect(process.listeners("uncaughtException")).toEqual(before.exception);
  expect(process.listeners("unhandledRejection")).toEqual(before.rejection);
});
