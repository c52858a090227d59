//! Seating charts, per tenant and class.

use std::collections::HashMap;

use edu_domain::{TenantId, UserId};

use crate::{DbError, Exec, placeholders};

/// One seat.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Seat {
    /// The student's Microsoft object id.
    pub student_object_id: String,
    /// Row, from 0.
    #[sqlx(rename = "seat_row")]
    pub row: i64,
    /// Column, from 0.
    #[sqlx(rename = "seat_col")]
    pub col: i64,
}

/// The seats of a class.
///
/// # Errors
/// Database errors.
pub async fn for_class(db: impl Exec, tenant: TenantId, class_id: &str) -> Result<Vec<Seat>, DbError> {
    let mut conn = db.acquire().await?;
    Ok(sqlx::query_as(
        "SELECT student_object_id, seat_row, seat_col FROM seating_positions WHERE tenant_id = ? AND class_id = ?
         ORDER BY seat_row, seat_col",
    )
    .bind(tenant.to_string())
    .bind(class_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Replaces the whole chart of a class in one transaction.
///
/// # Errors
/// [`DbError::Conflict`]`("seat")` when two students share a seat; database errors.
pub async fn replace(
    db: impl Exec,
    tenant: TenantId,
    class_id: &str,
    seats: &[Seat],
    by: UserId,
    now: i64,
) -> Result<(), DbError> {
    let mut conn = db.acquire().await?;
    let mut tx = crate::begin(&mut conn).await?;
    sqlx::query("DELETE FROM seating_positions WHERE tenant_id = ? AND class_id = ?")
        .bind(tenant.to_string())
        .bind(class_id)
        .execute(&mut *tx)
        .await?;
    for s in seats {
        sqlx::query(
            "INSERT INTO seating_positions (tenant_id, class_id, student_object_id, seat_row, seat_col, updated_by, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant.to_string())
        .bind(class_id)
        .bind(&s.student_object_id)
        .bind(s.row)
        .bind(s.col)
        .bind(by.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| DbError::unique_as(e, "seat"))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Favourite colours of the people with these Microsoft object ids in a tenant.
///
/// # Errors
/// Database errors.
pub async fn colors(
    db: impl Exec,
    tenant: TenantId,
    object_ids: &[String],
) -> Result<HashMap<String, String>, DbError> {
    let mut conn = db.acquire().await?;
    let mut out = HashMap::new();
    // Bounded IN lists (bound parameters only, never formatted values).
    for chunk in object_ids.chunks(200) {
        let sql = format!(
            "SELECT e.ms_object_id, u.favorite_color FROM external_identities e JOIN users u ON u.id = e.user_id
             WHERE e.tenant_id = ? AND u.favorite_color IS NOT NULL AND e.ms_object_id IN ({})",
            placeholders(chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(tenant.to_string());
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
