import { MATRIX_FORMATS } from "./matrixFormats.js";

/** One logged-in device: the pair an access token stands for. */
export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
}

/** A collision-free map key for a device (ids may contain any separator we could pick). */
export const deviceKey = (ref: DeviceRef): string => JSON.stringify([ref.userId, ref.deviceId]);

/** `@alice:example.org:8448` → `example.org:8448`: the server part follows the first ':'. */
export const serverNameOf = (userId: string): string => userId.slice(userId.indexOf(":") + 1);

/** The spec's mx-user-id format, from the test oracle rather than the library's own parser. */
export const isSpecUserId = (value: string): boolean => MATRIX_FORMATS["mx-user-id"](value);

export const describeDevice = (ref: DeviceRef): string => `${ref.userId}/${ref.deviceId}`;
