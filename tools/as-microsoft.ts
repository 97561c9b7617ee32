/**
 * Runs a command in a world where Microsoft's host names lead to the emulator: a private mount
 * and network namespace (`unshare --mount --net`, as root) with its own loopback, an /etc/hosts
 * sending every cloud's login and Graph names to 127.0.0.1, and the emulator's CA trusted through
 * NODE_EXTRA_CA_CERTS — the way a real installation trusts Microsoft's CA through the system. The
 * product inside is configured as a customer would configure it: tenant, client ID, key, cloud.
 *
 * Usage: tsx tools/as-microsoft.ts <command> [args…]
 * The command sees ENTRASYNC_AS_MICROSOFT_STATE (a directory holding the CA that an emulator
 * started with `--state-dir` there reuses). Where namespaces are not permitted (not root, or a
 * container without CAP_SYS_ADMIN) it says so loudly and exits 0 without running the command:
 * only this tier is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateTls } from '../src/emulator/certs.js';
import { MICROSOFT_CLOUD_HOSTS } from '../src/emulator/hosts.js';

const command = process.argv.slice(2);
if (command.length === 0) {
  process.stderr.write('usage: tsx tools/as-microsoft.ts <command> [args…]\n');
  process.exit(2);
}

const why = namespacesUnavailable();
if (why) {
  const bar = '!'.repeat(78);
  process.stderr.write(
    `${bar}\n!! SKIPPED: the as-Microsoft test tier (${command.join(' ')})\n!! ${why}\n` +
      '!! It needs root with unshare(1) and ip(8) (util-linux, iproute2): private network namespaces.\n' +
      `${bar}\n`,
  );
  process.exit(0);
}

const state = mkdtempSync(join(tmpdir(), 'entrasync-as-microsoft-'));
try {
  // The CA exists before the namespace so NODE_EXTRA_CA_CERTS can name it: Node reads that
  // variable once, at process start.
  const tls = loadOrCreateTls(state, ['127.0.0.1']);
  const names = [...new Set(Object.values(MICROSOFT_CLOUD_HOSTS).flatMap((c) => [...c.login, ...c.graph]))];
  const hostsFile = join(state, 'hosts');
  writeFileSync(
    hostsFile,
    `127.0.0.1 localhost\n::1 localhost\n${names.map((n) => `127.0.0.1 ${n}`).join('\n')}\n`,
  );
  const inside = 'ip link set lo up && mount --bind "$HOSTS_FILE" /etc/hosts && exec "$@"';
  const result = spawnSync('unshare', ['--mount', '--net', '--', 'sh', '-c', inside, 'sh', ...command], {
    stdio: 'inherit',
    env: {
      ...process.env,
      HOSTS_FILE: hostsFile,
      NODE_EXTRA_CA_CERTS: tls.caFile,
      ENTRASYNC_AS_MICROSOFT_STATE: state,
    },
  });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(state, { recursive: true, force: true });
}

/** Why a private namespace cannot be had here, or undefined when it can. */
function namespacesUnavailable(): string | undefined {
  for (const tool of ['unshare', 'ip']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${tool} is not installed.`;
  }
  const probe = spawnSync('unshare', ['--mount', '--net', '--', 'ip', 'link', 'set', 'lo', 'up'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) return `unshare --mount --net is not permitted: ${probe.stderr.trim()}`;
  return undefined;
}
