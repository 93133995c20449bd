import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    setupFiles: ["test/support/fastCheckSetup.ts"],
    testTimeout: 120_000,
  },
});
