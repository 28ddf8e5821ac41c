// `npm start`: the whole gateway on loopback, in the foreground: demo model servers, the
// ext-proc and Envoy, from examples/gateway.yaml (or GATEWAY_CONFIG). A child that exits is
// started again (scripts/stack/supervisor.ts, docs/operations.md); Ctrl-C stops everything.
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from './stack/index.js';
import { startStatusServer } from './stack/status-server.js';
import { Supervisor } from './stack/supervisor.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: process.env.GATEWAY_CONFIG ?? 'examples/gateway.yaml' },
    quiet: { type: 'boolean', default: false },
    'ext-proc-replicas': { type: 'string', default: process.env.EXT_PROC_REPLICAS ?? '1' },
    // The launcher's /status and /metrics (restart counts), on loopback.
    'status-port': { type: 'string', default: process.env.LAUNCHER_STATUS_PORT ?? '9900' },
    'work-dir': { type: 'string', default: '.tmp/stack' },
    'max-start-failures': { type: 'string', default: '5' },
  },
});

let stack: Stack | undefined;
let statusServer: Server | undefined;
let stopping = false;
const supervisor = new Supervisor({
  maxStartFailures: Number(values['max-start-failures']),
  log: (line) => process.stderr.write(`[launcher] ${line}\n`),
  onGiveUp: (name, err) => {
    process.stderr.write(`[launcher] giving up on ${name}: ${err.message}\n`);
    void stop(1);
  },
});
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    supervisor.stop();
    process.stdout.write('\nstopping the gateway stack…\n');
    statusServer?.close();
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
    workDir: resolve(values['work-dir'] as string),
    extProcReplicas: Number(values['ext-proc-replicas']),
    // Edits to the config file apply live, new versions included (docs/routing.md).
    envoyXds: true,
  });
} catch (err) {
  process.stderr.write(`\nfailed to start the stack: ${(err as Error).message}\n`);
  await stop(1);
}

const s = stack as Stack;
for (const service of s.services()) supervisor.watch(service);
const statusPort = Number(values['status-port']);
try {
  statusServer = await startStatusServer(supervisor, '127.0.0.1', statusPort);
} catch (err) {
  process.stderr.write(`\nthe launcher's status port ${statusPort} is taken (${(err as Error).message}); use --status-port\n`);
  await stop(1);
}
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
  Launcher status/metrics   http://127.0.0.1:${statusPort}/status   /metrics   (restart counts per child)
  Config (edit = live)      ${s.configPath}   (weights, versions, aliases, shadow, fallback: docs/routing.md)
  Dashboards                docker compose up: Prometheus :9090, Grafana :3000 (docs/observability.md)

Try (the demo consumer's API key is demo-key; docs/security.md):
  curl -s ${s.url}/v2/models/sentiment/infer -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["what a wonderful day"]}]}'
  curl -s ${s.url}/v1/chat/completions -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"model":"tinylm","messages":[{"role":"user","content":"Tell me about the rabbit"}]}'
  curl -s ${s.url}/v1/models/iris:predict -H 'Authorization: Bearer demo-key' -H 'content-type: application/json' \\
    -d '{"instances":[[5.1,3.5,1.4,0.2]]}'

A child that exits is restarted (back-off up to 10 s); Ctrl-C stops everything.
`);
