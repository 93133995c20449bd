import {
  OLM_LEAVES,
  type OlmLeaf,
  peerStateValue,
  REPLY_LEAVES,
  type ReplyLeaf,
} from "./peerShape.js";
import type { PeerStateValue } from "./peerSnapshot.js";

/*
 * A peer machine's configuration as one small integer: olm leaf × 6 + reply leaf (0..23). The
 * compiled machine indexes its table by it and the packed per-device state stores it in a byte.
 */

export const leafPairCode = (olm: number, reply: number): number =>
  olm * REPLY_LEAVES.length + reply;

/** Every leaf pair as [olm index, reply index], indexed by its code. */
export const LEAF_PAIRS: readonly (readonly [number, number])[] = OLM_LEAVES.flatMap((_, olm) =>
  REPLY_LEAVES.map((_, reply) => [olm, reply] as const),
);

export const olmLeafOf = (code: number): OlmLeaf =>
  OLM_LEAVES[Math.floor(code / REPLY_LEAVES.length)] as OlmLeaf;
export const replyLeafOf = (code: number): ReplyLeaf =>
  REPLY_LEAVES[code % REPLY_LEAVES.length] as ReplyLeaf;

const OLM_INDEX = new Map<string, number>(OLM_LEAVES.map((leaf, index) => [leaf, index]));
const REPLY_INDEX = new Map<string, number>(REPLY_LEAVES.map((leaf, index) => [leaf, index]));

/** The code of a pair of leaf names (both known). */
export const codeOfLeaves = (olm: OlmLeaf, reply: ReplyLeaf): number =>
  leafPairCode(OLM_INDEX.get(olm) ?? 0, REPLY_INDEX.get(reply) ?? 0);

/** One frozen state value per code: steps hand these out instead of building new ones. */
const VALUES: readonly PeerStateValue[] = LEAF_PAIRS.map(([olm, reply]) =>
  deepFreeze(peerStateValue(OLM_LEAVES[olm] as OlmLeaf, REPLY_LEAVES[reply] as ReplyLeaf)),
);

export const stateValueOf = (code: number): PeerStateValue => VALUES[code] as PeerStateValue;

function deepFreeze(value: PeerStateValue): PeerStateValue {
  if (typeof value.olm === "object") Object.freeze(value.olm);
  if (typeof value.reply === "object") Object.freeze(value.reply);
  return Object.freeze(value);
}
