//! Every diagnostic code, one constant each, with what it means. Codes are stable: tools and
//! people match on them, and `docs/diagnostics.md` documents each one ([`ALL`] is checked
//! against it). `E` codes are errors (the pipeline does not load), `W` codes warnings.

/// Declares each code as a constant whose value is its name, and [`ALL`].
macro_rules! codes {
    ($($code:ident: $what:literal,)*) => {
        $(
            #[doc = $what]
            pub const $code: &str = stringify!($code);
        )*

        /// Every code with what it means, in order.
        pub const ALL: &[(&str, &str)] = &[$((stringify!($code), $what)),*];
    };
}

codes! {
    // Syntax (E00xx).
    E0001: "A syntax error: what was expected and what was found.",
    E0002: "Nesting deeper than 64 levels, lists built more than 64 deep, or a path of more than 64 fields.",
    E0003: "An integer literal that does not fit in 64 bits.",
    E0004: "An interpolation where a plain string is required.",
    E0005: "A `\\u{...}` escape that is not a Unicode scalar value.",
    E0006: "A rule spanning more than 1 MiB of text.",
    // Checking (E01xx).
    E0100: "An unknown field.",
    E0101: "An unknown name.",
    E0102: "An unknown function.",
    E0103: "A wrong number of arguments (or of values for `scope set`).",
    E0104: "A type mismatch.",
    E0105: "A condition that is not a bool.",
    E0106: "A comparison or membership test between types that can never match.",
    E0107: "A duplicate rule name in the pipeline.",
    E0108: "A write to a read-only place.",
    E0109: "A statement unreachable after an unconditional `deny`.",
    E0110: "An unknown `config` key, or `config` used whole.",
    E0111: "A name defined twice in a rule, a reserved name, or `let` with `if`/`unless`.",
    E0112: "`list()` outside `in`/`not in`/`ip_in()`.",
    E0113: "A `list()` file that cannot be read.",
    E0114: "A regular expression that does not compile.",
    E0115: "An invalid network in `ip_in()`.",
    E0116: "An argument that must be a literal (a regex, networks, a list file name).",
    E0117: "An invalid metadata key.",
    E0118: "A claim name that is empty or interpolated.",
    E0119: "`when` inside a block, or with `if`/`unless`.",
    E0120: "A field read from something that has no fields.",
    E0121: "An unknown MFA option.",
    E0122: "An empty rule name.",
    E0123: "`set`/`unset` of the whole `user`.",
    E0124: "A key written twice in an object literal.",
    E0125: "A `format()` template whose placeholders do not match its values, or a literal argument out of its set (an encoding, a time zone).",
    // Manifest and files (E02xx).
    E0200: "A `warden.toml` that is not valid, or a limit out of range.",
    E0201: "A manifest, rule or module file that cannot be read.",
    E0202: "A `[schema]` entry for an object that is not declarable.",
    E0203: "An invalid type in a `[schema]` declaration.",
    E0204: "A pipeline entry that is neither `.rule` nor `.js`.",
    E0205: "A `[configuration]` entry with an unknown type, or a value that does not fit its type.",
    // Test files (E03xx), from `warden test`.
    E0300: "A test file that cannot be read or is not valid.",
    E0301: "A test file's pipeline that checks but does not load.",
    // JavaScript rules (E04xx, W04xx).
    E0400: "A JavaScript rule that does not compile, or is not one function expression.",
    E0401: "npm packages under `node_modules` that cannot be included: over the limits, a `package.json` that is not valid, a path leading outside the project, an ES module.",
    W0400: "A literal `require('name')` that no module answers.",
    // Internal (E09xx).
    E0900: "The checker produced a program that does not pass `Program::validate` (a bug in warden).",
    // Warnings (W0xxx).
    W0001: "A claim Auth0 restricts or that is under an Auth0 namespace: it will be dropped.",
    W0002: "A claim that is not namespaced while `claim_mode = \"namespaced\"`: it will be dropped.",
    W0003: "A condition that is constant given the types.",
}
