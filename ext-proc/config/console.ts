import { z } from 'zod';
import { KEY_HASH } from '../../plugins/sdk/keys.js';

/** `console:` in the gateway config. See docs/observability.md#console. */
export const ConsoleSchema = z
  .object({
    /** Serve the console on the ext-proc's HTTP port (`/`). */
    enabled: z.boolean().default(true),
    /**
     * Admin keys, stored hashed like consumer keys (`npm run hash-key -- <key>`). Required to
     * open the console when the HTTP port is bound beyond loopback; once set, always required.
     */
    adminKeys: z.array(z.string().regex(KEY_HASH, 'a key hash: sha256:<64 hex> or sha512:<128 hex> (npm run hash-key)')).default([]),
    /** Let the console edit the config file (weights, aliases, rollback). Off by default. */
    actions: z.boolean().default(false),
    /** How often the console remembers the metrics; its charts have one point per sample. */
    sampleIntervalMs: z.number().int().min(250).max(60_000).default(5_000),
  })
  .strict()
  .prefault({});

export type ConsoleConfig = z.infer<typeof ConsoleSchema>;
