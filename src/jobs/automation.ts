import { invalid } from '../directory/errors.js';
import type { App } from '../services/app.js';
import { recordAudit } from '../store/audit.js';
import { DEFAULT_SAFEGUARD, JobsRepository } from '../store/jobs-repository.js';
import { parseWebhookUrl } from './webhook.js';

/** An organization's settings of unattended syncs, as the console shows them (the webhook secret only as "set"). */
export interface AutomationView {
  safeguard: { percent: number; minUsers: number };
  webhook: { url: string | null; secretSet: boolean };
}

/** A change to the automation settings; absent fields keep their value. */
export interface AutomationInput {
  safeguardPercent?: number;
  safeguardMinUsers?: number;
  webhookUrl?: string | null;
  /** Write-only; null removes it. */
  webhookSecret?: string | null;
}

/** Deletion-safeguard threshold and notification webhook of one organization. */
export class AutomationService {
  readonly #repo: JobsRepository;

  constructor(
    private readonly app: App,
    private readonly orgId: string,
    private readonly allowPrivateWebhooks: boolean,
  ) {
    this.#repo = new JobsRepository(app.store.db, app.store.dialect);
  }

  async get(): Promise<AutomationView> {
    const row = await this.#repo.automation(this.orgId);
    return {
      safeguard: {
        percent: row?.safeguard_percent ?? DEFAULT_SAFEGUARD.percent,
        minUsers: row?.safeguard_min_users ?? DEFAULT_SAFEGUARD.minUsers,
      },
      webhook: { url: row?.webhook_url ?? null, secretSet: Boolean(row?.webhook_secret_ciphertext) },
    };
  }

  /** Validates every field first; nothing is written on any error. */
  async set(input: AutomationInput, actor: string): Promise<AutomationView> {
    const row = await this.#repo.automation(this.orgId);
    const percent = input.safeguardPercent ?? row?.safeguard_percent ?? DEFAULT_SAFEGUARD.percent;
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      throw invalid('safeguardPercent', 'The safeguard share must be a whole percentage from 0 to 100.');
    const minUsers = input.safeguardMinUsers ?? row?.safeguard_min_users ?? DEFAULT_SAFEGUARD.minUsers;
    if (!Number.isInteger(minUsers) || minUsers < 1)
      throw invalid(
        'safeguardMinUsers',
        'The safeguard minimum must be a whole number of users, at least 1.',
      );
    const webhookUrl =
      input.webhookUrl === undefined
        ? (row?.webhook_url ?? null)
        : parseWebhookUrl(input.webhookUrl, this.allowPrivateWebhooks);
    let secret = row?.webhook_secret_ciphertext ?? null;
    if (input.webhookSecret !== undefined) {
      const text = input.webhookSecret?.trim() ?? '';
      if (input.webhookSecret !== null && text.length < 16)
        throw invalid(
          'webhookSecret',
          'The webhook secret must be at least 16 characters (use a random string).',
        );
      secret = text ? this.app.secrets.seal(text) : null;
    }
    await this.#repo.saveAutomation({
      org_id: this.orgId,
      safeguard_percent: percent,
      safeguard_min_users: minUsers,
      webhook_url: webhookUrl,
      webhook_secret_ciphertext: secret,
      updated_at: this.app.runtime.now().toISOString(),
    });
    const changed = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);
    await recordAudit(
      this.app.store.db,
      {
        orgId: this.orgId,
        actor,
        action: 'sync.automation',
        targetType: 'organization',
        targetId: this.orgId,
        detail: { changed },
      },
      this.app.runtime.now(),
    );
    return this.get();
  }

  /** Where and how to post notifications; the secret opened only to sign. */
  async webhook(): Promise<{ url: string; secret: string | null } | null> {
    const row = await this.#repo.automation(this.orgId);
    if (!row?.webhook_url) return null;
    return {
      url: row.webhook_url,
      secret: row.webhook_secret_ciphertext ? this.app.secrets.open(row.webhook_secret_ciphertext) : null,
    };
  }
}
