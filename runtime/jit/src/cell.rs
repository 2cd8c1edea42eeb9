//! How values look to generated code: a [`Cell`] of three machine words.
//!
//! | tag | meaning | `a` | `b` |
//! |---|---|---|---|
//! | 0 | null (missing) | | |
//! | 1 | bool | 0 or 1 | |
//! | 2 | int | the value | |
//! | 3 | float | the bits | |
//! | 4 | string | pointer to UTF-8 bytes | length |
//! | 5 | list or object | pointer to a `Value` | |
//!
//! Static types bound the tags an expression can have: a `string` expression is 0 or 4, a
//! `bool` 0 or 1, an `int` 0 or 2; `float` may be 0, 2 or 3; `any` may be anything. Pointers
//! stay valid for one execution: they point into values the execution keeps alive
//! ([`Arena`]).

use warden_runtime::Value;

pub const NULL: u64 = 0;
pub const BOOL: u64 = 1;
pub const INT: u64 = 2;
pub const FLOAT: u64 = 3;
pub const STR: u64 = 4;
pub const VAL: u64 = 5;

/// Bytes per cell; offsets of its words.
pub const SIZE: i32 = 24;
pub const TAG: i32 = 0;
pub const A: i32 = 8;
pub const B: i32 = 16;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub tag: u64,
    pub a: u64,
    pub b: u64,
}

/// Values an execution must keep alive because cells point into them.
#[derive(Debug, Default)]
pub struct Arena {
    // Boxed on purpose: cells point at these values, which must not move when the vector grows.
    #[allow(clippy::vec_box)]
    values: Vec<Box<Value>>,
    strings: Vec<String>,
    /// Lists comprehensions are building, by handle.
    builders: Vec<Vec<Value>>,
}

impl Arena {
    /// The cell for a value; strings, lists and objects stay alive in the arena.
    pub fn cell(&mut self, v: Value) -> Cell {
        match v {
            Value::Null => Cell::default(),
            Value::Bool(b) => Cell { tag: BOOL, a: u64::from(b), b: 0 },
            Value::Int(i) => Cell { tag: INT, a: i as u64, b: 0 },
            Value::Float(f) => Cell { tag: FLOAT, a: f.to_bits(), b: 0 },
            Value::Str(s) => {
                let c = Cell { tag: STR, a: s.as_ptr() as u64, b: s.len() as u64 };
                self.values.push(Box::new(Value::Str(s)));
                c
            }
            other => {
                let boxed = Box::new(other);
                let c = Cell { tag: VAL, a: &*boxed as *const Value as u64, b: 0 };
                self.values.push(boxed);
                c
            }
        }
    }

    /// The cell for a computed string (its buffer does not move when the arena grows).
    pub fn str_cell(&mut self, s: String) -> Cell {
        let c = Cell { tag: STR, a: s.as_ptr() as u64, b: s.len() as u64 };
        self.strings.push(s);
        c
    }

    /// A new, empty list under construction; returns its handle.
    pub fn builder(&mut self) -> u64 {
        self.builders.push(Vec::new());
        (self.builders.len() - 1) as u64
    }

    /// Appends to the list under construction `b` (an unknown handle is ignored).
    pub fn push(&mut self, b: u64, v: Value) {
        if let Some(list) = self.builders.get_mut(b as usize) {
            list.push(v);
        }
    }

    /// Takes the list built under `b` (empty for an unknown handle).
    pub fn finish(&mut self, b: u64) -> Vec<Value> {
        self.builders.get_mut(b as usize).map(std::mem::take).unwrap_or_default()
    }

    /// Keeps a value alive until the execution ends (slots replaced by a refresh).
    pub fn keep(&mut self, v: Value) {
        self.values.push(Box::new(v));
    }
}
