// Companion configuration: precedence (defaults < file < environment < flags), bootstrap keys from files, every problem reported at once, frozen result.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addSettingFlags, configFromEnv, loadConfig, parseBootstrapEntry, readBootstrapKeyFile, resolveDataDir, settingsFromFlags, settingsTable, ConfigError, SETTINGS } from '../../src/companion/config.js';

const KEY = 'AB'.repeat(32);

describe('companion config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tp-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has safe defaults: admin on loopback, auto policy, personas-only requests, public network', () => {
    const c = loadConfig({ dir, env: {}, readFile: false });
    expect(c.admin).toEqual({ enabled: true, host: '127.0.0.1', port: 0 });
    expect(c.policy).toBe('auto');
    expect(c.acceptRequests).toBe('personas');
    expect(c.network).toBe('public');
    expect(c.bootstrap).toEqual([]);
    expect(c.ipv6).toBe(false);
    expect(c.localDiscovery).toBe(false);
    expect(c.probe.enabled).toBe(false);
    expect(c.healthGraceSeconds).toBe(60);
  });

  it('turns the probe listener on when a probe host or port is given, in any source; enabled=false keeps it off', async () => {
    const sub = join(dir, 'probe');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    expect(loadConfig({ dir, env: { TOX_PERSONA_PROBE_PORT: '9091' }, readFile: false }).probe).toEqual({ enabled: true, host: '0.0.0.0', port: 9091 });
    expect(loadConfig({ dir, env: { TOX_PERSONA_PROBE_HOST: '127.0.0.1' }, readFile: false }).probe).toEqual({ enabled: true, host: '127.0.0.1', port: 0 });
    expect(loadConfig({ dir, env: { TOX_PERSONA_PROBE: 'yes' }, readFile: false }).probe).toEqual({ enabled: true, host: '0.0.0.0', port: 0 });
    expect(loadConfig({ dir, env: {}, flags: { probe: { host: '::1', port: '0' } }, readFile: false }).probe).toEqual({ enabled: true, host: '::1', port: 0 });
    await writeFile(join(sub, 'config.json'), JSON.stringify({ probe: { port: 9191 } }));
    expect(loadConfig({ dir: sub, env: { TOX_PERSONA_PROBE_HOST: '10.1.2.3' } }).probe).toEqual({ enabled: true, host: '10.1.2.3', port: 9191 }); // file port, env host
    expect(loadConfig({ dir: sub, env: { TOX_PERSONA_PROBE: 'false' } }).probe.enabled).toBe(false);
    const c = loadConfig({ dir: sub, env: {} });
    expect(Object.isFrozen(c.probe)).toBe(true);
    expect(c.admin).toEqual({ enabled: true, host: '127.0.0.1', port: 0 }); // the admin endpoint stays on loopback
  });

  it('reports a bad probe setting, and a probe port equal to the admin port, with the other problems', () => {
    let err: unknown;
    try {
      loadConfig({ dir, env: { TOX_PERSONA_PROBE_PORT: 'ninety', TOX_PERSONA_POLICY: 'x' }, flags: { probe: { extra: 1 } as never }, readFile: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['policy', 'probe.extra', 'probe.port']);
    expect(() => loadConfig({ dir, env: { TOX_PERSONA_ADMIN_PORT: '9090', TOX_PERSONA_PROBE_PORT: '9090' }, readFile: false })).toThrow(/probe\.port: 9090 is also the admin port/);
    // Both on free ports, or the admin endpoint off: no clash.
    expect(loadConfig({ dir, env: { TOX_PERSONA_PROBE_PORT: '0' }, readFile: false }).probe.port).toBe(0);
    expect(loadConfig({ dir, env: { TOX_PERSONA_ADMIN: 'false', TOX_PERSONA_ADMIN_PORT: '9090', TOX_PERSONA_PROBE_PORT: '9090' }, readFile: false }).probe.port).toBe(9090);
  });

  it('takes the health grace period from the file, TOX_PERSONA_HEALTH_GRACE, or the flag, validated like its siblings', async () => {
    const sub = join(dir, 'grace');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(join(sub, 'config.json'), JSON.stringify({ healthGraceSeconds: 5 }));
    expect(loadConfig({ dir: sub, env: {} }).healthGraceSeconds).toBe(5);
    expect(loadConfig({ dir: sub, env: { TOX_PERSONA_HEALTH_GRACE: '0' } }).healthGraceSeconds).toBe(0);
    expect(loadConfig({ dir: sub, env: { TOX_PERSONA_HEALTH_GRACE: '0' }, flags: { healthGraceSeconds: '120' } }).healthGraceSeconds).toBe(120);
    for (const bad of ['soon', '-1', '3601', '1.5']) {
      let err: unknown;
      try {
        loadConfig({ dir: sub, env: { TOX_PERSONA_HEALTH_GRACE: bad } });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems, bad).toEqual([expect.stringMatching(/^healthGraceSeconds: expected a whole number from 0 to 3600/)]);
    }
  });

  it('layers file < environment < flags, and bootstrap nodes accumulate across them', async () => {
    const sub = join(dir, 'layers');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(join(sub, 'config.json'), JSON.stringify({ policy: 'manual', network: 'local', bootstrap: [`10.0.0.1:33445:${KEY}`], admin: { port: 9000 } }));
    const c = loadConfig({
      dir: sub,
      env: { TOX_PERSONA_NETWORK: 'public', TOX_PERSONA_BOOTSTRAP: `10.0.0.2:1:${KEY}, 10.0.0.3:2:${KEY}`, TOX_PERSONA_ADMIN_HOST: '0.0.0.0' },
      flags: { network: 'local', bootstrap: [`[::1]:3:${KEY}`] },
    });
    expect(c.policy).toBe('manual'); // file
    expect(c.network).toBe('local'); // flag over env over file
    expect(c.admin).toEqual({ enabled: true, host: '0.0.0.0', port: 9000 }); // env host, file port
    expect(c.bootstrap.map((b) => `${b.host}:${b.port}`)).toEqual(['10.0.0.1:33445', '10.0.0.2:1', '10.0.0.3:2', '::1:3']);
  });

  it('reads a bootstrap key from a file: hex text, or tox-bootstrapd\'s 64-byte keys file', async () => {
    const hexFile = join(dir, 'key.txt');
    const binFile = join(dir, 'keys');
    await writeFile(hexFile, `${KEY.toLowerCase()}\n`);
    const bin = Buffer.alloc(64, 0x11);
    bin.fill(0xcd, 0, 32);
    await writeFile(binFile, bin);
    expect(readBootstrapKeyFile(hexFile)).toBe(KEY);
    expect(readBootstrapKeyFile(binFile)).toBe('CD'.repeat(32));
    expect(parseBootstrapEntry(`bootstrap:33445:@${binFile}`)).toEqual({ host: 'bootstrap', port: 33445, publicKey: 'CD'.repeat(32) });
    const c = loadConfig({ dir, env: { TOX_PERSONA_BOOTSTRAP_KEY_FILE: `127.0.0.1:33445:@${hexFile}` }, readFile: false });
    expect(c.bootstrap[0]!.publicKey).toBe(KEY);
    expect(() => readBootstrapKeyFile(join(dir, 'missing'))).toThrow(/cannot read key file/);
  });

  it('reports every problem from every source in one ConfigError', async () => {
    const sub = join(dir, 'bad');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(join(sub, 'config.json'), JSON.stringify({ policy: 'maybe', admin: { port: -1, extra: 1 }, statusText: 'x'.repeat(300) }));
    let err: unknown;
    try {
      loadConfig({ dir: sub, env: { TOX_PERSONA_TTL: 'soon', TOX_PERSONA_UDP: 'perhaps' }, flags: { bootstrap: ['h:0:KEY', `h:1:${KEY}`] } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.code).toBe('BAD_CONFIG');
    const wheres = ce.problems.map((p) => p.split(':')[0]);
    expect(wheres).toEqual(expect.arrayContaining(['policy', 'admin.port', 'admin.extra', 'statusText', 'ttlSeconds', 'udp', 'bootstrap[0]']));
    expect(ce.problems).toHaveLength(7);
    expect(ce.message).toContain('7 problems');
  });

  it('a config file that is not JSON is one of the problems', async () => {
    const sub = join(dir, 'notjson');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(join(sub, 'config.json'), '{ policy: auto');
    expect(() => loadConfig({ dir: sub, env: { TOX_PERSONA_POLICY: 'x' } })).toThrow(ConfigError);
    try {
      loadConfig({ dir: sub, env: { TOX_PERSONA_POLICY: 'x' } });
    } catch (e) {
      expect((e as ConfigError).problems).toHaveLength(2);
    }
  });

  it('is frozen once validated', () => {
    const c = loadConfig({ dir, env: {}, readFile: false });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.admin)).toBe(true);
    expect(() => {
      (c as { policy: string }).policy = 'manual';
    }).toThrow(TypeError);
  });

  it('resolves the data directory: flag, then $TOX_PERSONA_DIR, then a per-user directory', () => {
    expect(resolveDataDir('rel', { TOX_PERSONA_DIR: '/x' })).toBe(resolve('rel'));
    expect(resolveDataDir(undefined, { TOX_PERSONA_DIR: '/x' })).toBe('/x');
    expect(resolveDataDir(undefined, {})).toMatch(/tox-persona/);
  });
});

describe('settings are declared once (SETTINGS)', () => {
  it('docs/CLI.md holds the settings table generated from SETTINGS', () => {
    const docs = readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8');
    expect(docs).toContain(settingsTable());
  });

  it('every setting with a flag reaches the config through run\'s flags, with the environment below it', () => {
    const cmd = addSettingFlags(new Command('run').exitOverride());
    cmd.parse(['--policy', 'manual', '--no-admin', '--admin-port', '9000', '--ttl', '3600', '--bootstrap', 'a', '--bootstrap', 'b', '--no-udp', '--probe-port', '9091', '--health-grace', '5'], { from: 'user' });
    const flags = settingsFromFlags(cmd.opts());
    expect(flags).toEqual({ policy: 'manual', admin: { enabled: false, port: '9000' }, ttlSeconds: '3600', bootstrap: ['a', 'b'], udp: false, probe: { port: '9091' }, healthGraceSeconds: '5' });
    const env = Object.fromEntries(SETTINGS.filter((s) => s.env && s.path !== 'bootstrap').map((s) => [s.env!, 'x']));
    const fromEnv = configFromEnv(env) as Record<string, unknown>;
    for (const s of SETTINGS.filter((x) => x.env && x.path !== 'bootstrap')) {
      const [a, b] = s.path.split('.');
      expect(b ? (fromEnv[a!] as Record<string, unknown>)[b] : fromEnv[a!], s.path).toBe('x');
    }
  });
});
