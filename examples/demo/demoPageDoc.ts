import { demoPage } from "./demoPage.js";
import { runNoOlmStory } from "./noOlmStory.js";

/** Runs the demo story (silently) and returns docs/diagrams/demo.html, the page of that run. */
export async function demoPageDoc(): Promise<string> {
  const result = await runNoOlmStory(() => {});
  if (!result.ok) throw new Error("the demo story failed its checks; run npm run demo");
  return demoPage(result);
}
