/**
 * The esbuild plugin tsup.config.ts builds with: it replaces src/dashboard/assets/client-script.ts
 * with a module that returns the dashboard's browser script, bundled here once (`bundleClient`).
 * The package thus ships the script as a string, and never loads esbuild.
 */
import type { Plugin } from 'esbuild';
import { bundleClient } from '../src/dashboard/assets/bundle-client.js';

/** The module replaced: the only one that bundles at run time, from source. */
const CLIENT_SCRIPT_MODULE = /[\\/]src[\\/]dashboard[\\/]assets[\\/]client-script\.ts$/;

/** The plugin; one bundle serves every format tsup builds. */
export function inlineDashboardClient(): Plugin {
  let text: string | undefined;
  return {
    name: 'inline-dashboard-client',
    setup(build) {
      build.onLoad({ filter: CLIENT_SCRIPT_MODULE }, () => {
        text ??= bundleClient();
        return {
          contents: `/** The dashboard's browser script, bundled from src/dashboard/client/ when the package was built. */\nexport function clientScript() {\n  return ${JSON.stringify(text)};\n}\n`,
          loader: 'js',
        };
      });
    },
  };
}
