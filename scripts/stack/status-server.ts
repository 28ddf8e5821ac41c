// The launcher's own small HTTP surface (loopback): `/status` (JSON, one entry per child) and
// `/metrics` (Prometheus: restarts, failed starts, up), so restarts are visible without
// reading the launcher's log.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Supervisor } from './supervisor.js';

export function launcherRegistry(supervisor: Supervisor): Registry {
  const registry = new Registry();
  const restarts = new Counter({
    name: 'gateway_launcher_child_restarts_total',
    help: 'Times the launcher brought a child of the stack back after it exited',
    labelNames: ['child'],
    registers: [registry],
    collect() {
      restarts.reset();
      for (const s of supervisor.status()) restarts.inc({ child: s.name }, s.restarts);
    },
  });
  const failedStarts = new Counter({
    name: 'gateway_launcher_child_failed_starts_total',
    help: 'Start attempts of a child that failed (exited or never became ready)',
    labelNames: ['child'],
    registers: [registry],
    collect() {
      failedStarts.reset();
      for (const s of supervisor.status()) failedStarts.inc({ child: s.name }, s.failedStarts);
    },
  });
  const up = new Gauge({
    name: 'gateway_launcher_child_up',
    help: '1 while the child runs, 0 while it is being restarted or was given up',
    labelNames: ['child'],
    registers: [registry],
    collect() {
      for (const s of supervisor.status()) up.set({ child: s.name }, s.state === 'running' ? 1 : 0);
    },
  });
  return registry;
}

export async function startStatusServer(supervisor: Supervisor, host: string, port: number): Promise<Server> {
  const registry = launcherRegistry(supervisor);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ children: supervisor.status() }));
    } else if (path === '/metrics') {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found: the launcher serves /status and /metrics' }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
