import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";

/** The error a call was refused with; fails the test when the call succeeds. */
export async function refusal(call: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await call();
  } catch (err) {
    return ConnectError.from(err);
  }
  return assert.fail("the call was not refused");
}
