// Renders Envoy's bootstrap from a gateway config.
//   npm run render:envoy                       → envoy/envoy.yaml from examples/gateway.yaml
//   npm run render:envoy -- --docker           → envoy/envoy.docker.yaml (compose service names)
//   npm run render:envoy -- --config X --out Y
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../ext-proc/config/load.js';
import { DOCKER_RENDER, renderEnvoyYaml } from '../envoy/render.js';

export { DOCKER_RENDER };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'examples/gateway.yaml' },
      out: { type: 'string' },
      docker: { type: 'boolean', default: false },
    },
  });
  const { config } = await loadConfigFile(values.config as string);
  const out = values.out ?? (values.docker ? 'envoy/envoy.docker.yaml' : 'envoy/envoy.yaml');
  await writeFile(out, renderEnvoyYaml(config, values.docker ? DOCKER_RENDER : {}));
  process.stdout.write(`wrote ${out}\n`);
}

// Importable (tests read DOCKER_RENDER) without rendering anything.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
