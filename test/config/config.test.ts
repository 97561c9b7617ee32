import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, configTable, loadConfig } from '../../src/config.js';
import { README, readmeWithConfigTable } from '../../tools/readme.js';

/** The variables `loadConfig` asks the environment for, recorded by a stand-in environment. */
function variablesRead(env: Record<string, string> = {}): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name);
    },
  });
  loadConfig(recording, false);
  return read;
}

describe('the configuration: one list of variables', () => {
  const listed = new Set(CONFIG_VARIABLES.flatMap((v) => v.names));

  it('reads exactly the variables CONFIG_VARIABLES lists, each once listed', () => {
    expect([...variablesRead()].sort()).toEqual([...listed].sort());
    expect(CONFIG_VARIABLES.flatMap((v) => v.names)).toHaveLength(listed.size);
  });

  it("is README.md's Configuration table (npm run docs:config writes it)", () => {
    const readme = readFileSync(README, 'utf8');
    expect(
      readmeWithConfigTable(readme, configTable()),
      'README.md is out of date: npm run docs:config',
    ).toBe(readme);
  });

  it('says which variable is wrong, for every kind of value', () => {
    const refused: [Record<string, string>, RegExp][] = [
      [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
      [{ ENTRASYNC_DEMO: 'no' }, /^ENTRASYNC_DEMO must be 1 \(on\) or 0 \(off\), not "no"/],
      [
        { ENTRASYNC_ALLOW_CUSTOM_CLOUD: 'yes' },
        /^ENTRASYNC_ALLOW_CUSTOM_CLOUD must be 1 \(on\) or 0 \(off\)/,
      ],
      [{ ENTRASYNC_WORKER_CONCURRENCY: '0' }, /^ENTRASYNC_WORKER_CONCURRENCY must be a number ≥ 1/],
      [{ PORT: '70000' }, /^PORT must be a port number/],
    ];
    for (const [env, message] of refused) expect(() => loadConfig(env, false)).toThrow(message);
  });

  it('defaults: info logs, the demo on, one switch for both outbound-URL risks', () => {
    const config = loadConfig({}, false);
    expect(config).toMatchObject({ logLevel: 'info', demo: true, allowCustomCloud: false });
    expect(config.jobs.allowPrivateWebhooks).toBe(false);
    const open = loadConfig(
      { ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1', ENTRASYNC_DEMO: '0', LOG_LEVEL: 'DEBUG' },
      false,
    );
    expect(open).toMatchObject({ logLevel: 'debug', demo: false, allowCustomCloud: true });
    expect(open.jobs.allowPrivateWebhooks).toBe(true);
  });
});
