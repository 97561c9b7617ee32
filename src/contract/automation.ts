/** The automation part of the HTTP contract: the deletion safeguard and the notification webhook. */
import { type Static, Type } from 'typebox';
import { Nullable, said } from './common.js';

/** An organization's settings of unattended syncs, as the console shows them (the webhook secret only as "set"). */
export const AutomationViewSchema = Type.Object({
  safeguard: Type.Object({ percent: Type.Integer(), minUsers: Type.Integer() }),
  webhook: Type.Object({
    url: Nullable(Type.String()),
    secretSet: Type.Boolean(),
    undeliverable: said(
      Nullable(Type.String()),
      'why this server would never post to the saved URL (e.g. an http or private address saved before the rule), else null',
    ),
  }),
});

/**
 * A change to the automation settings; absent fields keep their value. The numbers are bounded
 * only by the column here: the service says the real limits (src/contract/limits.ts) by name.
 */
export const AutomationBodySchema = Type.Object(
  {
    safeguardPercent: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
    safeguardMinUsers: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })),
    webhookUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    webhookSecret: Type.Optional(
      Nullable(Type.String({ maxLength: 200, description: 'write-only; null removes it' })),
    ),
  },
  { additionalProperties: false },
);

export type AutomationView = Static<typeof AutomationViewSchema>;
export type AutomationInput = Static<typeof AutomationBodySchema>;
