//! JavaScript habits the checker sees, with the `.rule` spelling to suggest (the parser's
//! are in `warden_syntax`'s `hints`): `x.length` on a string or a list, `undefined`,
//! `typeof(x)`. Each only words the help of an error the checker reports anyway.

use crate::schema::CTy;

/// The help for reading `field` from `base` (shown as `shown`), a value of type `ty` that has
/// no fields, when it is a JavaScript habit. Data typed `any` never gets here: `x.length` is
/// a field read there.
pub(super) fn field(shown: &str, field: &str, ty: &CTy) -> Option<String> {
    let what = match ty {
        CTy::List(_) => "a list",
        t if t.is_str() => "a string",
        _ => return None,
    };
    (field == "length").then(|| format!("`{shown}` is {what}: its length is `len({shown})`"))
}

/// The help for an unknown name that is a JavaScript habit.
pub(super) fn name(name: &str) -> Option<&'static str> {
    (name == "undefined").then_some("a missing value is `null` in rules: test for it with `x == null`")
}

/// The help for an unknown function that is a JavaScript habit.
pub(super) fn function(name: &str) -> Option<&'static str> {
    (name == "typeof")
        .then_some("types are checked when the rule is compiled; test for a missing value with `x == null`")
}
