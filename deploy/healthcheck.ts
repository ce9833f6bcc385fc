/**
 * The image's HEALTHCHECK: GET /ready of the deployable named by SERVICE, on the port its config
 * module reads. Exit 0 when ready, 1 otherwise (Docker's contract). Docker runs it every 10 s in
 * every container, so the image runs its bundle (`node dist/healthcheck.js`: the config modules
 * and nothing else, no transpiler), a bare Node start.
 */
import { deployable } from './deployables.ts';

try {
  const port = deployable(process.env.SERVICE).port(process.env);
  const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(4000) });
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`not ready: ${(error as Error).message}`);
  process.exit(1);
}
