import type { Behavior } from '../actor.js';

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
  const mod = (await import(url)) as BehaviorsModule;
  const where = mod.behaviorModules;
  if (where !== undefined) {
    const wanted = [...new Set(names)].filter((name) => Object.hasOwn(where, name));
    const loaded = await Promise.all(
      wanted.map(async (name) => {
        const at = where[name]!;
        const behavior = ((await import(at.module)) as Record<string, Behavior | undefined>)[at.export];
        if (behavior === undefined) throw new Error(`${at.module} does not export ${at.export} (behaviour ${name})`);
        return [name, behavior] as const;
      }),
    );
    return new Map(loaded);
  }
  if (mod.behaviors instanceof Map) return mod.behaviors;
  throw new Error(`${url} exports neither behaviors nor behaviorModules`);
}
