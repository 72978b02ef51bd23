//! One module per REST resource.

pub mod compute;
pub mod debug;
pub mod iam_roles;
pub mod iam_users;
pub mod system;
pub mod tasks;
