/**
 * The image's HEALTHCHECK: GET /ready of the deployable named by SERVICE, on the port its config
 * module reads. Exit 0 when ready, 1 otherwise (Docker's contract).
 */
import { resolveEnvironment } from '../platform/config-file.ts';
import { ALL_SETTINGS } from './configuration.ts';
import { deployable } from './deployables.ts';

try {
  // The port as the service itself resolved it: switchyard.yaml under the environment.
  const port = deployable(process.env.SERVICE).port(resolveEnvironment(process.env, ALL_SETTINGS).env);
  const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(4000) });
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`not ready: ${(error as Error).message}`);
  process.exit(1);
}
