import type { HomeserverOptions, InMemoryHomeserver } from "../../src/testing/homeserver/index.js";
import { validateAgainstSpec } from "../spec/specSchemas.js";
import { specHomeserverBy, specSchemaCheckBy } from "./specCheckedHomeserver.js";

/*
 * The homeserver double as this repository's Node tests use it: every request and answer also
 * validated against the vendored spec's JSON Schemas (Ajv over spec/, read with fs).
 */

export const specSchemaCheck = specSchemaCheckBy(validateAgainstSpec);

/** A homeserver double that checks everything against the vendored spec. */
export const specHomeserver: (options?: HomeserverOptions) => InMemoryHomeserver =
  specHomeserverBy(validateAgainstSpec);
