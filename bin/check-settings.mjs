// Checks the server's LOB_* settings (lib/settings.ts) and exits 2 naming the first bad one, so a typo fails at
// start-up instead of as a 500 on every request. Used by bin/start.mjs (before building) and bin/serve.mjs.
import { register } from 'tsx/esm/api';

export async function checkSettingsOrExit() {
  const unregister = register();
  try {
    const { readServerSettings } = await import('../lib/settings.ts');
    readServerSettings();
  } catch (err) {
    if (err?.name !== 'SettingsError') throw err;
    console.error(`lob: ${err.message}`);
    process.exit(2);
  } finally {
    await unregister();
  }
}
