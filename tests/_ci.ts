/**
 * What a test does when a library or adapter it needs is missing: under CI (`CI=true`, where
 * `.ci/setup` installs everything the suite uses) it fails; elsewhere it says what is missing and
 * the caller skips, so a bare machine can still run the rest.
 *
 * @module
 */
import { AssertionError } from "node:assert/strict";

/** Whether the suite runs under CI (`CI=true`). */
export function inCi(): boolean {
  try {
    return Deno.env.get("CI") === "true";
  } catch {
    return false;
  }
}

/**
 * Returns `available`; when it is false, throws under CI and warns elsewhere (the caller then
 * skips the part that needs `what`).
 */
export function requireOrSkip(available: boolean, what: string): boolean {
  if (available) return true;
  if (inCi()) {
    throw new AssertionError({ message: `${what} is missing, but CI installs it (.ci/setup)` });
  }
  console.warn(`skipped: ${what} is missing (under CI=true this fails)`);
  return false;
}
