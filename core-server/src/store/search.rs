//! Text search in lists: a case-insensitive "contains" over text columns.

use sea_orm::sea_query::{Expr, Func, LikeExpr};

/// The `LIKE` pattern matching text that contains `search`, ignoring case, to compare
/// with a lowered column ([`lower`]). `_` and `%` are searched for as text, not as
/// wildcards.
pub fn contains(search: &str) -> LikeExpr {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// `LOWER(column)`, for [`contains`].
pub fn lower(column: impl Into<Expr>) -> Expr {
    Expr::expr(Func::lower(column.into()))
}
