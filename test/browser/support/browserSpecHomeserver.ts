import type {
  HomeserverOptions,
  InMemoryHomeserver,
} from "../../../src/testing/homeserver/index.js";
import { specHomeserverBy } from "../../support/specCheckedHomeserver.js";
import { validateAgainstSpec } from "./browserSpecSchemas.js";

/** The homeserver double in the browser, checking everything against the vendored spec. */
export const specHomeserver: (options?: HomeserverOptions) => InMemoryHomeserver =
  specHomeserverBy(validateAgainstSpec);
