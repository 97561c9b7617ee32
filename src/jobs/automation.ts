import type { AutomationInput, AutomationView } from '../contract/automation.js';
import { SAFEGUARD_LIMITS } from '../contract/limits.js';
import { AppError, type FieldError, invalidFields } from '../directory/errors.js';
import type { App } from '../services/app.js';
import { DEFAULT_SAFEGUARD, JobsRepository } from '../store/jobs-repository.js';
import { parseWebhookUrl } from './webhook.js';

// The settings as shown and a change to them: the HTTP contract's types (src/contract/automation.ts).
export type { AutomationInput, AutomationView };

/** What the safeguard settings accept: the API's limits, which the console and the CLI say too. */
export { SAFEGUARD_LIMITS };

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
      webhook: {
        url: row?.webhook_url ?? null,
        secretSet: Boolean(row?.webhook_secret_ciphertext),
        undeliverable: row?.webhook_url ? this.#undeliverable(row.webhook_url) : null,
      },
    };
  }

  /**
   * Validates every field first and reports every refusal at once; nothing is written on any
   * error. A field equal to its saved value is no change (a form may resend what it showed).
   */
  async set(input: AutomationInput, actor: string): Promise<AutomationView> {
    const row = await this.#repo.automation(this.orgId);
    const errors: FieldError[] = [];
    const changed: string[] = [];
    const savedPercent = row?.safeguard_percent ?? DEFAULT_SAFEGUARD.percent;
    const percent = input.safeguardPercent ?? savedPercent;
    if (percent !== savedPercent) {
      changed.push('safeguardPercent');
      if (!withinLimits(percent, SAFEGUARD_LIMITS.percent))
        errors.push({
          field: 'safeguardPercent',
          message: `The safeguard share must be a whole percentage from ${SAFEGUARD_LIMITS.percent.min} to ${SAFEGUARD_LIMITS.percent.max}.`,
        });
    }
    const savedMinUsers = row?.safeguard_min_users ?? DEFAULT_SAFEGUARD.minUsers;
    const minUsers = input.safeguardMinUsers ?? savedMinUsers;
    if (minUsers !== savedMinUsers) {
      changed.push('safeguardMinUsers');
      if (!withinLimits(minUsers, SAFEGUARD_LIMITS.minUsers))
        errors.push({
          field: 'safeguardMinUsers',
          message: `The safeguard minimum must be a whole number of users from ${SAFEGUARD_LIMITS.minUsers.min} to ${SAFEGUARD_LIMITS.minUsers.max.toLocaleString('en')}.`,
        });
    }
    const savedUrl = row?.webhook_url ?? null;
    let webhookUrl = savedUrl;
    // The URL as saved (resent by a form that showed it) is no change, and is not checked again.
    const sentUrl = input.webhookUrl?.trim() || null;
    if (input.webhookUrl !== undefined && sentUrl !== savedUrl) {
      try {
        webhookUrl = parseWebhookUrl(input.webhookUrl, this.allowPrivateWebhooks);
        if (webhookUrl !== savedUrl) changed.push('webhookUrl');
      } catch (error) {
        if (!(error instanceof AppError) || !error.field) throw error;
        errors.push({ field: error.field, message: error.message });
      }
    }
    let secret = row?.webhook_secret_ciphertext ?? null;
    if (input.webhookSecret !== undefined) {
      const text = input.webhookSecret?.trim() ?? '';
      if (input.webhookSecret !== null && text.length < 16)
        errors.push({
          field: 'webhookSecret',
          message: 'The webhook secret must be at least 16 characters (use a random string).',
        });
      else {
        secret = text ? this.app.secrets.seal(text) : null;
        changed.push('webhookSecret');
      }
    }
    if (errors.length) throw invalidFields(errors);
    await this.#repo.saveAutomation({
      org_id: this.orgId,
      safeguard_percent: percent,
      safeguard_min_users: minUsers,
      webhook_url: webhookUrl,
      webhook_secret_ciphertext: secret,
      updated_at: this.app.runtime.now().toISOString(),
    });
    await this.#repo.audit(
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

  #undeliverable(url: string): string | null {
    try {
      parseWebhookUrl(url, this.allowPrivateWebhooks);
      return null;
    } catch (error) {
      if (error instanceof AppError) return `${error.message} This server never posts to it.`;
      throw error;
    }
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

function withinLimits(value: number, limits: { min: number; max: number }): boolean {
  return Number.isInteger(value) && value >= limits.min && value <= limits.max;
}
