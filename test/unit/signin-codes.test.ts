// One-time portal sign-in codes: each works once, only before it expires, and only as issued.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SignInCodes } from "../../src/core/identity/signin-codes.ts";

test("a code signs in once", { timeout: 5_000 }, () => {
  const codes = new SignInCodes();
  const { code } = codes.issue();
  assert.match(code, /^[A-Za-z0-9_-]{43}$/, "256 random bits, URL-safe");
  assert.equal(codes.redeem(code), true);
  assert.equal(codes.redeem(code), false, "a second use fails");
});

test("a code expires after its lifetime, and unknown codes fail", { timeout: 5_000 }, () => {
  let now = 1_000_000;
  const codes = new SignInCodes({ clock: () => now, ttlMs: 60_000 });
  const early = codes.issue().code;
  const late = codes.issue().code;
  now += 59_999;
  assert.equal(codes.redeem(early), true);
  now += 1;
  assert.equal(codes.redeem(late), false, "expired at its deadline");
  assert.equal(codes.redeem("not-a-code"), false);
  assert.equal(codes.redeem(""), false);
});

test("codes are independent, and the oldest outstanding ones are forgotten past a bound", { timeout: 5_000 }, () => {
  const codes = new SignInCodes();
  const issued = Array.from({ length: 20 }, () => codes.issue().code);
  assert.equal(new Set(issued).size, 20);
  assert.equal(codes.redeem(issued[0]), false, "forgotten: more than 16 outstanding");
  assert.equal(codes.redeem(issued[19]), true);
  assert.equal(codes.redeem(issued[10]), true);
});
