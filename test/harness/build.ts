import { buildExtProc } from '../../scripts/build.js';

/** e2e global setup: the stacks run the ext-proc as shipped, from dist/, built once per run. */
export default async function setup(): Promise<void> {
  await buildExtProc();
  process.env.GATEWAY_EXT_PROC_BUILT = '1';
}
