// `npm start`: the whole gateway on loopback, in the foreground: demo model servers, the
// ext-proc and Envoy, from examples/gateway.yaml (or GATEWAY_CONFIG). Ctrl-C stops everything.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from './stack/index.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: process.env.GATEWAY_CONFIG ?? 'examples/gateway.yaml' },
    quiet: { type: 'boolean', default: false },
    'ext-proc-replicas': { type: 'string', default: process.env.EXT_PROC_REPLICAS ?? '1' },
  },
});

let stack: Stack | undefined;
let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stdout.write('\nstopping the gateway stack…\n');
    await stack?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  stack = await startStack({
    config: resolve(values.config as string),
    ports: 'fixed',
    echo: !values.quiet,
    envoyLogLevel: 'warn',
    workDir: resolve('.tmp/stack'),
    extProcReplicas: Number(values['ext-proc-replicas']),
    // Edits to the config file apply live, new versions included (docs/routing.md).
    envoyXds: true,
  });
} catch (err) {
  process.stderr.write(`\nfailed to start the stack: ${(err as Error).message}\n`);
  await stop(1);
}

const s = stack as Stack;
const ext = s.extProcs[0];
process.stdout.write(`
Inference gateway is up (Envoy ${s.envoyVersion}).
  Console                   http://127.0.0.1:${ext?.httpPort}/   (models, splits, health, traffic, errors: docs/observability.md#console)
  Gateway (Envoy listener)  ${s.url}
  Envoy admin               ${s.adminUrl}   (stats: ${s.adminUrl}/stats/prometheus)
  ext-proc gRPC             ${s.extProcs.map((e) => `127.0.0.1:${e.grpcPort}`).join('  ')}
  ext-proc health/metrics   ${s.extProcs.map((e) => `http://127.0.0.1:${e.httpPort}`).join('  ')}   (/readyz /healthz /metrics)
  ext-proc log level        curl -X PUT http://127.0.0.1:${ext?.httpPort}/loglevel -d debug   (or kill -USR2 <pid>)
  Logs and rendered config  ${s.workDir}   (access log: one JSON line per request in ext-proc-0.log)
  Config (edit = live)      ${s.configPath}   (weights, versions, aliases, shadow, fallback: docs/routing.md)
  Dashboards                docker compose up: Prometheus :9090, Grafana :3000 (docs/observability.md)

Try (the demo consumer's API key is demo-key; docs/security.md):
  curl -s ${s.url}/v2/models/sentiment/infer -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["what a wonderful day"]}]}'
  curl -s ${s.url}/v1/chat/completions -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"model":"tinylm","messages":[{"role":"user","content":"Tell me about the rabbit"}]}'
  curl -s ${s.url}/v1/models/iris:predict -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"instances":[[5.1,3.5,1.4,0.2]]}'

Ctrl-C stops everything.
`);

// If Envoy or the only ext-proc dies, take the stack down rather than serve half a gateway.
// With several ext-proc replicas the others carry the traffic: restart the dead one
// (docs/operations.md), unless it keeps dying.
const restarts: number[] = [];
function watchExtProc(index: number): void {
  const child = s.extProcs[index]?.child;
  void child?.exited.then(async (code) => {
    if (stopping) return;
    process.stderr.write(`${child.name} exited (${code}); see ${child.logFile}\n`);
    const now = Date.now();
    restarts.push(now);
    if (s.extProcs.length < 2 || restarts.filter((t) => now - t < 60_000).length > 5) return void stop(1);
    process.stderr.write(`restarting ${child.name}; the other replica${s.extProcs.length > 2 ? 's carry' : ' carries'} the traffic meanwhile\n`);
    try {
      await s.startExtProc(index);
      watchExtProc(index);
    } catch (err) {
      process.stderr.write(`could not restart ${child.name}: ${(err as Error).message}\n`);
      void stop(1);
    }
  });
}
void s.envoy.exited.then((code) => {
  if (!stopping) {
    process.stderr.write(`${s.envoy.name} exited (${code}); see ${s.envoy.logFile}\n`);
    void stop(1);
  }
});
s.extProcs.forEach((_, i) => watchExtProc(i));
