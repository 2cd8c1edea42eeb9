//! `warden migrate`: from an Auth0 export to a warden project (`import`), and from legacy
//! JavaScript rules to checked `.rule` files, each proven equal to its JavaScript on
//! generated logins before it is written (`translate`, `verify`). docs/migrating.md is the
//! user's guide; ARCHITECTURE.md ("Migration") the design.

pub mod project;
pub mod prove;
pub mod translate;

pub use translate::{Refusal, Translation, translate};
