//! What every warden backend shares at run time: values, decoding inputs into slots, the
//! meaning of each operator and statement, the state of a login ([`Txn`]) and the
//! [`Outcome`] it produces.

pub mod builtins;
pub mod collections;
mod config;
mod decode;
mod effects;
mod fault;
mod net;
pub mod ops;
mod outcome;
pub mod scan;
pub mod text;
pub mod timefns;
pub mod trace;
mod txn;
mod value;

pub use config::{Config, ConfigError};
pub use decode::{
    InputError, Inputs, MAX_INPUT_DEPTH, MAX_INPUT_VALUES, check_depth, check_input, check_json_text, decode_slot,
    decode_slots, depth_exceeds, dispose, json_kind,
};
pub use effects::{Applied, StmtFailure, apply};
pub use fault::Fault;
pub use net::{Exchange, NetState, ScriptUse};
pub use ops::Prepared;
pub use outcome::{Cause, Decision, Effect, EffectKind, ErrorInfo, Finished, LogEntry, Outcome, finish, finish_parts};
pub use txn::{ClaimEntry, MAX_LOG_BYTES, MAX_LOGS, NON_INTERACTIVE, Txn, scope_list, starting_scope};
pub use value::{Text, Value};
