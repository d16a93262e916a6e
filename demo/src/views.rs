//! The demo's views, one module each.

pub mod chat;
pub mod clock;
pub mod counter;
pub mod feed;
pub mod form;
pub mod home;
pub mod todos;
pub mod upload;
