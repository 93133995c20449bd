export {
  type FakeUploadOptions,
  fakeDeviceKeys,
  fakeFallbackKey,
  fakeOlmContent,
  fakeOneTimeKeys,
  fakePublicKey,
  fakeSignature,
  fakeUpload,
  fakeWithheldContent,
} from "./fakeKeys.js";
export type { DeviceRef } from "./ids.js";
export {
  type HomeserverOptions,
  InMemoryHomeserver,
  type KeysQueryResponse,
  type KeysUploadResponse,
  type UploadRejection,
} from "./inMemoryHomeserver.js";
export { registerFakeDevices, sendRequest, toDevice } from "./requestFixtures.js";
export { proseRulesOnly, type SchemaCheck, type SpecSchemaName } from "./schemaCheck.js";
export type {
  ClaimRecord,
  DeliveredMessage,
  DeliveryListener,
  Dispatch,
  Endpoint,
  ToDeviceEvent,
  TransportEndpoint,
  Violation,
} from "./types.js";
