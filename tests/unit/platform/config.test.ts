import { describe, expect, it } from 'vitest';
import { readComposeFile } from '../../../deploy/compose-file.ts';
import { DEPLOYABLES } from '../../../deploy/deployables.ts';
import { withRunSecrets } from '../../../deploy/distributed.ts';
import { MIN_DEMO_PASSWORD_LENGTH, readCommonConfig, readDemoPassword } from '../../../platform/config.ts';
import { DEMO_PASSWORD } from '../../../platform/demo-data.ts';
import { loadUsersConfig } from '../../../subgraphs/users/config.ts';

/** What a real deployment passes: secrets nobody else knows. */
const SECRETS = { INTERNAL_TOKEN_SECRET: 'operator-token-secret-'.padEnd(48, 'x'), INTERNAL_SERVICE_SECRET: 'operator-service-secret-'.padEnd(48, 'y') };
const PRODUCTION = { NODE_ENV: 'production', ...SECRETS };
const OWN_PASSWORD = 'an operator chose this one';
const seeds = (config: unknown) => (config as { seedDemoData?: boolean }).seedDemoData ?? false;

describe('demo data seeding', () => {
  it('seeds in development by default, with the published password', () => {
    expect(readCommonConfig({}).seedDemoData).toBe(true);
    expect(loadUsersConfig({})).toMatchObject({ seedDemoData: true, demoPassword: DEMO_PASSWORD });
    expect(loadUsersConfig({ SEED_DEMO_DATA: 'false' }).seedDemoData).toBe(false);
  });

  it('never seeds in production unless SEED_DEMO_DATA=true, in every deployable', () => {
    // The router seeds nothing at all; every other deployable reads the common setting.
    for (const deployable of DEPLOYABLES) expect(seeds(deployable.load(PRODUCTION)), deployable.name).toBe(false);
    expect(loadUsersConfig({ ...PRODUCTION, SEED_DEMO_DATA: 'true', DEMO_PASSWORD: OWN_PASSWORD }).seedDemoData).toBe(true);
  });

  it('asked to seed in production, requires a DEMO_PASSWORD of its own: never the published one, never a short one', () => {
    const seeding = { ...PRODUCTION, SEED_DEMO_DATA: 'true' };
    expect(() => loadUsersConfig(seeding)).toThrow(/DEMO_PASSWORD is required/);
    expect(() => loadUsersConfig({ ...seeding, DEMO_PASSWORD: DEMO_PASSWORD })).toThrow(/DEMO_PASSWORD must not be/);
    expect(() => loadUsersConfig({ ...seeding, DEMO_PASSWORD: 'x'.repeat(MIN_DEMO_PASSWORD_LENGTH - 1) })).toThrow(/DEMO_PASSWORD must be at least/);
    expect(loadUsersConfig({ ...seeding, DEMO_PASSWORD: OWN_PASSWORD }).demoPassword).toBe(OWN_PASSWORD);
  });

  it('needs no DEMO_PASSWORD in production when not seeding', () => {
    expect(readDemoPassword({}, { production: true, seed: false })).toBe(DEMO_PASSWORD);
    expect(() => loadUsersConfig(PRODUCTION)).not.toThrow();
  });

  it('docker-compose.yml (NODE_ENV=production) seeds nothing unless the operator asks, and then with the password they set', () => {
    for (const service of readComposeFile(undefined, withRunSecrets({})).values()) {
      if (!service.deployable) continue;
      expect(seeds(service.deployable.load(service.environment)), service.name).toBe(false);
    }
    const asked = readComposeFile(undefined, withRunSecrets({ SEED_DEMO_DATA: 'true', DEMO_PASSWORD: OWN_PASSWORD })).get('users')!;
    expect(loadUsersConfig(asked.environment)).toMatchObject({ seedDemoData: true, demoPassword: OWN_PASSWORD });
    const careless = readComposeFile(undefined, withRunSecrets({ SEED_DEMO_DATA: 'true' })).get('users')!;
    expect(() => loadUsersConfig(careless.environment)).toThrow(/DEMO_PASSWORD/);
  });
});
