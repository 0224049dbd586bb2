//! Reusable pieces of the views: a list that builds only the rows in view, and forms.

pub mod form;
pub mod list;
