//! The few things JavaScript rules get from Rust: hashes, HMACs, randomness, URL parsing,
//! keys and signatures (`keys.rs`), PBKDF2, and where `require` finds a file of
//! `node_modules` (`npm.rs`). Bytes cross as hexadecimal text; everything else about the
//! Node-style modules is in `prelude.js`.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use rquickjs::{Ctx, Function};
use sha2::Digest;

fn digest(alg: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    macro_rules! mac {
        ($d:ty) => {{
            let mut m = Hmac::<$d>::new_from_slice(key).ok()?;
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }};
    }
    Some(match alg {
        "md5" => mac!(md5::Md5),
        "sha1" => mac!(sha1::Sha1),
        "sha256" => mac!(sha2::Sha256),
        "sha512" => mac!(sha2::Sha512),
        _ => return None,
    })
}

/// `__host_digest(alg, keyHex, dataHex)`: a hash (empty key) or an HMAC, as hex; null for an
/// unknown algorithm or bad input.
/// `__host_random(n)`: n random bytes as hex. `__host_url(input, base)`: URL parts as JSON.
/// `__host_resolve(fromDir, name)`: the included file `require(name)` loads from a module in
/// `fromDir`, or null. `__host_key(pem, public)`: a key's properties as JSON
/// (`{"error": ...}` when it cannot be read). `__host_sign(pem, hash, dataHex, p1363)`: a
/// signature as hex, or `!` and why. `__host_verify(pem, hash, sigHex, dataHex, p1363)`:
/// true, false, or null for a key or digest it cannot use. `__host_pbkdf2(hash, passwordHex,
/// saltHex, iterations, length)`: the derived key as hex, or null.
pub fn install(ctx: &Ctx<'_>, included: Arc<crate::npm::Included>) -> rquickjs::Result<()> {
    let g = ctx.globals();
    g.set(
        "__host_resolve",
        Function::new(ctx.clone(), move |from: String, name: String| included.resolve(&from, &name))?,
    )?;
    g.set(
        "__host_key",
        Function::new(ctx.clone(), |pem: String, public: bool| -> String {
            match crate::keys::info(&pem, public) {
                Ok(info) => serde_json::to_string(&info).unwrap_or_default(),
                Err(e) => serde_json::json!({ "error": e }).to_string(),
            }
        })?,
    )?;
    g.set(
        "__host_sign",
        Function::new(ctx.clone(), |pem: String, hash: String, data: String, p1363: bool| -> String {
            if data.len() > 2 * crate::keys::MAX_DATA {
                return format!("!at most {} bytes are signed at once", crate::keys::MAX_DATA);
            }
            let Ok(data) = hex::decode(data) else { return "!bad data".into() };
            match crate::keys::sign(&pem, &hash.to_ascii_lowercase(), &data, p1363) {
                Ok(sig) => hex::encode(sig),
                Err(e) => format!("!{e}"),
            }
        })?,
    )?;
    g.set(
        "__host_verify",
        Function::new(
            ctx.clone(),
            |pem: String, hash: String, sig: String, data: String, p1363: bool| -> Option<bool> {
                if data.len() > 2 * crate::keys::MAX_DATA || sig.len() > 2 * crate::keys::MAX_PEM {
                    return None;
                }
                let (Ok(sig), Ok(data)) = (hex::decode(sig), hex::decode(data)) else { return Some(false) };
                crate::keys::verify(&pem, &hash.to_ascii_lowercase(), &sig, &data, p1363).ok()
            },
        )?,
    )?;
    g.set(
        "__host_pbkdf2",
        Function::new(
            ctx.clone(),
            |hash: String, password: String, salt: String, iterations: f64, len: f64| -> Option<String> {
                // Bounded: QuickJS's deadline cannot interrupt native work.
                if !(1.0..=1_000_000.0).contains(&iterations) || !(0.0..=4096.0).contains(&len) {
                    return None;
                }
                if password.len() > 2 * crate::keys::MAX_PEM || salt.len() > 2 * crate::keys::MAX_PEM {
                    return None;
                }
                let (password, salt) = (hex::decode(password).ok()?, hex::decode(salt).ok()?);
                let out =
                    crate::keys::pbkdf2(&hash.to_ascii_lowercase(), &password, &salt, iterations as u32, len as usize)?;
                Some(hex::encode(out))
            },
        )?,
    )?;
    g.set(
        "__host_digest",
        Function::new(ctx.clone(), |alg: String, key: String, data: String| -> Option<String> {
            let data = hex::decode(data).ok()?;
            let alg = alg.to_ascii_lowercase();
            let out = if key.is_empty() { digest(&alg, &data)? } else { hmac(&alg, &hex::decode(key).ok()?, &data)? };
            Some(hex::encode(out))
        })?,
    )?;
    g.set(
        "__host_random",
        Function::new(ctx.clone(), |n: f64| -> Option<String> {
            if !(0.0..=65536.0).contains(&n) {
                return None;
            }
            let mut buf = vec![0u8; n as usize];
            getrandom::fill(&mut buf).ok()?;
            Some(hex::encode(buf))
        })?,
    )?;
    g.set("__host_http", Function::new(ctx.clone(), |spec: String| -> String { crate::net::start(&spec) })?)?;
    g.set(
        "__host_url",
        Function::new(ctx.clone(), |input: String, base: Option<String>| -> Option<String> {
            let parsed = match base.filter(|b| !b.is_empty()) {
                Some(b) => url::Url::parse(&b).ok()?.join(&input).ok()?,
                None => url::Url::parse(&input).ok()?,
            };
            let port = parsed.port().map(|p| p.to_string()).unwrap_or_default();
            let host = match parsed.port() {
                Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or("")),
                None => parsed.host_str().unwrap_or("").to_string(),
            };
            let search = parsed.query().map(|q| format!("?{q}")).unwrap_or_default();
            let hash = parsed.fragment().map(|f| format!("#{f}")).unwrap_or_default();
            Some(
                serde_json::json!({
                    "href": parsed.as_str(),
                    "protocol": format!("{}:", parsed.scheme()),
                    "username": parsed.username(),
                    "password": parsed.password().unwrap_or(""),
                    "host": host,
                    "hostname": parsed.host_str().unwrap_or(""),
                    "port": port,
                    "pathname": parsed.path(),
                    "search": search,
                    "hash": hash,
                    "origin": parsed.origin().ascii_serialization(),
                })
                .to_string(),
            )
        })?,
    )?;
    Ok(())
}
