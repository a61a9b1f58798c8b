// The little test runner the interop scripts share: named tests, equality checks, a summary.
let passed = 0, failed = 0;

export async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

export function assertEq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g.slice(0, 400)}, want ${w.slice(0, 400)}`);
}

// Prints "N passed, M failed" and ends the process, non-zero on any failure.
export function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

// Prints "N passed, M failed" and throws when any failed (for a body that must clean up first).
export function summarize() {
  console.log(`${passed} passed, ${failed} failed`);
  if (failed !== 0) throw new Error(`${failed} test(s) failed`);
}
