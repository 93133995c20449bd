import { describe, expect, it } from "vitest";
import { ReceivedWithheld } from "../../src/coordinator/receivedWithheld.js";
import type { Curve25519PublicKey, RoomId, SessionId } from "../../src/events/matrixIds.js";
import type { SessionWithheldContent } from "../../src/events/withheldContent.js";

const room = "!room:example.org" as RoomId;
const session = "SESSION" as SessionId;
const owner = "A".repeat(43) as Curve25519PublicKey;
const other = "B".repeat(43) as Curve25519PublicKey;

const notice = (
  code: SessionWithheldContent["code"],
  senderKey = owner,
  sessionId = session,
): SessionWithheldContent => ({
  kind: "session",
  algorithm: "m.megolm.v1.aes-sha2",
  code,
  roomId: room,
  sessionId,
  senderKey,
  reason: `because ${code}`,
  extra: {},
});

describe("ReceivedWithheld", () => {
  it("keeps a specific code per sender key and m.unavailable apart", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.unverified"));
    received.record(notice("m.unavailable", other));
    expect(received.specific(room, session, owner)).toEqual({
      code: "m.unverified",
      reason: "because m.unverified",
    });
    expect(received.specific(room, session, other)).toBeUndefined();
    expect(received.unavailable(room, session)).toEqual({
      code: "m.unavailable",
      reason: "because m.unavailable",
    });
  });

  it("m.unavailable never replaces a specific code", () => {
    const received = new ReceivedWithheld(10);
    received.record(notice("m.blacklisted"));
    received.record(notice("m.unavailable"));
    expect(received.specific(room, session, owner)?.code).toBe("m.blacklisted");
  });

  it("forgets the oldest entries beyond its bound", () => {
    const received = new ReceivedWithheld(3);
    for (let i = 0; i < 5; i++)
      received.record(notice("m.unverified", owner, `S${i}` as SessionId));
    expect(received.size).toBe(3);
    expect(received.specific(room, "S0" as SessionId, owner)).toBeUndefined();
    expect(received.specific(room, "S4" as SessionId, owner)?.code).toBe("m.unverified");
  });
});
