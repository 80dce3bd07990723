//! The insert of each table's rows for `TransferRepo::import` (`migrate`,
//! `backup restore`): a row goes in unless it is there. Compiled once per
//! backend: see `sql/mod.rs`.

use super::Db;
use crate::records::*;
use crate::*;

/// Inserts one row of any table unless it is there; 1 or 0.
pub(super) async fn import_one(
    tx: &mut sqlx::Transaction<'static, Db>,
    record: &Record,
) -> Result<u64> {
    let done = match record {
        Record::ServerKey(r) => sqlx::query(
            "INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.name)
        .bind(&r.value)
        .bind(r.created_at),
        Record::Tenant(r) => sqlx::query(
            "INSERT INTO tenants (tenant_key, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(r.created_at),
        Record::App(r) => sqlx::query(
            "INSERT INTO apps (app_id, tenant_key, name, kind, scopes, secret_sha256,
                               tokens_not_before, disabled_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&r.app_id)
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.scopes)
        .bind(&r.secret_sha256)
        .bind(r.tokens_not_before)
        .bind(r.disabled_at)
        .bind(r.created_at),
        Record::Helpdesk(r) => sqlx::query(
            "INSERT INTO helpdesks (helpdesk_id, tenant_key, name, token_sha256, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&r.helpdesk_id)
        .bind(&r.tenant_key)
        .bind(&r.name)
        .bind(&r.token_sha256)
        .bind(r.created_at),
        Record::Blob(r) => sqlx::query(
            "INSERT INTO blobs (sha256, size, content_type, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(r.created_at),
        Record::Image(r) => sqlx::query(
            "INSERT INTO images (image_key, tenant_key, sha256, size, content_type, file_name,
                                 deleted_at, created_at, app_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&r.image_key)
        .bind(&r.tenant_key)
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(&r.file_name)
        .bind(r.deleted_at)
        .bind(r.created_at)
        .bind(&r.app_id),
        Record::Category(c) => sqlx::query(
            "INSERT INTO categories (category_id, helpdesk_id, name, parent_id, language,
                                     created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&c.category_id)
        .bind(&c.helpdesk_id)
        .bind(&c.name)
        .bind(&c.parent_id)
        .bind(&c.language)
        .bind(c.created_at)
        .bind(c.updated_at),
        Record::Faq(f) => sqlx::query(
            "INSERT INTO faqs (faq_id, helpdesk_id, question, answer, answer_richtext,
                               category_ids, tags, status, create_user, update_user,
                               create_time, update_time, search_grams)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT DO NOTHING",
        )
        .bind(&f.faq_id)
        .bind(&f.helpdesk_id)
        .bind(&f.question)
        .bind(&f.answer)
        .bind(&f.answer_richtext)
        .bind(&f.category_ids)
        .bind(&f.tags)
        .bind(f.status)
        .bind(&f.create_user)
        .bind(&f.update_user)
        .bind(f.create_time)
        .bind(f.update_time)
        .bind(&f.search_grams),
        Record::FaqImage(r) => sqlx::query(
            "INSERT INTO faq_images (faq_id, image_key, idx) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.faq_id)
        .bind(&r.image_key)
        .bind(r.idx),
        Record::BotMessage(m) => sqlx::query(
            "INSERT INTO bot_messages (message_id, app_id, tenant_key, receiver_id, msg_type,
                                       content, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&m.message_id)
        .bind(&m.app_id)
        .bind(&m.tenant_key)
        .bind(&m.receiver_id)
        .bind(&m.msg_type)
        .bind(&m.content)
        .bind(m.created_at),
        Record::TenantPolicy(r) => sqlx::query(
            "INSERT INTO tenant_policies (tenant_key, max_bytes, retain_secs, updated_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.tenant_key)
        .bind(r.max_bytes)
        .bind(r.retain_secs)
        .bind(r.updated_at),
        Record::Quarantine(r) => sqlx::query(
            "INSERT INTO quarantine (sha256, signature, engine, quarantined_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.sha256)
        .bind(&r.signature)
        .bind(&r.engine)
        .bind(r.quarantined_at),
        Record::Audit(r) => sqlx::query(
            "INSERT INTO audit (id, at, actor, action, tenant_key, target, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&r.id)
        .bind(r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.tenant_key)
        .bind(&r.target)
        .bind(&r.detail),
        Record::User(r) => sqlx::query(
            "INSERT INTO users (tenant_key, open_id, name, email, avatar_url, department, city,
                                country, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(&r.tenant_key)
        .bind(&r.open_id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(&r.avatar_url)
        .bind(&r.department)
        .bind(&r.city)
        .bind(&r.country)
        .bind(r.created_at),
        Record::Agent(r) => sqlx::query(
            "INSERT INTO agents (agent_id, helpdesk_id, disabled_at, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.agent_id)
        .bind(&r.helpdesk_id)
        .bind(r.disabled_at)
        .bind(r.created_at),
        Record::Field(f) => sqlx::query(
            "INSERT INTO ticket_customized_fields
                 (field_id, helpdesk_id, key_name, display_name, position, field_type,
                  description, visible, editable, required, dropdown_allow_multiple,
                  dropdown_options, created_by, updated_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT DO NOTHING",
        )
        .bind(&f.field_id)
        .bind(&f.helpdesk_id)
        .bind(&f.key_name)
        .bind(&f.display_name)
        .bind(&f.position)
        .bind(&f.field_type)
        .bind(&f.description)
        .bind(f.visible)
        .bind(f.editable)
        .bind(f.required)
        .bind(f.dropdown_allow_multiple)
        .bind(&f.dropdown_options)
        .bind(&f.created_by)
        .bind(&f.updated_by)
        .bind(f.created_at)
        .bind(f.updated_at),
        Record::Ticket(r) => sqlx::query(
            "INSERT INTO tickets (ticket_id, helpdesk_id, chat_id, guest_open_id, human_service,
                                  customized_info, status, created_at, updated_at, closed_at,
                                  closed_by, solved, channel, score, agent_ids, tags, comment,
                                  field_values, agent_entry_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19)
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.ticket_id)
        .bind(&r.helpdesk_id)
        .bind(&r.chat_id)
        .bind(&r.guest_open_id)
        .bind(r.human_service)
        .bind(&r.customized_info)
        .bind(r.status)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.closed_at)
        .bind(&r.closed_by)
        .bind(r.solved)
        .bind(r.channel)
        .bind(r.score)
        .bind(&r.agent_ids)
        .bind(&r.tags)
        .bind(&r.comment)
        .bind(&r.field_values)
        .bind(r.agent_entry_at),
        Record::Message(r) => sqlx::query(
            "INSERT INTO messages (id, message_id, ticket_id, message_type, content, image_count,
                                   user_id, user_name, avatar_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&r.id)
        .bind(&r.message_id)
        .bind(&r.ticket_id)
        .bind(&r.message_type)
        .bind(&r.content)
        .bind(r.image_count)
        .bind(&r.user_id)
        .bind(&r.user_name)
        .bind(&r.avatar_url)
        .bind(r.created_at),
        Record::MessageImage(r) => sqlx::query(
            "INSERT INTO message_images (message_pk, idx, image_key, sha256, size, content_type,
                                         file_name, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&r.message_pk)
        .bind(r.idx)
        .bind(&r.image_key)
        .bind(&r.sha256)
        .bind(r.size)
        .bind(&r.content_type)
        .bind(&r.file_name)
        .bind(r.deleted_at),
        Record::EventConfig(r) => sqlx::query(
            "INSERT INTO event_configs (app_id, url, encrypt_key, verification_token, updated_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&r.app_id)
        .bind(&r.url)
        .bind(&r.encrypt_key)
        .bind(&r.verification_token)
        .bind(r.updated_at),
        Record::EventSubscription(r) => sqlx::query(
            "INSERT INTO event_subscriptions (app_id, helpdesk_id, event_type, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&r.app_id)
        .bind(&r.helpdesk_id)
        .bind(&r.event_type)
        .bind(r.created_at),
        // A new sequence number, in export order: the order per ticket holds.
        Record::Event(r) => sqlx::query(
            "INSERT INTO events (event_id, app_id, ticket_id, event_type, body, created_at,
                                 attempts, next_attempt_at, delivered_at, failed_at, last_error,
                                 attempts_total)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(&r.event_id)
        .bind(&r.app_id)
        .bind(&r.ticket_id)
        .bind(&r.event_type)
        .bind(&r.body)
        .bind(r.created_at)
        .bind(r.attempts)
        .bind(r.next_attempt_at)
        .bind(r.delivered_at)
        .bind(r.failed_at)
        .bind(&r.last_error)
        .bind(r.attempts_total),
        Record::EventAttempt(r) => sqlx::query(
            "INSERT INTO event_attempts (event_id, attempt, started_at, duration_ms,
                                         request_headers, status, response_headers,
                                         response_body, body_truncated, error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&r.event_id)
        .bind(r.attempt)
        .bind(r.started_at)
        .bind(r.duration_ms)
        .bind(&r.request_headers)
        .bind(r.status)
        .bind(&r.response_headers)
        .bind(&r.response_body)
        .bind(r.body_truncated)
        .bind(&r.error),
    }
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
