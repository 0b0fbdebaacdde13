// Test helpers: the IngotError a call throws, or a promise rejects with (fails the test when there is none or it is something else).
import assert from "node:assert/strict";
import { IngotError } from "../../src/core/errors.ts";

export function caught(fn: () => unknown): IngotError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IngotError, String(e));
    return e;
  }
  assert.fail("expected an error");
}

export async function rejection(p: Promise<unknown>): Promise<IngotError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IngotError, String(e));
    return e;
  }
  assert.fail("expected a rejection");
}
