//! Reading the roll-ups: day series with the empty days filled in, and every series of
//! a report as CSV.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{Metric, Range, Scope};
use crate::api::{DayCount, SeriesPoint};
use crate::error::ApiError;
use crate::store::entity::daily_stat;

/// Which rows of one scope to read: by subject or by object.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Subjects(&'a [Uuid]),
    Objects(&'a [Uuid]),
}

/// The rows of `scope` for `key` and `metrics` in `range`.
pub async fn rows(
    db: &impl ConnectionTrait,
    scope: Scope,
    key: Key<'_>,
    metrics: &[Metric],
    range: Range,
) -> Result<Vec<daily_stat::Model>, DbErr> {
    let ids = match key {
        Key::Subjects(ids) | Key::Objects(ids) => ids,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        let mut select = daily_stat::Entity::find()
            .filter(daily_stat::Column::Scope.eq(scope.as_str()))
            .filter(daily_stat::Column::Day.gte(range.since))
            .filter(daily_stat::Column::Day.lte(range.until))
            .filter(daily_stat::Column::Metric.is_in(metrics.iter().map(|m| m.as_str())));
        select = match key {
            Key::Subjects(_) => select.filter(daily_stat::Column::Subject.is_in(chunk.to_vec())),
            Key::Objects(_) => select.filter(daily_stat::Column::Object.is_in(chunk.to_vec())),
        };
        found.extend(select.all(db).await?);
    }
    Ok(found)
}

/// The school's rows of `metrics` in `range`.
pub async fn school(
    db: &impl ConnectionTrait,
    metrics: &[Metric],
    range: Range,
) -> Result<Vec<daily_stat::Model>, DbErr> {
    rows(
        db,
        Scope::School,
        Key::Subjects(&[Uuid::nil()]),
        metrics,
        range,
    )
    .await
}

/// `metric`'s values summed per day over `rows`, every day of `range` present.
pub fn daily(rows: &[daily_stat::Model], metric: Metric, range: Range) -> Vec<SeriesPoint> {
    let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.metric == metric.as_str()) {
        *by_day.entry(row.day).or_default() += row.value;
    }
    fill(range, &by_day)
}

/// Every day of `range` with its value in `by_day`, 0 where it has none.
pub fn fill(range: Range, by_day: &BTreeMap<NaiveDate, i64>) -> Vec<SeriesPoint> {
    range
        .days()
        .map(|date| SeriesPoint {
            date,
            value: by_day.get(&date).copied().unwrap_or(0),
        })
        .collect()
}

/// `metric`'s total over `rows`.
pub fn total(rows: &[daily_stat::Model], metric: Metric) -> i64 {
    rows.iter()
        .filter(|r| r.metric == metric.as_str())
        .map(|r| r.value)
        .sum()
}

/// A series as the contract's `{ date, count }`.
pub fn counts(points: &[SeriesPoint]) -> Vec<DayCount> {
    points
        .iter()
        .map(|p| DayCount {
            date: p.date,
            count: p.value,
        })
        .collect()
}

/// Named series as a CSV of `series,date,value` (names escaped against formulas).
pub fn csv(series: &[(String, Vec<SeriesPoint>)]) -> Result<String, ApiError> {
    let io = |e: csv::Error| ApiError::Internal(e.into());
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["series", "date", "value"]).map_err(io)?;
    for (name, points) in series {
        let name = if name.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{name}")
        } else {
            name.clone()
        };
        for point in points {
            out.write_record([
                name.clone(),
                point.date.to_string(),
                point.value.to_string(),
            ])
            .map_err(io)?;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.into()))
}
