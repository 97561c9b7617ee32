import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../directory/errors.js';

/**
 * Encrypts stored client secrets with AES-256-GCM. The key comes from ENTRASYNC_SECRET_KEY
 * (32 bytes as base64 or hex) or, when unset, from a key file created in the data folder
 * (mode 0600). Several machines on one PostgreSQL database must share ENTRASYNC_SECRET_KEY.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The box for a configured key, or for the data folder's key file (created on first use). */
  static open(configuredKey: string | undefined, dataDir: string): SecretBox {
    if (configuredKey) return new SecretBox(parseKey(configuredKey));
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      // 'wx': if another process created it a moment ago, keep theirs.
      try {
        writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      chmodSync(file, 0o600);
    }
    return new SecretBox(parseKey(readFileSync(file, 'utf8').trim()));
  }

  /** iv.tag.ciphertext, each base64url. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
  }

  /** The clear value; throws when the key is not the one that sealed it. */
  open(sealed: string): string {
    const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !tag || !data) throw new Error('The stored client secret is damaged: enter it again.');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch (error) {
      // GCM only says "unable to authenticate": say what that means for an operator.
      throw new Error(
        'The stored client secret cannot be decrypted with this key: ENTRASYNC_SECRET_KEY (or data/secret.key) differs from the one that saved it. Enter the secret again.',
        { cause: error },
      );
    }
  }
}

function parseKey(text: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw invalid(
      'ENTRASYNC_SECRET_KEY',
      'ENTRASYNC_SECRET_KEY must be 32 bytes, as 64 hex digits or base64.',
    );
  }
  return key;
}
