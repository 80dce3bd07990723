//! A helpdesk's ticket customized fields (`FieldRepo`).
//! Compiled once per backend: see `sql/mod.rs`.

use async_trait::async_trait;
use sqlx::Row;

use super::Meta;
use crate::sql::{id, storable};
use crate::*;

#[async_trait]
impl FieldRepo for Meta {
    async fn create_field(&self, f: &Field) -> Result<()> {
        let mut tx = self.write().await?;
        let n: i64 = sqlx::query(
            "SELECT count(*) AS n FROM ticket_customized_fields WHERE helpdesk_id = $1",
        )
        .bind(&f.helpdesk_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if n >= MAX_FIELDS as i64 {
            return Err(StoreError::Invalid(format!(
                "a helpdesk has at most {MAX_FIELDS} ticket customized fields: delete one first"
            )));
        }
        storable(&[
            &f.key_name,
            &f.display_name,
            &f.position,
            &f.description,
            &f.dropdown_options,
            &f.created_by,
        ])?;
        let done = sqlx::query(
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
        .bind(f.updated_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!(
                "the helpdesk already has a field with key_name {:?}",
                f.key_name
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn field(&self, helpdesk_id: &str, field_id: &str) -> Result<Option<Field>> {
        Ok(sqlx::query_as(
            "SELECT * FROM ticket_customized_fields WHERE field_id = $1 AND helpdesk_id = $2",
        )
        .bind(id(field_id))
        .bind(id(helpdesk_id))
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn fields(&self, helpdesk_id: &str) -> Result<Vec<Field>> {
        Ok(sqlx::query_as(
            "SELECT * FROM ticket_customized_fields WHERE helpdesk_id = $1 ORDER BY seq",
        )
        .bind(id(helpdesk_id))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn update_field(&self, f: &Field) -> Result<bool> {
        storable(&[
            &f.display_name,
            &f.position,
            &f.description,
            &f.dropdown_options,
            &f.updated_by,
        ])?;
        let done = sqlx::query(
            "UPDATE ticket_customized_fields
             SET display_name = $3, position = $4, description = $5, visible = $6,
                 editable = $7, required = $8, dropdown_allow_multiple = $9,
                 dropdown_options = $10, updated_by = $11, updated_at = $12
             WHERE field_id = $1 AND helpdesk_id = $2",
        )
        .bind(&f.field_id)
        .bind(&f.helpdesk_id)
        .bind(&f.display_name)
        .bind(&f.position)
        .bind(&f.description)
        .bind(f.visible)
        .bind(f.editable)
        .bind(f.required)
        .bind(f.dropdown_allow_multiple)
        .bind(&f.dropdown_options)
        .bind(&f.updated_by)
        .bind(f.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_field(&self, helpdesk_id: &str, field_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM ticket_customized_fields WHERE field_id = $1 AND helpdesk_id = $2",
        )
        .bind(id(field_id))
        .bind(id(helpdesk_id))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
