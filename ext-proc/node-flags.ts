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
 * Why no allocation-site pretenuring (docs/performance.md, "Session 6"): V8 starts allocating an
 * object literal's objects straight in the old generation once enough of them survived a
 * scavenge. A request's objects point at each other, so one tenured site keeps the young
 * objects it points to alive until the next full GC; they survive, their sites get tenured in
 * turn, and soon every request's whole object graph was promoted (~1 MB a scavenge, ~10% of
 * what was allocated), filling the old generation and costing full GCs. Nothing the ext-proc
 * allocates per request outlives the request, so the heuristic never pays here; without it,
 * the processor bench spent a third less CPU per request in every mode.
 */
export const EXT_PROC_NODE_FLAGS: readonly string[] = ['--heap-growing-percent=50', '--max-semi-space-size=8', '--no-allocation-site-pretenuring'];
