import { configJsonSchema } from '../../config/json-schema.js';

export async function run(): Promise<void> {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
}
