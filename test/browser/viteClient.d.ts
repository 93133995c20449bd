// Vite's asset imports (`…/olm.wasm?url`, `?raw`) in the browser tests.
/// <reference types="vite/client" />
