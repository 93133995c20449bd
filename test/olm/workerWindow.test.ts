import { afterEach, expect, it, vi } from "vitest";
import { provideWorkerWindow } from "../../src/olm/workerWindow.js";

// The Web Worker case itself runs in Chromium: test/browser/worker/storyInWorker.browser.test.ts.

afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(globalThis, "window");
});

it("defines nothing in Node: libolm takes its Node branch there", () => {
  expect(provideWorkerWindow()).toBe(false);
  expect(Reflect.has(globalThis, "window")).toBe(false);
});

it("defines nothing where a window exists", () => {
  const page = { crypto: globalThis.crypto, document: {} };
  vi.stubGlobal("window", page);
  vi.stubGlobal("process", undefined);
  expect(provideWorkerWindow()).toBe(false);
  expect(Reflect.get(globalThis, "window")).toBe(page);
});

it("in a worker-like host (no window, no Node, Web Crypto): a hidden window with only crypto", () => {
  vi.stubGlobal("process", undefined);
  expect(provideWorkerWindow()).toBe(true);
  const window: unknown = Reflect.get(globalThis, "window");
  expect(window).toEqual({ crypto: globalThis.crypto });
  expect(Object.keys(globalThis)).not.toContain("window");
  // libolm's draw, as olm.js makes it.
  const bytes = new Uint8Array(32);
  (window as { crypto: Crypto }).crypto.getRandomValues(bytes);
  expect(bytes.some((b) => b !== 0)).toBe(true);
});

it("defines nothing without Web Crypto: libolm must fail loudly, not draw from nowhere", () => {
  vi.stubGlobal("process", undefined);
  vi.stubGlobal("crypto", undefined);
  expect(provideWorkerWindow()).toBe(false);
  expect(Reflect.has(globalThis, "window")).toBe(false);
});
