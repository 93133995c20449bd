import type { JsonValue } from "../../src/events/json.js";
import {
  type HomeserverOptions,
  InMemoryHomeserver,
  type SchemaCheck,
  type SpecSchemaName,
} from "../../src/testing/homeserver/index.js";
import { SPEC_SCHEMAS, type SpecValidator, specRef } from "../spec/specSchemaSet.js";

/*
 * The homeserver double as this repository's tests use it: every request and answer also
 * validated against the vendored spec's JSON Schemas, by a validator over spec/ that Node
 * (specHomeserver.ts) or the browser (test/browser/support/) loaded.
 */

const KEYS_UPLOAD = ["paths", "/keys/upload", "post"] as const;
const JSON_CONTENT = ["content", "application/json", "schema"] as const;

const SCHEMA_REFS: Readonly<Record<SpecSchemaName, string>> = {
  sendToDeviceBody: SPEC_SCHEMAS.sendToDeviceBody,
  withheldContent: SPEC_SCHEMAS.withheldContent,
  keysClaimBody: SPEC_SCHEMAS.keysClaimBody,
  keysClaimResponse: SPEC_SCHEMAS.keysClaimResponse,
  keysQueryResponse: SPEC_SCHEMAS.keysQueryResponse,
  keysUploadBody: specRef("api/keys.yaml", ...KEYS_UPLOAD, "requestBody", ...JSON_CONTENT),
  keysUploadResponse: specRef("api/keys.yaml", ...KEYS_UPLOAD, "responses", "200", ...JSON_CONTENT),
  encryptedContent: specRef("event-schemas/m.room.encrypted.yaml", "properties", "content"),
};

/** The double's schema check, answered by `validate`. */
export const specSchemaCheckBy =
  (validate: SpecValidator): SchemaCheck =>
  (schema: SpecSchemaName, value: JsonValue) =>
    validate(SCHEMA_REFS[schema], value);

/** A homeserver double that checks everything with `validate`. */
export const specHomeserverBy =
  (validate: SpecValidator) =>
  (options: HomeserverOptions = {}): InMemoryHomeserver =>
    new InMemoryHomeserver({ ...options, schemaCheck: specSchemaCheckBy(validate) });
