import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { parse } from "yaml";
import { MATRIX_FORMATS } from "../../src/testing/homeserver/matrixFormats.js";

/**
 * The vendored Matrix spec (spec/) as a test oracle, over its files given as data: Node reads
 * them with fs (specSchemas.ts), the browser tests through Vite (test/browser/support/).
 */

/** The spec's files by their path below spec/ (`api/keys.yaml`, …), each file's text. */
export type SpecFiles = Readonly<Record<string, string>>;

/** Every error the spec schema reports for `value`; empty when it conforms. */
export type SpecValidator = (schemaRef: string, value: unknown) => string[];

// The directories whose YAML files are schemas (spec/examples/ holds example events).
const SCHEMA_DIRS = ["event-schemas/", "api/"] as const;
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

/** Parses the text of a YAML (or JSON) spec file. */
export const parseSpecYaml = (text: string): unknown => parse(text);

/**
 * A validator over every schema file among `files` (YAML under event-schemas/ and api/),
 * compiled on its first call. Throws there if `files` holds no schema at all, so a loader
 * that found nothing cannot pass every value unchecked.
 */
export function specValidator(files: SpecFiles): SpecValidator {
  const validators = new Map<string, ValidateFunction>();
  let ajv: Ajv2020 | undefined;
  const compiled = (schemaRef: string): ValidateFunction => {
    const cached = validators.get(schemaRef);
    if (cached !== undefined) return cached;
    ajv ??= createSpecAjv(files);
    const validate = ajv.getSchema(SCHEMA_BASE + schemaRef);
    if (validate === undefined) throw new Error(`No schema at spec/${schemaRef}`);
    validators.set(schemaRef, validate);
    return validate;
  };
  return (schemaRef, value) => {
    const validate = compiled(schemaRef);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(describeError);
  };
}

function createSpecAjv(files: SpecFiles): Ajv2020 {
  const schemaPaths = Object.keys(files).filter(
    (path) => path.endsWith(".yaml") && SCHEMA_DIRS.some((dir) => path.startsWith(dir)),
  );
  if (schemaPaths.length === 0) throw new Error("No spec schema files were given");
  // Spec schemas often give `properties` without `type: object`; that is their style, not an error.
  const instance = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  instance.addVocabulary([...SPEC_ANNOTATIONS, ...OPENAPI_DOCUMENT_FIELDS]);
  // Standard formats (the spec also uses `uri`), then Matrix's own.
  // ajv-formats is CommonJS: under Node's ESM interop (and Vite's) its plugin is `default`.
  ajvFormats.default(instance);
  for (const [name, accepts] of Object.entries(MATRIX_FORMATS)) {
    instance.addFormat(name, { type: "string", validate: accepts });
  }
  for (const path of schemaPaths) {
    instance.addSchema(parseSpecYaml(files[path] ?? "") as object, SCHEMA_BASE + path);
  }
  return instance;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  return `${where} ${error.message ?? "is invalid"} [${error.schemaPath}]`;
}
