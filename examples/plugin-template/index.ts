import { definePlugin, z } from '@inference-gateway/sdk';

// Per-request state other plugins (and your own later hooks) read, typed. Name the module you
// import the SDK from, exactly.
declare module '@inference-gateway/sdk' {
  interface RequestVars {
    team?: { name: string; startedAt: number };
  }
}

const Options = z
  .object({
    /** The team whose traffic this gateway instance tags. */
    team: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and "-"'),
    /** Header that carries the team to the model server and back to the client. */
    header: z.string().toLowerCase().default('x-team'),
  })
  .strict();

/**
 * Tags every request with the owning team for the model servers' own accounting, echoes it
 * to the client with the time the gateway waited for the model's headers, and refuses
 * clients that try to set the tag themselves.
 *
 * Headers only: this plugin never makes Envoy send a body to the gateway.
 */
export default definePlugin({
  // Prefix your types with your team (`acme/...`): type names are global in a gateway.
  type: 'acme/team-tag',
  description: 'Tags requests with the owning team; echoes it with the upstream wait time',
  options: Options,
  setup(options, host) {
    host.log.info({ team: options.team }, 'team-tag ready');
    return {
      requestHeaders(ctx) {
        const claimed = ctx.request.headers.get(options.header);
        if (claimed !== undefined && claimed !== options.team) {
          // Answers in the client's protocol (OpenAI error object, or V2/TF `{"error"}`); the model is never called.
          return ctx.fail(400, `${options.header} is set by the gateway`, { code: 'team_header_forbidden' });
        }
        ctx.headers.set(options.header, options.team);
        ctx.vars.team = { name: options.team, startedAt: performance.now() };
      },

      responseHeaders(ctx) {
        const team = ctx.vars.team;
        if (!team) return;
        ctx.headers.set(options.header, team.name);
        ctx.headers.set(`${options.header}-wait-ms`, String(Math.round(performance.now() - team.startedAt)));
      },

      // Runs once per request, after errors and cancellations too.
      end(ctx) {
        ctx.log.debug({ team: ctx.vars.team?.name, status: ctx.outcome.status, cancelled: ctx.outcome.cancelled }, 'team request done');
      },
    };
  },
});
