// Test helper: the IngotError a call throws (fails the test when it throws nothing or something else).
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
