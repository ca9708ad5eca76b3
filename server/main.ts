// One server instance: tRPC over HTTP and WebSocket on one port, health endpoints, the built web app.
import { ConfigError, loadConfig } from './config.js';
import { closeDeps, createDeps } from './deps.js';
import { createApp } from './http/app.js';
import { startHl7Listener } from './integrations/hl7/listener.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config).child({ process: 'server' });
  const deps = createDeps(config, log);
  const app = createApp(deps);
  await new Promise<void>((resolve) => app.server.listen(config.port, config.host, resolve));
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, profile: config.profile }, `server listening on http://localhost:${port}`);
  // HL7 v2 over MLLP from monitor gateways and nurse call: only when HL7_MLLP_PORT is set.
  const hl7 = config.hl7 ? await startHl7Listener(deps, config.hl7) : null;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: telling clients to reconnect, draining');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await hl7?.close();
    await app.close();
    await closeDeps(deps);
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`server failed to start: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
