/**
 * A short description of anything that was thrown or rejected at an edge. Reading a hostile
 * value (a revoked Proxy, an Error whose `message` is a getter that throws or a number) can
 * itself throw; this never does.
 */
export function describeThrown(thrown: unknown, maxLength = 200): string {
  try {
    if (typeof thrown === "string") return clip(thrown, maxLength);
    if (typeof thrown !== "object" || thrown === null) {
      return typeof thrown === "function" ? "a function" : `${typeof thrown} ${String(thrown)}`;
    }
    const message: unknown = Reflect.get(thrown, "message");
    const name: unknown = Reflect.get(thrown, "name");
    const label = typeof name === "string" && name.length > 0 ? clip(name, 40) : "object";
    return typeof message === "string" ? `${label}: ${clip(message, maxLength)}` : label;
  } catch {
    return "an unreadable value";
  }
}

const clip = (text: string, maxLength: number): string =>
  text.length <= maxLength ? text : `${text.slice(0, maxLength)}…`;
