import { parseArgs } from "node:util";

/** What `npm run bench -- …` can choose. */
export const FIGURES = [
  "share",
  "baseline",
  "memory",
  "sqlite",
  "heap",
  "existing",
  "notices",
  "dummy",
] as const;
export type Figure = (typeof FIGURES)[number];

export interface BenchOptions {
  readonly devices: number;
  readonly rounds: number;
  /** Figures to run (default: all). */
  readonly only: ReadonlySet<Figure>;
  readonly growth: boolean;
  /** Repetitions of (f). */
  readonly dummyRepetitions: number;
  /** Also measure heap after a reply to every device (costs one notice per device). */
  readonly heapAfterReply: boolean;
  readonly log: (line: string) => void;
}

export const DEFAULT_DEVICES = 100_000;
export const DEFAULT_ROUNDS = 5;

const positive = (text: string | undefined, fallback: number, name: string): number => {
  if (text === undefined) return fallback;
  const value = Number(text.replaceAll("_", ""));
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer`);
  return value;
};

export function readOptions(argv: readonly string[], log = console.log): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      devices: { type: "string" },
      rounds: { type: "string" },
      only: { type: "string" },
      growth: { type: "boolean" },
      "dummy-repetitions": { type: "string" },
      "no-heap-after-reply": { type: "boolean" },
    },
    strict: true,
  });
  const only = new Set<Figure>();
  for (const name of (values.only ?? FIGURES.join(",")).split(",")) {
    const figure = FIGURES.find((known) => known === name.trim());
    if (figure === undefined)
      throw new Error(`--only: unknown figure ${name}; known: ${FIGURES.join(",")}`);
    only.add(figure);
  }
  return {
    devices: positive(values.devices, DEFAULT_DEVICES, "devices"),
    rounds: positive(values.rounds, DEFAULT_ROUNDS, "rounds"),
    only,
    growth: values.growth === true,
    dummyRepetitions: positive(values["dummy-repetitions"], 200, "dummy-repetitions"),
    heapAfterReply: values["no-heap-after-reply"] !== true,
    log,
  };
}
