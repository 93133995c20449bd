import { InMemoryStore } from "../../src/store/inMemoryStore.js";
import { describeStoreContract } from "./storeContract.js";

// The reference store against itself: keeps the contract's own expectations honest.
describeStoreContract("InMemoryStore", async () => {
  const store = new InMemoryStore();
  return { store, reopen: async () => store, cleanup: async () => {} };
});
