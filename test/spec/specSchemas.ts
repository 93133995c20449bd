import { readdirSync, readFileSync } from "node:fs";
import {
  parseSpecYaml,
  type SpecFiles,
  type SpecValidator,
  specValidator,
} from "./specSchemaSet.js";

/**
 * The vendored Matrix spec (spec/) as a test oracle in Node: its files read with fs, its JSON
 * Schemas and OpenAPI documents compiled by Ajv (specSchemaSet.ts), and its example events.
 */

export { SPEC_SCHEMAS, specRef } from "./specSchemaSet.js";

const SPEC_DIR = new URL("../../spec/", import.meta.url);

const readSpecFile = (relativePath: string): string =>
  readFileSync(new URL(relativePath, SPEC_DIR), "utf8");

/** Parses any YAML (or JSON) file under spec/. */
export function loadSpecYaml(relativePath: string): unknown {
  return parseSpecYaml(readSpecFile(relativePath));
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

/** Every YAML file under spec/, by its path below spec/. */
function specFiles(): SpecFiles {
  const paths = readdirSync(SPEC_DIR, { recursive: true, encoding: "utf8" })
    .map((file) => file.split("\\").join("/"))
    .filter((file) => file.endsWith(".yaml"));
  return Object.fromEntries(paths.map((path) => [path, readSpecFile(path)]));
}

let validator: SpecValidator | undefined;

/** Every error the spec schema reports for `value`; empty when it conforms. */
export function validateAgainstSpec(schemaRef: string, value: unknown): string[] {
  validator ??= specValidator(specFiles());
  return validator(schemaRef, value);
}
