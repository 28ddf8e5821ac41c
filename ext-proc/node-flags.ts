/**
 * Node (V8) flags the ext-proc runs with, wherever it is started: `npm start` and the e2e stack
 * (scripts/stack), the bench and the fuzzer (bench/), the Dockerfile, docker-compose.yml and
 * deploy/kubernetes — a drift test (test/unit/node-flags-drift.test.ts) keeps the files equal to
 * this list. Why (docs/performance.md, "Memory under load"): V8 lets the old generation grow to
 * several times its live size before a full GC when GC is cheap, so under load a 25 MB live
 * heap sat in a 90–120 MB committed heap; growing it by at most half the live size keeps RSS
 * under load ~50 MB lower for a few more (short) full GCs. A young generation of two 8 MB
 * semi-spaces (V8's default: 16 MB) takes another 10–20 MB off the peak, and after the load
 * V8 gives its pages back (with 16 MB ones, RSS stayed ~30 MB above idle).
 */
export const EXT_PROC_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50', '--max-semi-space-size=8'];
