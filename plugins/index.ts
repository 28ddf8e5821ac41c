import type { PluginDef } from './sdk/types.js';
import modelRouter from './model-router/index.js';
import openaiUsage from './openai-usage/index.js';
import piiRedact from './pii-redact/index.js';
import requestDefaults from './request-defaults/index.js';
import sentimentText from './sentiment-text/index.js';
import sseContentFilter from './sse-content-filter/index.js';
import apiKeyAuth from './api-key-auth/index.js';
import jwtAuth from './jwt-auth/index.js';
import modelAccess from './model-access/index.js';
import openaiValidation from './openai-validation/index.js';
import kserveV2Validation from './kserve-v2-validation/index.js';
import tfservingValidation from './tfserving-validation/index.js';
import consumerLimits from './consumer-limits/index.js';

/** Every plugin type that ships with the gateway. */
export const builtinPlugins: readonly PluginDef[] = [
  modelRouter,
  openaiUsage,
  sentimentText,
  piiRedact,
  requestDefaults,
  sseContentFilter,
  apiKeyAuth,
  jwtAuth,
  modelAccess,
  openaiValidation,
  kserveV2Validation,
  tfservingValidation,
  consumerLimits,
];
