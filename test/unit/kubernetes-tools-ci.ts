import { INSTALL_HINT, toolPath, type Tool } from '../../scripts/kubernetes/tools.js';

/**
 * The Kubernetes checks skip (saying why) where a tool is not installed, e.g. a plain `npm test`
 * on a laptop; CI installs them in .ci/run, so there a missing tool fails the file instead.
 */
export function expectToolInCi(tool: Tool): void {
  if (process.env.CI === 'true' && toolPath(tool) === undefined) {
    throw new Error(`${tool} is missing in CI: .ci/run must run ${INSTALL_HINT}`);
  }
}
