import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema editors use to autocomplete and check twinvault.json, from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'twinvault configuration',
  };
}
