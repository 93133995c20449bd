import wasmUrl from "@matrix-org/olm/olm.wasm?url";
import { expect, it } from "vitest";
import { loadLibolm } from "../../src/libolm.js";

it("loads libolm in Chromium from a Vite ?url import, with no other setup", async () => {
  const loaded = await loadLibolm({ wasmUrl });
  expect(loaded.ok).toBe(true);
});
