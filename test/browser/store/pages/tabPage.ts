import { openIndexedDbStore } from "../../../../src/indexeddb.js";
import { emptyChanges } from "../../../../src/store/keyWithholdingStore.js";
import { harnessOf, TAB_HARNESS, type TabHarness, type TabReport } from "../frameHarness.js";

// One tab: open the store; as its owner, record ourselves and stay open until the frame goes.
const harness = harnessOf<TabHarness>(TAB_HARNESS);
const tab = new URL(location.href).searchParams.get("tab") ?? "?";
const send = (report: TabReport) => harness.report(JSON.stringify(report));

const opened = await openIndexedDbStore({
  name: harness.databaseName,
  lockTimeoutMs: harness.lockTimeoutMs,
});
if (!opened.ok) send({ tab, ok: false, reason: opened.reason });
else {
  const store = opened.value;
  const peersAtOpen = (await store.load()).peers.map(([key]) => key);
  await store.commit({ ...emptyChanges(), peers: [[`owner-${tab}`, { tab }]] });
  send({ tab, ok: true, peersAtOpen });
}
