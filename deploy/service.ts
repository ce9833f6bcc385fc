/**
 * The container's entry point: runs the deployable named by SERVICE (each Dockerfile target sets
 * it). Node runs the service directly, with no npm in between, so SIGTERM from `docker stop`
 * reaches the service's own graceful shutdown.
 */
import { deployable } from './deployables.ts';

let entry: string;
try {
  entry = deployable(process.env.SERVICE).entry;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
await import(new URL(`../${entry}`, import.meta.url).href);
