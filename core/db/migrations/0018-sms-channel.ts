import { Migration } from '@mikro-orm/migrations';

/**
 * The SMS channel, for the fallback engine's last step (activities/channels/sms/fallback.ts):
 * - `sms_settings`: one SMS provider per tenant (Twilio's Programmable Messaging API, or any provider that speaks
 *   it at another base URL). The auth token is sealed with the SecretBox, like line tokens; only its last four
 *   characters are kept in clear, for display.
 * - `message_attempts.channel`: which channel an attempt went by. An SMS attempt has no line; its
 *   phone_number_id holds the SMS sender (a number, or a messaging service SID).
 */
export class Migration0018SmsChannel extends Migration {
  async up(): Promise<void> {
    this.addSql(`create table sms_settings (
      tenant_id uuid primary key references tenants(id) on delete cascade,
      provider text not null default 'twilio' check (provider in ('twilio')),
      account_sid text not null,
      auth_token_sealed text not null,
      auth_token_hint text not null default '',
      from_number text,
      messaging_service_sid text,
      base_url text not null,
      status_callback_url text,
      fallback_enabled boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (from_number is not null or messaging_service_sid is not null))`);
    this.addSql(`alter table message_attempts add column channel text not null default 'whatsapp' check (channel in ('whatsapp', 'sms'))`);
    // Status callbacks name the provider's message id.
    this.addSql(`create index message_attempts_sms_provider_id_index on message_attempts (provider_message_id) where channel = 'sms'`);
  }
}
