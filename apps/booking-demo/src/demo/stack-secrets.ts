import { type BasicCredential, newOperatorPassword } from '../http/security/operator-credentials.js'
import { newWebhookSecret } from '../http/security/webhook-signature.js'

/** The credentials a stack's API instances are started with: fresh for every `pnpm demo`, test and load run. */
export interface StackSecrets {
  /** HTTP Basic for `/admin`, bull-board's actions included. */
  operator: BasicCredential
  /** HTTP Basic for `/admin`, read-only. */
  viewer: BasicCredential
  /** What the calendar provider signs its webhooks with. */
  webhookSecret: string
}

export function newStackSecrets(): StackSecrets {
  return {
    operator: { username: 'operator', password: newOperatorPassword() },
    viewer: { username: 'viewer', password: newOperatorPassword() },
    webhookSecret: newWebhookSecret(),
  }
}

/** The API's environment variables for `secrets`. */
export function secretsEnv(secrets: StackSecrets): NodeJS.ProcessEnv {
  return {
    ADMIN_OPERATOR_PASSWORD: secrets.operator.password,
    ADMIN_VIEWER_PASSWORD: secrets.viewer.password,
    WEBHOOK_SECRET: secrets.webhookSecret,
  }
}
