import { describeBackendConformance } from '../testing/conformance.js';
import { MemoryBackend } from './memory-backend.js';

describeBackendConformance('memory', async () => ({ backend: new MemoryBackend() }), {
  largeObjectSize: 12 * 1024 * 1024 + 123,
  largeCopySize: 11 * 1024 * 1024,
});
