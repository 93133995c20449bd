import { readdirSync, readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { parse } from "yaml";
import { MATRIX_FORMATS } from "../../src/testing/homeserver/matrixFormats.js";

/**
 * The vendored Matrix spec (spec/) as a test oracle: its JSON Schemas and OpenAPI
 * documents compiled by Ajv, and its example events.
 */

const SPEC_DIR = new URL("../../spec/", import.meta.url);
const SCHEMA_DIRS = ["event-schemas", "api"] as const;
// Each file is registered under its path below spec/ on this private base, so every
// relative `$ref` in it (core-event-schema/event.yaml, definitions/device_keys.yaml, …)
// resolves to exactly the file it names.
const SCHEMA_BASE = "https://matrix-spec.invalid/";

// Matrix's annotations on JSON Schema (matrix-spec openapi_extensions.md) and the fields of an
// OpenAPI root document. Declaring them keeps Ajv's strict mode on for everything else.
const SPEC_ANNOTATIONS = [
  "example",
  "x-addedInMatrixVersion",
  "x-changedInMatrixVersion",
  "x-pattern-format",
];
const OPENAPI_DOCUMENT_FIELDS = [
  "openapi",
  "info",
  "jsonSchemaDialect",
  "servers",
  "paths",
  "webhooks",
  "components",
  "security",
  "tags",
  "externalDocs",
];

/** Builds a schema reference: a file under spec/ plus an optional JSON pointer into it. */
export function specRef(file: string, ...pointer: readonly string[]): string {
  if (pointer.length === 0) return file;
  const escaped = pointer.map((segment) => segment.replaceAll("~", "~0").replaceAll("/", "~1"));
  return `${file}#/${escaped.join("/")}`;
}

const requestBody = (file: string, path: string, method: string) =>
  specRef(file, "paths", path, method, "requestBody", "content", "application/json", "schema");
const okResponse = (file: string, path: string, method: string) =>
  specRef(file, "paths", path, method, "responses", "200", "content", "application/json", "schema");

/** The schemas this project checks its messages against. */
export const SPEC_SCHEMAS = {
  withheldEvent: specRef("event-schemas/m.room_key.withheld.yaml"),
  withheldContent: specRef("event-schemas/components/room_key_withheld_content.yaml"),
  roomKeyEvent: specRef("event-schemas/m.room_key.yaml"),
  dummyEvent: specRef("event-schemas/m.dummy.yaml"),
  encryptedEvent: specRef("event-schemas/m.room.encrypted.yaml"),
  olmPlaintext: specRef("api/definitions/olm_plaintext.yaml"),
  deviceKeys: specRef("api/definitions/device_keys.yaml"),
  sendToDeviceBody: requestBody("api/to_device.yaml", "/sendToDevice/{eventType}/{txnId}", "put"),
  keysClaimBody: requestBody("api/keys.yaml", "/keys/claim", "post"),
  keysClaimResponse: okResponse("api/keys.yaml", "/keys/claim", "post"),
  keysQueryResponse: okResponse("api/keys.yaml", "/keys/query", "post"),
} as const;

/** Parses any YAML (or JSON) file under spec/. */
export function loadSpecYaml(relativePath: string): unknown {
  return parse(readFileSync(new URL(relativePath, SPEC_DIR), "utf8"));
}

export type SpecExample = { readonly [key: string]: unknown };

/**
 * An example event from spec/examples/. Its top-level `$ref` is the spec's way of composing
 * examples (openapi_extensions.md) and names a core example that is not vendored; the
 * example's own fields are the event, so the directive is dropped.
 */
export function loadSpecExample(name: string): SpecExample {
  const example = loadSpecYaml(`examples/${name}`);
  if (typeof example !== "object" || example === null || Array.isArray(example)) {
    throw new Error(`spec/examples/${name} is not an object`);
  }
  return Object.fromEntries(Object.entries(example).filter(([key]) => key !== "$ref"));
}

/** Every error the spec schema reports for `value`; empty when it conforms. */
export function validateAgainstSpec(schemaRef: string, value: unknown): string[] {
  const validate = compiled(schemaRef);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describeError);
}

const validators = new Map<string, ValidateFunction>();
let ajv: Ajv2020 | undefined;

function compiled(schemaRef: string): ValidateFunction {
  const cached = validators.get(schemaRef);
  if (cached !== undefined) return cached;
  ajv ??= createSpecAjv();
  const validate = ajv.getSchema(SCHEMA_BASE + schemaRef);
  if (validate === undefined) throw new Error(`No schema at spec/${schemaRef}`);
  validators.set(schemaRef, validate);
  return validate;
}

function createSpecAjv(): Ajv2020 {
  // Spec schemas often give `properties` without `type: object`; that is their style, not an error.
  const instance = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  instance.addVocabulary([...SPEC_ANNOTATIONS, ...OPENAPI_DOCUMENT_FIELDS]);
  // Standard formats (the spec also uses `uri`), then Matrix's own.
  // ajv-formats is CommonJS: under Node's ESM interop its plugin is the `default` member.
  ajvFormats.default(instance);
  for (const [name, accepts] of Object.entries(MATRIX_FORMATS)) {
    instance.addFormat(name, { type: "string", validate: accepts });
  }
  for (const relativePath of schemaFiles()) {
    instance.addSchema(loadSpecYaml(relativePath) as object, SCHEMA_BASE + relativePath);
  }
  return instance;
}

function schemaFiles(): string[] {
  return SCHEMA_DIRS.flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, SPEC_DIR), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".yaml"))
      .map((file) => `${dir}/${file.split("\\").join("/")}`),
  );
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  return `${where} ${error.message ?? "is invalid"} [${error.schemaPath}]`;
}
