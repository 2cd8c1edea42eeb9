//! The collection built-ins: `unique`, `sort`, `first`, `last`, `count`, `sum`, `min`, `max`,
//! `keys`, `values`, `union`, `intersect`, `difference` (docs/language.md, "Collections").
//!
//! Each takes its arguments already unwrapped (a missing argument gives missing before these
//! are called) and returns the value or a [`Failure`]: the index of the offending argument and
//! the message. Equality is [`Value::equals`] (`1 == 1.0`); the functions that remove
//! duplicates hash values first, so that 100,000-item lists take linear time, not quadratic.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::Value;
use crate::builtins::Failure;
use crate::text::MAX_BUILT_ITEMS;

/// `unique(list)`: the first occurrence of each item, in order.
pub fn unique(list: &[Value]) -> Result<Value, Failure> {
    let mut seen = Seen::default();
    let kept = list.iter().filter(|v| seen.insert(v)).cloned().collect();
    built("unique", kept)
}

/// `sort(list)`: ascending and stable; all numbers (ints and floats compared by value) or all
/// strings (by code points).
pub fn sort(list: &[Value]) -> Result<Value, Failure> {
    same_kind("sort", list)?;
    let mut sorted = list.to_vec();
    sorted.sort_by(order);
    built("sort", sorted)
}

/// `first(list)`: missing for an empty list.
pub fn first(list: &[Value]) -> Result<Value, Failure> {
    Ok(list.first().cloned().unwrap_or_default())
}

/// `last(list)`: missing for an empty list.
pub fn last(list: &[Value]) -> Result<Value, Failure> {
    Ok(list.last().cloned().unwrap_or_default())
}

/// `count(list, element)`: how many items equal `element`.
pub fn count(list: &[Value], element: &Value) -> Result<Value, Failure> {
    Ok(Value::Int(list.iter().filter(|v| v.equals(element)).count() as i64))
}

/// `sum(list)`: an int when every item is one (overflow is an error), else a float (a result
/// that is not finite is an error); 0 for an empty list.
pub fn sum(list: &[Value]) -> Result<Value, Failure> {
    let mut floats = false;
    for v in list {
        match v {
            Value::Int(_) => {}
            Value::Float(_) => floats = true,
            other => return Err((0, format!("sum() needs a list of numbers, found {} in it", other.describe()))),
        }
    }
    if floats {
        let total: f64 = list.iter().filter_map(Value::as_f64).sum();
        if !total.is_finite() {
            return Err((0, "arithmetic overflow in sum()".into()));
        }
        return Ok(Value::Float(total));
    }
    let mut total: i64 = 0;
    for v in list {
        if let Value::Int(i) = v {
            total = total.checked_add(*i).ok_or((0, "integer overflow in sum()".to_string()))?;
        }
    }
    Ok(Value::Int(total))
}

/// `min(list)`: the least item (the first of equal ones); all numbers or all strings;
/// missing for an empty list.
pub fn min(list: &[Value]) -> Result<Value, Failure> {
    same_kind("min", list)?;
    Ok(list.iter().reduce(|a, b| if order(b, a) == Ordering::Less { b } else { a }).cloned().unwrap_or_default())
}

/// `max(list)`: the greatest item (the first of equal ones); all numbers or all strings;
/// missing for an empty list.
pub fn max(list: &[Value]) -> Result<Value, Failure> {
    same_kind("max", list)?;
    Ok(list.iter().reduce(|a, b| if order(b, a) == Ordering::Greater { b } else { a }).cloned().unwrap_or_default())
}

/// `keys(object)`: the names of its members, in input order.
pub fn keys(object: &IndexMap<String, Value>) -> Result<Value, Failure> {
    built("keys", object.keys().map(|k| Value::str(k)).collect())
}

/// `values(object)`: the values of its members, in input order.
pub fn values(object: &IndexMap<String, Value>) -> Result<Value, Failure> {
    built("values", object.values().cloned().collect())
}

/// `union(a, b)`: the items of `a`, then those of `b`, without duplicates.
pub fn union(a: &[Value], b: &[Value]) -> Result<Value, Failure> {
    let mut seen = Seen::default();
    let mut kept = Vec::new();
    for v in a.iter().chain(b) {
        if seen.insert(v) {
            if kept.len() == MAX_BUILT_ITEMS {
                return Err(too_long("union"));
            }
            kept.push(v.clone());
        }
    }
    built("union", kept)
}

/// `intersect(a, b)`: the items of `a` that are in `b`, without duplicates.
pub fn intersect(a: &[Value], b: &[Value]) -> Result<Value, Failure> {
    keep_of_a("intersect", a, b, true)
}

/// `difference(a, b)`: the items of `a` that are not in `b`, without duplicates.
pub fn difference(a: &[Value], b: &[Value]) -> Result<Value, Failure> {
    keep_of_a("difference", a, b, false)
}

/// The first occurrence of each item of `a` that is (`in_b`) or is not in `b`.
fn keep_of_a(name: &str, a: &[Value], b: &[Value], in_b: bool) -> Result<Value, Failure> {
    let mut of_b = Seen::default();
    for v in b {
        of_b.insert(v);
    }
    let mut seen = Seen::default();
    let kept = a.iter().filter(|v| of_b.contains(v) == in_b && seen.insert(v)).cloned().collect();
    built(name, kept)
}

/// A list a built-in made, or the error when it holds too many items.
fn built(name: &str, items: Vec<Value>) -> Result<Value, Failure> {
    if items.len() > MAX_BUILT_ITEMS {
        return Err(too_long(name));
    }
    Ok(Value::List(Arc::new(items)))
}

fn too_long(name: &str) -> Failure {
    (crate::builtins::AT_CALL, format!("the result of {name}() would exceed 100,000 items"))
}

/// Checks that `list` holds only numbers or only strings, which [`order`] orders.
fn same_kind(name: &str, list: &[Value]) -> Result<(), Failure> {
    let kind = |v: &Value| match v {
        Value::Int(_) | Value::Float(_) => Some(true),
        Value::Str(_) => Some(false),
        _ => None,
    };
    let Some(head) = list.first() else { return Ok(()) };
    let Some(v) = list.iter().find(|v| kind(v) != kind(head) || kind(v).is_none()) else { return Ok(()) };
    let found = match kind(v) {
        None => v.describe().to_string(),
        Some(_) => format!("{} and {}", head.describe(), v.describe()),
    };
    Err((0, format!("{name}() needs a list of numbers or of strings, found {found} in it")))
}

/// A total order on numbers (by value, ints against floats exactly) and on strings (code
/// points). Only called on lists [`same_kind`] accepted; anything else compares equal.
fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or_else(|| x.total_cmp(y)),
        (Value::Int(x), Value::Float(y)) => int_float(*x, *y),
        (Value::Float(x), Value::Int(y)) => int_float(*y, *x).reverse(),
        _ => Ordering::Equal,
    }
}

/// An int against a float, exactly (not through a rounding `as f64`, which would make the
/// order inconsistent for ints past 2^53); NaN (which values never hold) sorts by its sign,
/// as `f64::total_cmp` puts it.
fn int_float(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        return if f.is_sign_negative() { Ordering::Greater } else { Ordering::Less };
    }
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // In range, so exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        o => o,
    }
}

/// The values met so far, by hash, for duplicate tests in linear time. Values that are
/// `equals` hash alike (numbers by their `f64` value, objects whatever their order); values
/// with the same hash are then compared with `equals`, so the result is exactly that of
/// comparing each value with every kept one. The hasher's keys are random per set, so input
/// cannot be chosen to collide.
#[derive(Default)]
struct Seen<'a> {
    state: RandomState,
    /// Hash -> the latest kept value with that hash (an index into `kept`).
    heads: HashMap<u64, usize>,
    /// The kept values, each with the index of the previous one with the same hash.
    kept: Vec<(&'a Value, Option<usize>)>,
}

impl<'a> Seen<'a> {
    /// Adds `v` unless it equals a value already there; whether it was added.
    fn insert(&mut self, v: &'a Value) -> bool {
        let hash = self.state.hash_one(Hashed(v, &self.state));
        let head = self.heads.get(&hash).copied();
        if self.chain(head).any(|w| w.equals(v)) {
            return false;
        }
        self.heads.insert(hash, self.kept.len());
        self.kept.push((v, head));
        true
    }

    fn contains(&self, v: &Value) -> bool {
        let hash = self.state.hash_one(Hashed(v, &self.state));
        self.chain(self.heads.get(&hash).copied()).any(|w| w.equals(v))
    }

    fn chain(&self, mut at: Option<usize>) -> impl Iterator<Item = &'a Value> + '_ {
        std::iter::from_fn(move || {
            let (v, next) = *self.kept.get(at?)?;
            at = next;
            Some(v)
        })
    }
}

/// A value hashed consistently with [`Value::equals`] (the state hashes object members).
struct Hashed<'a>(&'a Value, &'a RandomState);

impl Hash for Hashed<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self.0 {
            Value::Null => h.write_u8(0),
            Value::Bool(b) => {
                h.write_u8(1);
                b.hash(h);
            }
            Value::Int(_) | Value::Float(_) => {
                // `equals` compares an int and a float as `f64`s, so hash every number so;
                // ints past 2^53 that round alike share a hash and are told apart by `equals`.
                let f = self.0.as_f64().unwrap_or_default();
                h.write_u8(2);
                h.write_u64(if f == 0.0 { 0 } else { f.to_bits() });
            }
            Value::Str(s) => {
                h.write_u8(3);
                s.as_str().hash(h);
            }
            Value::List(items) => {
                h.write_u8(4);
                h.write_usize(items.len());
                items.iter().for_each(|v| Hashed(v, self.1).hash(h));
            }
            Value::Object(map) => {
                // `equals` ignores the order of members: combine their hashes by a sum.
                let members = map
                    .iter()
                    .fold(0u64, |sum, (k, v)| sum.wrapping_add(self.1.hash_one((k.as_str(), Hashed(v, self.1)))));
                h.write_u8(5);
                h.write_usize(map.len());
                h.write_u64(members);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value as Json, json};

    fn list(items: Json) -> Vec<Value> {
        match Value::from_json(&items) {
            Value::List(items) => items.to_vec(),
            other => vec![other],
        }
    }

    fn j(r: Result<Value, Failure>) -> Result<Json, Failure> {
        r.map(|v| v.to_json())
    }

    fn err(message: &str) -> Result<Json, Failure> {
        Err((0, message.to_string()))
    }

    const TWO_53: i64 = 1 << 53;

    #[test]
    fn unique_keeps_first_occurrences_with_numeric_equality() {
        assert_eq!(j(unique(&[])), Ok(json!([])));
        assert_eq!(j(unique(&list(json!([1, 1.0, "1", 2, 1, "1"])))), Ok(json!([1, "1", 2])));
        assert_eq!(j(unique(&list(json!([2.0, 2])))), Ok(json!([2.0])));
        assert_eq!(j(unique(&list(json!([0, -0.0, 0.0])))), Ok(json!([0])));
        assert_eq!(j(unique(&list(json!([null, true, null, false, true])))), Ok(json!([null, true, false])));
        assert_eq!(j(unique(&list(json!([[1, "a"], [1.0, "a"], ["a", 1]])))), Ok(json!([[1, "a"], ["a", 1]])));
        // Objects are equal whatever the order of their members.
        assert_eq!(
            j(unique(&list(json!([{ "a": 1, "b": [2] }, { "b": [2.0], "a": 1 }, { "a": 1 }])))),
            Ok(json!([{ "a": 1, "b": [2] }, { "a": 1 }]))
        );
        // Ints past 2^53 that round to the same float are still different ints.
        let big = [Value::Int(TWO_53), Value::Int(TWO_53 + 1), Value::Int(TWO_53)];
        assert_eq!(j(unique(&big)), Ok(json!([TWO_53, TWO_53 + 1])));
    }

    #[test]
    fn sort_orders_numbers_by_value_and_strings_by_code_point() {
        assert_eq!(j(sort(&[])), Ok(json!([])));
        assert_eq!(j(sort(&list(json!([3, 1.5, 2, -7, 0.25])))), Ok(json!([-7, 0.25, 1.5, 2, 3])));
        assert_eq!(j(sort(&list(json!(["b", "a", "é", "Z", "ab", ""])))), Ok(json!(["", "Z", "a", "ab", "b", "é"])));
        // Stable: equal numbers keep their order.
        let zeros = sort(&list(json!([1, 0, -0.0, 0.0, 0])));
        assert_eq!(zeros.map(|v| v.to_json().to_string()), Ok("[0,-0.0,0.0,0,1]".to_string()));
        // Ints against floats exactly, past 2^53 and at the ends of i64.
        let mixed = [
            Value::Int(TWO_53 + 1),
            Value::Float(TWO_53 as f64),
            Value::Int(TWO_53),
            Value::Int(i64::MAX),
            Value::Float(9.3e18),
            Value::Int(i64::MIN),
            Value::Float(-9.3e18),
            Value::Float(TWO_53 as f64 + 2.0),
        ];
        assert_eq!(
            j(sort(&mixed)),
            Ok(json!([
                -9.3e18,
                i64::MIN,
                9007199254740992.0,
                TWO_53,
                TWO_53 + 1,
                9007199254740994.0,
                i64::MAX,
                9.3e18
            ]))
        );
    }

    #[test]
    fn sort_refuses_mixed_and_other_items() {
        let needs = "sort() needs a list of numbers or of strings";
        assert_eq!(j(sort(&list(json!(["a", 1])))), err(&format!("{needs}, found a string and an int in it")));
        assert_eq!(j(sort(&list(json!([1.5, "a"])))), err(&format!("{needs}, found a float and a string in it")));
        assert_eq!(j(sort(&list(json!([1, null])))), err(&format!("{needs}, found null in it")));
        assert_eq!(j(sort(&list(json!(["a", {}])))), err(&format!("{needs}, found an object in it")));
        assert_eq!(j(sort(&list(json!([true])))), err(&format!("{needs}, found a bool in it")));
        assert_eq!(j(sort(&list(json!([[1]])))), err(&format!("{needs}, found a list in it")));
    }

    #[test]
    fn first_last_and_count() {
        assert_eq!(j(first(&[])), Ok(Json::Null));
        assert_eq!(j(last(&[])), Ok(Json::Null));
        let items = list(json!([1, "x", 1.0, null]));
        assert_eq!(j(first(&items)), Ok(json!(1)));
        assert_eq!(j(last(&items)), Ok(Json::Null));
        assert_eq!(j(count(&items, &Value::Int(1))), Ok(json!(2)));
        assert_eq!(j(count(&items, &Value::Float(1.0))), Ok(json!(2)));
        assert_eq!(j(count(&items, &Value::str("1"))), Ok(json!(0)));
        assert_eq!(j(count(&[], &Value::Int(1))), Ok(json!(0)));
    }

    #[test]
    fn sum_is_checked() {
        assert_eq!(j(sum(&[])), Ok(json!(0)));
        assert_eq!(j(sum(&list(json!([1, 2, 3])))), Ok(json!(6)));
        assert_eq!(j(sum(&list(json!([1, 2.5])))), Ok(json!(3.5)));
        assert_eq!(j(sum(&list(json!([0.5, 0.5])))), Ok(json!(1.0)));
        assert_eq!(j(sum(&list(json!([i64::MAX, -1, 1])))), Ok(json!(i64::MAX)));
        assert_eq!(j(sum(&list(json!([i64::MAX, 1])))), err("integer overflow in sum()"));
        assert_eq!(j(sum(&list(json!([i64::MIN, -1])))), err("integer overflow in sum()"));
        // With a float anywhere, the sum is a float: no int overflow.
        assert_eq!(j(sum(&list(json!([i64::MAX, 1, 0.5])))), Ok(json!(i64::MAX as f64 + 1.5)));
        assert_eq!(j(sum(&list(json!([1e308, 1e308])))), err("arithmetic overflow in sum()"));
        assert_eq!(j(sum(&list(json!([1, "2"])))), err("sum() needs a list of numbers, found a string in it"));
        assert_eq!(j(sum(&list(json!([1, null])))), err("sum() needs a list of numbers, found null in it"));
    }

    #[test]
    fn min_and_max() {
        assert_eq!(j(min(&[])), Ok(Json::Null));
        assert_eq!(j(max(&[])), Ok(Json::Null));
        let numbers = list(json!([3, 1.5, 2, 3.0, 1.5]));
        assert_eq!(j(min(&numbers)), Ok(json!(1.5)));
        assert_eq!(j(max(&numbers)), Ok(json!(3)));
        // The first of equal items.
        assert_eq!(j(min(&list(json!([1.0, 1])))), Ok(json!(1.0)));
        assert_eq!(j(max(&list(json!([1, 1.0])))), Ok(json!(1)));
        assert_eq!(j(min(&list(json!(["b", "a", "c"])))), Ok(json!("a")));
        assert_eq!(j(max(&list(json!(["b", "é", "z"])))), Ok(json!("é")));
        assert_eq!(
            j(max(&list(json!(["a", 1])))),
            err("max() needs a list of numbers or of strings, found a string and an int in it")
        );
        assert_eq!(j(min(&list(json!([null])))), err("min() needs a list of numbers or of strings, found null in it"));
    }

    #[test]
    fn keys_and_values_in_input_order() {
        let Value::Object(object) = Value::from_json(&json!({ "z": 1, "a": [2], "m": null })) else {
            unreachable!("an object")
        };
        assert_eq!(j(keys(&object)), Ok(json!(["z", "a", "m"])));
        assert_eq!(j(values(&object)), Ok(json!([1, [2], null])));
        assert_eq!(j(keys(&IndexMap::new())), Ok(json!([])));
        assert_eq!(j(values(&IndexMap::new())), Ok(json!([])));
    }

    #[test]
    fn set_operations_keep_the_order_of_a() {
        let a = list(json!(["x", 1, "y", "x", 2.0, "z"]));
        let b = list(json!(["z", 2, "w", "z", 1.5]));
        assert_eq!(j(union(&a, &b)), Ok(json!(["x", 1, "y", 2.0, "z", "w", 1.5])));
        assert_eq!(j(intersect(&a, &b)), Ok(json!([2.0, "z"])));
        assert_eq!(j(difference(&a, &b)), Ok(json!(["x", 1, "y"])));
        assert_eq!(j(union(&[], &[])), Ok(json!([])));
        assert_eq!(j(union(&[], &b)), Ok(json!(["z", 2, "w", 1.5])));
        assert_eq!(j(intersect(&a, &[])), Ok(json!([])));
        assert_eq!(j(intersect(&[], &b)), Ok(json!([])));
        assert_eq!(j(difference(&a, &[])), Ok(json!(["x", 1, "y", 2.0, "z"])));
        assert_eq!(j(difference(&[], &b)), Ok(json!([])));
        // Any values, numbers by value.
        let a = list(json!([{ "id": 1 }, [1], null, true]));
        let b = list(json!([{ "id": 1.0 }, null]));
        assert_eq!(j(intersect(&a, &b)), Ok(json!([{ "id": 1 }, null])));
        assert_eq!(j(difference(&a, &b)), Ok(json!([[1], true])));
    }

    fn strings(range: std::ops::Range<usize>) -> Vec<Value> {
        range.map(|i| Value::str(&format!("user-{i}@example.com"))).collect()
    }

    /// 100,000-item lists take linear time (quadratic would be 10^10 comparisons).
    #[test]
    fn big_lists_are_fast() {
        let mut a = strings(0..50_000);
        a.extend(strings(0..50_000));
        let r = unique(&a);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 50_000), "{:?}", r.map(|_| ()));
        let b = strings(25_000..100_000);
        let r = union(&a, &b);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 100_000), "{:?}", r.map(|_| ()));
        let r = intersect(&a, &b);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 25_000), "{:?}", r.map(|_| ()));
        let r = difference(&b, &a);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 50_000), "{:?}", r.map(|_| ()));
        let numbers: Vec<Value> = (0..100_000).map(|i| Value::Float(f64::from(i % 1000))).collect();
        let r = unique(&numbers);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 1000), "{:?}", r.map(|_| ()));
        let r = sort(&b);
        assert!(matches!(&r, Ok(Value::List(items)) if items.len() == 75_000), "{:?}", r.map(|_| ()));
    }

    #[test]
    fn built_lists_are_limited() {
        let a = strings(0..60_000);
        let b = strings(60_000..120_000);
        assert_eq!(
            j(union(&a, &b)),
            Err((crate::builtins::AT_CALL, "the result of union() would exceed 100,000 items".to_string()))
        );
        let long = strings(0..100_001);
        assert_eq!(
            j(unique(&long)),
            Err((crate::builtins::AT_CALL, "the result of unique() would exceed 100,000 items".to_string()))
        );
        assert_eq!(
            j(sort(&long)),
            Err((crate::builtins::AT_CALL, "the result of sort() would exceed 100,000 items".to_string()))
        );
        assert_eq!(
            j(difference(&long, &[])),
            Err((crate::builtins::AT_CALL, "the result of difference() would exceed 100,000 items".to_string()))
        );
        assert!(matches!(first(&long), Ok(Value::Str(_))));
    }
}
