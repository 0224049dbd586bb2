//! Reusable pieces of the views: a list that builds only the rows in view, forms, a
//! multi-line editor, and the toast of a live notification.

pub mod confirm;
pub mod editor;
pub mod form;
pub mod list;
pub mod toast;
