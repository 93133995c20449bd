export type { DeviceRef } from "./ids.js";
export {
  type HomeserverOptions,
  InMemoryHomeserver,
  type KeysQueryResponse,
  type KeysUploadResponse,
  type UploadRejection,
} from "./inMemoryHomeserver.js";
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
