export { type DedupRun, type DedupStep, dedupRunArb } from "./dedupRunArbitraries.js";
export {
  type DedupTrace,
  formatDedupTrace,
  type ObservedStep,
  type PeerObservation,
  type StepObservation,
} from "./dedupTrace.js";
export { type DedupRule, type DedupViolation, dedupViolations } from "./dedupViolations.js";
export type { GlueEnvironment, GlueFactory, GlueUnderTest } from "./glueUnderTest.js";
export { type DedupScenarioOptions, runDedupScenario } from "./runDedupScenario.js";
