import fc from "fast-check";

// The browser has no process.env: properties run as often as the Node suite's default.
fc.configureGlobal({ numRuns: 1000 });
