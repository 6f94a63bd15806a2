// Builds modules in the order given: each one's setup gets the platform and the services of the
// modules before it. A module that asks for one not built yet fails the boot with one clear sentence.
import type { Logger } from '../observability/logger.ts';
import {
  type ModuleContext,
  type ModuleDefinition,
  ModuleError,
  type ModuleName,
  type ModuleParts,
  type ModuleServices,
} from './define-module.ts';

export interface BuiltModule {
  name: string;
  parts: ModuleParts<unknown>;
}

export interface BuiltModules {
  modules: BuiltModule[];
  services: ModuleServices;
}

export function buildModules(
  definitions: ModuleDefinition[],
  platform: Omit<ModuleContext, 'use' | 'logger'>,
  logger: Logger,
): BuiltModules {
  const services: Partial<Record<string, unknown>> = {};
  const modules: BuiltModule[] = [];
  for (const definition of definitions) {
    if (modules.some((m) => m.name === definition.name)) {
      throw new ModuleError(`module "${definition.name}" is listed twice`);
    }
    const use = <N extends ModuleName>(name: N): ModuleServices[N] => {
      if (!(name in services)) {
        throw new ModuleError(
          `module "${definition.name}" uses "${name}", which is not built before it: list "${name}" first`,
        );
      }
      return services[name] as ModuleServices[N];
    };
    const parts = definition.setup({
      ...platform,
      logger: logger.child({ area: `vireo:${definition.name}` }),
      use,
    }) as ModuleParts<unknown>;
    if (parts.service !== undefined) services[definition.name] = parts.service;
    modules.push({ name: definition.name, parts });
  }
  return { modules, services: services as unknown as ModuleServices };
}
