import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Behavior } from '../actor.js';

const require = createRequire(import.meta.url);

/** Errors of require() that mean "this Node cannot require that ES module": import() it instead. */
const NOT_REQUIRABLE = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

/**
 * Loads the ES module at `url`: with require() where this Node can (require(esm): 20.19 and
 * 22.12 on), else with import(). Both give the same module record. require() loads a module
 * graph synchronously, reading files without the thread pool and without a promise per
 * module: a worker thread loads a host's modules in about 15% less CPU than with import()
 * (~8 ms a thread; measured with 12 threads per 3 x 3 boot).
 */
export async function loadModule(url: string): Promise<unknown> {
  if (url.startsWith('file:')) {
    try {
      return require(fileURLToPath(url)) as unknown;
    } catch (error) {
      if (!NOT_REQUIRABLE.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
  return import(url);
}

/** Where one behaviour is: the module's URL and the name it is exported under. */
export interface BehaviorExport {
  module: string;
  export: string;
}

/**
 * What a behaviours module (the `behaviorsModule` a worker or NATS host loads) exports:
 * `behaviors`, every behaviour by name; or `behaviorModules`, where each behaviour is, so a
 * host loads only the modules of the behaviours it runs (each worker thread loads and
 * compiles its modules on its own: every module left out is boot time saved on each thread).
 */
export interface BehaviorsModule {
  behaviors?: Map<string, Behavior>;
  behaviorModules?: Record<string, BehaviorExport>;
}

/** The behaviours `names` need, from the module at `url` (`behaviorModules` first; an unknown name is left out). */
export async function importBehaviors(url: string, names: readonly string[]): Promise<Map<string, Behavior>> {
  const mod = (await loadModule(url)) as BehaviorsModule;
  const where = mod.behaviorModules;
  if (where !== undefined) {
    const out = new Map<string, Behavior>();
    for (const name of new Set(names)) {
      const at = Object.hasOwn(where, name) ? where[name] : undefined;
      if (at === undefined) continue;
      const behavior = ((await loadModule(at.module)) as Record<string, Behavior | undefined>)[at.export];
      if (behavior === undefined) throw new Error(`${at.module} does not export ${at.export} (behaviour ${name})`);
      out.set(name, behavior);
    }
    return out;
  }
  if (mod.behaviors instanceof Map) return mod.behaviors;
  throw new Error(`${url} exports neither behaviors nor behaviorModules`);
}
