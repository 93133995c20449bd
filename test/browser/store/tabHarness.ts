import { TAB_HARNESS, type TabHarness, type TabReport } from "./frameHarness.js";

/** The test page's side of the tab frames: it hands out the database name and collects reports. */
export class TabWorld {
  readonly #reports: TabReport[] = [];
  #waiting: ((report: TabReport) => void) | undefined;

  constructor(databaseName: string, lockTimeoutMs: number) {
    const harness: TabHarness = {
      databaseName,
      lockTimeoutMs,
      report: (json) => {
        const report = JSON.parse(json) as TabReport;
        const waiting = this.#waiting;
        this.#waiting = undefined;
        if (waiting !== undefined) waiting(report);
        else this.#reports.push(report);
      },
    };
    Reflect.set(window, TAB_HARNESS, harness);
  }

  /** Reports received and not yet taken. */
  get pending(): number {
    return this.#reports.length;
  }

  /** The next tab's report, in arrival order. */
  next(timeoutMs = 30_000): Promise<TabReport> {
    const queued = this.#reports.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no tab report in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiting = (report) => {
        clearTimeout(timer);
        resolve(report);
      };
    });
  }

  dispose(): void {
    Reflect.deleteProperty(window, TAB_HARNESS);
  }
}
