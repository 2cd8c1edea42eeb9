//! The few things JavaScript rules get from Rust: hashes, HMACs, randomness, URL parsing.
//! Bytes cross as hexadecimal text; everything else about the Node-style modules is in
//! `prelude.js`.

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
pub fn install(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let g = ctx.globals();
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
