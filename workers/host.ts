/**
 * Worker-thread entry of a host: loads host-main.js (the host itself) with require() where
 * this Node can, which loads the module graph synchronously and in less CPU than import()
 * (see loadModule in src/runtime/transports/behaviors-module.ts). Kept this small so that
 * the one module loaded through import() is this one.
 */
import { createRequire } from 'node:module';

const main = './host-main.js';
try {
  createRequire(import.meta.url)(main);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
  await import(main);
}
