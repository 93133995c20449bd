import { type SpecFiles, type SpecValidator, specValidator } from "../../spec/specSchemaSet.js";

/*
 * The vendored spec in the browser: Vite inlines every YAML file under spec/ as text, keyed
 * "/spec/api/keys.yaml" and so on; the keys lose "/spec/" to match Node's paths below spec/.
 */

const raw: Record<string, string> = import.meta.glob("/spec/**/*.yaml", {
  query: "?raw",
  import: "default",
  eager: true,
});

export const SPEC_FILES: SpecFiles = Object.fromEntries(
  Object.entries(raw).map(([path, text]) => [path.replace(/^\/spec\//, ""), text]),
);

/** Every error the spec schema reports for `value`; empty when it conforms. */
export const validateAgainstSpec: SpecValidator = specValidator(SPEC_FILES);
