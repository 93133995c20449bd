import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";

/*
 * Two projects, both run by `npm test`: the Node suite, and the browser suite in real Chromium
 * (Debian's /usr/bin/chromium, which .ci/run installs; nothing downloads a browser). Browser test
 * files end in `.browser.test.ts` and live under test/browser/.
 */

// Chromium as root in a container, on a machine with no network: no sandbox, no GPU, and none of
// the background connections it would otherwise try at every start.
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
          exclude: ["test/browser/**", "**/node_modules/**"],
          setupFiles: ["test/support/fastCheckSetup.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "browser",
          include: ["test/browser/**/*.browser.test.ts"],
          setupFiles: ["test/browser/support/browserSetup.ts"],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});
