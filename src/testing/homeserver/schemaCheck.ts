import type { JsonValue } from "../../events/json.js";

/** The spec JSON Schemas the homeserver double checks requests and its own answers against. */
export type SpecSchemaName =
  | "sendToDeviceBody"
  | "withheldContent"
  | "encryptedContent"
  | "keysUploadBody"
  | "keysUploadResponse"
  | "keysClaimBody"
  | "keysClaimResponse"
  | "keysQueryResponse";

/**
 * Validates `value` against one of the spec's schemas and returns its problems (empty when it
 * conforms). Injected, because compiling the vendored spec (YAML read from disk, Ajv) is
 * Node-only test tooling that a browser bundle of the kit cannot carry.
 */
export type SchemaCheck = (schema: SpecSchemaName, value: JsonValue) => readonly string[];

/** No schema validation: only the spec's prose rules, which the double always checks. */
export const proseRulesOnly: SchemaCheck = () => [];
