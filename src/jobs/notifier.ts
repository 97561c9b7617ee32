import nodemailer, { type MailMessage } from 'nodemailer';
import type { Equal } from '../contract/common.js';
import type { Notification } from '../contract/notifications.js';
import type { App } from '../services/app.js';
import { JobsRepository, type NotificationRecord } from '../store/jobs-repository.js';
import { AutomationService } from './automation.js';
import type { JobsConfig } from './config.js';
import type { Logger } from './logger.js';
import { postWebhook } from './webhook.js';

export const NOTIFICATION_KINDS = ['sync_failed', 'sync_held', 'secret_expiring', 'seats_exceeded'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** A notification to record and deliver. */
// What the inbox returns is what the API serves (src/contract/notifications.ts), property for property.
const _recordIsServed: Equal<NotificationRecord, Notification> = true;

export interface NewNotification {
  kind: NotificationKind;
  /** Recorded once per key per organization (several schedulers, retried jobs). */
  dedupeKey: string;
  title: string;
  message: string;
  runId?: string;
}

/** Sends mail (nodemailer's transport, or a stand-in in tests). */
export interface Mailer {
  sendMail(message: MailMessage): Promise<unknown>;
}

/** An organization's notifications as people read them (the API): the list, and marking them read. */
export class NotificationInbox {
  readonly #repo: JobsRepository;

  constructor(private readonly app: App) {
    this.#repo = new JobsRepository(app.store.db, app.store.dialect);
  }

  /** Newest first; unread ones only when asked. */
  list(orgId: string, options: { unreadOnly: boolean; limit: number; offset: number }) {
    return this.#repo.listNotifications(orgId, options);
  }

  /** Marks notifications read (all unread ones when no ids); returns how many changed. */
  markRead(orgId: string, ids: string[] | null): Promise<number> {
    return this.#repo.markRead(orgId, ids, this.app.runtime.now().toISOString());
  }
}

/**
 * Records notifications (the console lists them) and delivers each new one by email to the
 * organization's administrators (when SMTP_URL is set) and to its webhook (when set). Delivery
 * is best effort: its outcome is stored with the notification and logged, never thrown.
 */
export class Notifier {
  readonly #repo: JobsRepository;
  readonly #mailer: Mailer | null;

  constructor(
    private readonly app: App,
    private readonly config: Pick<JobsConfig, 'smtpUrl' | 'mailFrom' | 'allowPrivateWebhooks' | 'publicUrl'>,
    private readonly logger: Logger,
    mailer?: Mailer,
  ) {
    this.#repo = new JobsRepository(app.store.db, app.store.dialect);
    this.#mailer = mailer ?? (config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null);
  }

  /** Records and delivers; null when this notification was recorded before. */
  async notify(orgId: string, n: NewNotification): Promise<NotificationRecord | null> {
    const now = this.app.runtime.now();
    const record = await this.#repo.insertNotification({
      org_id: orgId,
      id: this.app.runtime.newId(),
      kind: n.kind,
      dedupe_key: n.dedupeKey,
      title: n.title,
      message: n.message,
      run_id: n.runId ?? null,
      created_at: now.toISOString(),
      read_at: null,
      delivery: null,
    });
    if (!record) return null;
    const log = this.logger.child({ org: orgId, notification: record.id, kind: n.kind, runId: n.runId });
    const delivery: Record<string, string> = {};
    delivery.email = await this.#email(orgId, record).catch((error: unknown) => {
      log.warn({ err: errorText(error) }, 'notification email failed');
      return `failed: ${errorText(error)}`;
    });
    delivery.webhook = await this.#webhook(orgId, record).catch((error: unknown) => {
      log.warn({ err: errorText(error) }, 'notification webhook failed');
      return `failed: ${errorText(error)}`;
    });
    await this.#repo.setDelivery(orgId, record.id, delivery);
    log.info({ delivery }, 'notification recorded');
    return { ...record, delivery };
  }

  async #email(orgId: string, record: NotificationRecord): Promise<string> {
    if (!this.#mailer) return 'off (SMTP_URL not set)';
    const to = await this.#repo.adminEmails(orgId);
    if (to.length === 0) return 'skipped (no active administrator)';
    const org = await this.app.orgs.get(orgId);
    const page = consolePage(orgId, record);
    const url = consoleUrl(this.config.publicUrl, page);
    await this.#mailer.sendMail({
      from: this.config.mailFrom,
      to,
      subject: `[entrasync] ${org.name}: ${record.title}`,
      text: [
        record.message,
        '',
        // Without ENTRASYNC_PUBLIC_URL the server cannot know its own address: the page still helps.
        url ? `Open in the console: ${url}` : `In the console: ${page.name} (${page.path})`,
        '',
        `(${record.kind}${record.runId ? `, run ${record.runId}` : ''}, ${record.createdAt})`,
      ].join('\n'),
    });
    return `sent to ${to.length}`;
  }

  async #webhook(orgId: string, record: NotificationRecord): Promise<string> {
    const hook = await new AutomationService(this.app, orgId, this.config.allowPrivateWebhooks).webhook();
    if (!hook) return 'off (no webhook URL)';
    await postWebhook(
      hook.url,
      {
        id: record.id,
        orgId,
        kind: record.kind,
        title: record.title,
        message: record.message,
        runId: record.runId,
        createdAt: record.createdAt,
        consoleUrl: consoleUrl(this.config.publicUrl, consolePage(orgId, record)),
      },
      hook.secret,
      this.config.allowPrivateWebhooks,
      this.app.runtime.now(),
    );
    return 'sent';
  }
}

/** The console page where a notification is acted on: the run, the key's settings, or the overview. */
export function consolePage(
  orgId: string,
  record: Pick<NotificationRecord, 'kind' | 'runId'>,
): { name: string; path: string } {
  const org = `/orgs/${encodeURIComponent(orgId)}`;
  if (record.runId)
    return { name: 'Sync history → this run', path: `${org}/history/${encodeURIComponent(record.runId)}` };
  if (record.kind === 'secret_expiring')
    return { name: 'Import Users → Azure Active Directory', path: `${org}/settings/import-users/azure-ad` };
  return { name: 'Overview', path: `${org}/overview` };
}

/** The page's absolute address, when the console's public address is configured. */
export function consoleUrl(publicUrl: string | undefined, page: { path: string }): string | null {
  return publicUrl ? `${publicUrl}${page.path}` : null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
