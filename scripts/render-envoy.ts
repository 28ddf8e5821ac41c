// Renders Envoy's bootstrap from a gateway config.
//   npm run render:envoy                       → envoy/envoy.yaml from examples/gateway.yaml
//   npm run render:envoy -- --docker           → envoy/envoy.docker.yaml (compose service names; model
//                                                clusters and routes from the ext-proc's files)
//   npm run render:envoy -- --config X --out Y
//   npm run render:envoy -- --xds-dir DIR --out Y  → a bootstrap that reads model clusters and routes
//                                                     from DIR/cds.yaml + DIR/rds.yaml (written here
//                                                     too, then kept current by the ext-proc)
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../ext-proc/config/load.js';
import { DOCKER_RENDER, modelResources, renderEnvoyYaml, renderXdsFiles, type RenderOptions } from '../envoy/render.js';

export { DOCKER_RENDER };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'examples/gateway.yaml' },
      out: { type: 'string' },
      docker: { type: 'boolean', default: false },
      'xds-dir': { type: 'string' },
    },
  });
  const { config } = await loadConfigFile(values.config as string);
  // The checked-in envoy/*.yaml are the static renders; a dynamic bootstrap goes elsewhere.
  if (values['xds-dir'] !== undefined && values.out === undefined) throw new Error('--xds-dir needs --out (where the bootstrap goes)');
  const out = values.out ?? (values.docker ? 'envoy/envoy.docker.yaml' : 'envoy/envoy.yaml');
  const xdsDir = values['xds-dir'] === undefined ? undefined : resolve(values['xds-dir']);
  // The docker bootstrap names a path inside the containers; the ext-proc writes the files there.
  const opts: RenderOptions = { ...(values.docker ? DOCKER_RENDER : {}), ...(xdsDir !== undefined ? { xdsDir } : {}) };
  if (xdsDir !== undefined) await mkdir(xdsDir, { recursive: true });
  await writeFile(out, renderEnvoyYaml(config, opts));
  process.stdout.write(`wrote ${out}\n`);
  if (xdsDir !== undefined) {
    for (const [file, text] of Object.entries(renderXdsFiles(modelResources(config, opts), 'initial'))) {
      await writeFile(join(xdsDir, file), text);
      process.stdout.write(`wrote ${join(xdsDir, file)}\n`);
    }
  }
}

// Importable (tests read DOCKER_RENDER) without rendering anything.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
