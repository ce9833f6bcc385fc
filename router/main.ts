import { listen } from '../platform/http-server.ts';
import { createLogger } from '../platform/logger.ts';
import { onShutdown } from '../platform/shutdown.ts';
import { loadTracingConfig, startTracing } from '../platform/tracing.ts';
import { loadRouterConfig } from './config.ts';
import { createRouter } from './server.ts';

const config = loadRouterConfig(process.env);
const tracing = startTracing(loadTracingConfig(process.env, 'router'));
const logger = createLogger({ format: config.logFormat, level: config.logLevel, file: config.logFile }).child({ service: 'router' });
const router = createRouter({ config, logger });
await router.start();
const running = await listen(router.handler, { port: config.port, host: config.host });
// Diagnostics (detailed /ready, /metrics) on their own port, loopback unless ROUTER_ADMIN_HOST says otherwise.
const admin = config.adminPort === undefined ? undefined : await listen(router.adminHandler, { port: config.adminPort, host: config.adminHost });
logger.info({ url: `${running.url}/graphql`, admin: admin?.url }, 'router listening');
console.log(`Router ready at ${running.url}/graphql`);
onShutdown(logger, async () => {
  await running.close();
  await admin?.close();
  await router.stop();
  await tracing.shutdown();
});
