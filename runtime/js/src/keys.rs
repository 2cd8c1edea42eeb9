//! Keys and signatures for the `crypto` module: PEM keys (PKCS#1 `RSA PRIVATE KEY`, PKCS#8
//! `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`, and the
//! public key of an X.509 `CERTIFICATE`), RSA PKCS#1 v1.5 and ECDSA (P-256, P-384) signatures
//! with SHA-2, through `ring`. The DER this reads is walked by a small bounded reader: only
//! the structures around the key (ring parses and checks the key itself).

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use serde::Serialize;

/// The longest PEM text accepted.
pub(crate) const MAX_PEM: usize = 64 * 1024;
/// The most bytes signed or verified at once.
pub(crate) const MAX_DATA: usize = 8 * 1024 * 1024;

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Curve {
    P256,
    P384,
}

impl Curve {
    fn of(oid: &[u8]) -> Result<Curve, String> {
        match oid {
            OID_P256 => Ok(Curve::P256),
            OID_P384 => Ok(Curve::P384),
            _ => Err("unsupported elliptic curve (P-256 and P-384 are supported)".into()),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "prime256v1",
            Curve::P384 => "secp384r1",
        }
    }
    fn oid(self) -> &'static [u8] {
        match self {
            Curve::P256 => OID_P256,
            Curve::P384 => OID_P384,
        }
    }
}

/// A parsed key.
enum Key {
    RsaPrivate(RsaKeyPair),
    EcPrivate(EcdsaKeyPair, Curve),
    /// The DER `RSAPublicKey`.
    RsaPublic(Vec<u8>),
    /// The uncompressed point.
    EcPublic(Vec<u8>, Curve),
}

/// What JavaScript learns about a key (`KeyObject`'s properties), with the PEM to use it by
/// (for a public key taken from a private key or a certificate, an SPKI `PUBLIC KEY`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Info {
    #[serde(rename = "type")]
    kind: &'static str,
    asymmetric_key_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    modulus_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_exponent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    named_curve: Option<&'static str>,
    pem: String,
}

/// Reads a PEM key; `public`: the public key (of a private key too), else the private key.
pub(crate) fn info(pem: &str, public: bool) -> Result<Info, String> {
    let key = parse(pem, public)?;
    let (kind, asymmetric_key_type) = match (&key, public) {
        (Key::RsaPrivate(_), false) => ("private", "rsa"),
        (Key::EcPrivate(..), false) => ("private", "ec"),
        (Key::RsaPrivate(_) | Key::RsaPublic(_), _) => ("public", "rsa"),
        _ => ("public", "ec"),
    };
    let (rsa, curve) = match &key {
        Key::RsaPrivate(k) => (Some(k.public().as_ref().to_vec()), None),
        Key::RsaPublic(k) => (Some(k.clone()), None),
        Key::EcPrivate(_, c) | Key::EcPublic(_, c) => (None, Some(*c)),
    };
    let (modulus_length, public_exponent) = match rsa.as_deref().map(rsa_numbers) {
        Some(Some((bits, e))) => (Some(bits), Some(e)),
        _ => (None, None),
    };
    let pem = if public { public_pem(&key) } else { pem.to_string() };
    Ok(Info { kind, asymmetric_key_type, modulus_length, public_exponent, named_curve: curve.map(Curve::name), pem })
}

/// Signs `data` with a private PEM key and a SHA-2 hash (`sha256`, `sha384`, `sha512`).
/// ECDSA signatures are DER (as Node gives them), or `r || s` with `p1363`.
pub(crate) fn sign(pem: &str, hash: &str, data: &[u8], p1363: bool) -> Result<Vec<u8>, String> {
    let rng = SystemRandom::new();
    match parse(pem, false)? {
        Key::RsaPrivate(k) => {
            let alg: &'static dyn signature::RsaEncoding = match hash {
                "sha256" => &signature::RSA_PKCS1_SHA256,
                "sha384" => &signature::RSA_PKCS1_SHA384,
                "sha512" => &signature::RSA_PKCS1_SHA512,
                _ => return Err(format!("unsupported digest for RSA: {hash}")),
            };
            let mut sig = vec![0u8; k.public().modulus_len()];
            k.sign(alg, &rng, data, &mut sig).map_err(|_| "RSA signing failed".to_string())?;
            Ok(sig)
        }
        Key::EcPrivate(_, curve) => {
            // The key was checked with the ASN.1 algorithm; the fixed one needs its own pair.
            let alg = ecdsa_signing(curve, hash, p1363)?;
            let der = pem_der(pem, false)?;
            let k = ec_private(&der.1, &der.0, alg)?;
            k.sign(&rng, data).map(|s| s.as_ref().to_vec()).map_err(|_| "ECDSA signing failed".to_string())
        }
        _ => Err("a private key is needed to sign".into()),
    }
}

/// Verifies a signature with a public key (or the public half of a private key, or a
/// certificate's key).
pub(crate) fn verify(pem: &str, hash: &str, sig: &[u8], data: &[u8], p1363: bool) -> Result<bool, String> {
    let (alg, key): (&'static dyn signature::VerificationAlgorithm, Vec<u8>) = match parse(pem, true)? {
        Key::RsaPrivate(k) => (rsa_verification(hash)?, k.public().as_ref().to_vec()),
        Key::RsaPublic(k) => (rsa_verification(hash)?, k),
        Key::EcPrivate(k, c) => (ecdsa_verification(c, hash, p1363)?, k.public_key().as_ref().to_vec()),
        Key::EcPublic(k, c) => (ecdsa_verification(c, hash, p1363)?, k),
    };
    Ok(UnparsedPublicKey::new(alg, key).verify(data, sig).is_ok())
}

fn rsa_verification(hash: &str) -> Result<&'static dyn signature::VerificationAlgorithm, String> {
    Ok(match hash {
        "sha256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "sha384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "sha512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(format!("unsupported digest for RSA: {hash}")),
    })
}

fn ecdsa_signing(curve: Curve, hash: &str, p1363: bool) -> Result<&'static signature::EcdsaSigningAlgorithm, String> {
    Ok(match (curve, hash, p1363) {
        (Curve::P256, "sha256", false) => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        (Curve::P256, "sha256", true) => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        (Curve::P384, "sha384", false) => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        (Curve::P384, "sha384", true) => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => return Err(format!("unsupported digest {hash} for the curve {}", curve.name())),
    })
}

fn ecdsa_verification(
    curve: Curve,
    hash: &str,
    p1363: bool,
) -> Result<&'static dyn signature::VerificationAlgorithm, String> {
    Ok(match (curve, hash, p1363) {
        (Curve::P256, "sha256", false) => &signature::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, "sha256", true) => &signature::ECDSA_P256_SHA256_FIXED,
        (Curve::P256, "sha384", false) => &signature::ECDSA_P256_SHA384_ASN1,
        (Curve::P384, "sha384", false) => &signature::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, "sha384", true) => &signature::ECDSA_P384_SHA384_FIXED,
        (Curve::P384, "sha256", false) => &signature::ECDSA_P384_SHA256_ASN1,
        _ => return Err(format!("unsupported digest {hash} for the curve {}", curve.name())),
    })
}

/// The label and DER of the first PEM block that holds a key of the kind wanted.
fn pem_der(pem: &str, public: bool) -> Result<(String, Vec<u8>), String> {
    use base64::Engine;
    if pem.len() > MAX_PEM {
        return Err(format!("a PEM key is at most {MAX_PEM} bytes"));
    }
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(end_label) = after.find("-----") else { break };
        let label = after[..end_label].to_string();
        let body_start = &after[end_label + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else { return Err("a PEM block has no END line".into()) };
        let body = &body_start[..body_end];
        rest = &body_start[body_end + end_marker.len()..];
        let usable = match label.as_str() {
            "RSA PRIVATE KEY" | "PRIVATE KEY" | "EC PRIVATE KEY" => true,
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => public,
            "ENCRYPTED PRIVATE KEY" => return Err("encrypted private keys are not supported".into()),
            _ => false,
        };
        if !usable {
            continue;
        }
        if body.contains("ENCRYPTED") {
            return Err("encrypted private keys are not supported".into());
        }
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| "the PEM body is not base64")?;
        return Ok((label, der));
    }
    Err(if public { "no PEM public key, certificate or private key found" } else { "no PEM private key found" }.into())
}

fn parse(pem: &str, public: bool) -> Result<Key, String> {
    let (label, der) = pem_der(pem, public)?;
    let bad = || format!("the {label} is not valid");
    match label.as_str() {
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).map(Key::RsaPrivate).map_err(|e| format!("{}: {e}", bad())),
        "PRIVATE KEY" => {
            let (oid, params) = algorithm(&der, true).ok_or_else(bad)?;
            if oid == OID_RSA {
                RsaKeyPair::from_pkcs8(&der).map(Key::RsaPrivate).map_err(|e| format!("{}: {e}", bad()))
            } else if oid == OID_EC {
                let curve = Curve::of(params)?;
                let alg = ecdsa_signing(curve, if curve == Curve::P256 { "sha256" } else { "sha384" }, false)?;
                Ok(Key::EcPrivate(ec_private(&der, &label, alg)?, curve))
            } else {
                Err("unsupported key type (RSA and EC keys are supported)".into())
            }
        }
        "EC PRIVATE KEY" => {
            let curve = sec1_curve(&der).ok_or_else(bad)?;
            let alg = ecdsa_signing(curve, if curve == Curve::P256 { "sha256" } else { "sha384" }, false)?;
            Ok(Key::EcPrivate(ec_private(&der, &label, alg)?, curve))
        }
        "RSA PUBLIC KEY" => Ok(Key::RsaPublic(der)),
        "PUBLIC KEY" => spki(&der).ok_or_else(bad)?,
        "CERTIFICATE" => spki(certificate_spki(&der).ok_or_else(bad)?).ok_or_else(bad)?,
        _ => Err(bad()),
    }
}

/// An EC key pair from PKCS#8 or SEC1 DER, for `alg`.
fn ec_private(der: &[u8], label: &str, alg: &'static signature::EcdsaSigningAlgorithm) -> Result<EcdsaKeyPair, String> {
    let rng = SystemRandom::new();
    let bad = |e: ring::error::KeyRejected| format!("the {label} is not valid: {e}");
    if label == "PRIVATE KEY" {
        return EcdsaKeyPair::from_pkcs8(alg, der, &rng).map_err(bad);
    }
    // SEC1: SEQUENCE { version, OCTET STRING d, [0] curve, [1] BIT STRING public key }.
    let (_, body, _) = tlv(der).filter(|t| t.0 == 0x30).ok_or("the EC PRIVATE KEY is not valid")?;
    let (_, _, rest) = tlv(body).ok_or("the EC PRIVATE KEY is not valid")?;
    let (_, d, mut rest) = tlv(rest).filter(|t| t.0 == 0x04).ok_or("the EC PRIVATE KEY is not valid")?;
    while let Some((tag, content, next)) = tlv(rest) {
        if tag == 0xa1 {
            let (_, bits, _) =
                tlv(content).filter(|t| t.0 == 0x03 && !t.1.is_empty()).ok_or("the EC PRIVATE KEY is not valid")?;
            return EcdsaKeyPair::from_private_key_and_public_key(alg, d, &bits[1..], &rng).map_err(bad);
        }
        rest = next;
    }
    Err("an EC PRIVATE KEY without its public key is not supported".into())
}

fn sec1_curve(der: &[u8]) -> Option<Curve> {
    let (_, body, _) = tlv(der).filter(|t| t.0 == 0x30)?;
    let (_, _, mut rest) = tlv(body)?;
    while let Some((tag, content, next)) = tlv(rest) {
        if tag == 0xa0 {
            let (_, oid, _) = tlv(content).filter(|t| t.0 == 0x06)?;
            return Curve::of(oid).ok();
        }
        rest = next;
    }
    None
}

/// The algorithm OID and its parameters' content, from PKCS#8 (`private`) or SPKI.
fn algorithm(der: &[u8], private: bool) -> Option<(&[u8], &[u8])> {
    let (_, body, _) = tlv(der).filter(|t| t.0 == 0x30)?;
    let rest = if private { tlv(body)?.2 } else { body };
    let (_, alg, _) = tlv(rest).filter(|t| t.0 == 0x30)?;
    let (_, oid, params) = tlv(alg).filter(|t| t.0 == 0x06)?;
    let params = tlv(params).map_or(&[][..], |(_, c, _)| c);
    Some((oid, params))
}

/// A key from SPKI DER.
fn spki(der: &[u8]) -> Option<Result<Key, String>> {
    let (oid, params) = algorithm(der, false)?;
    let (_, body, _) = tlv(der)?;
    let (_, _, rest) = tlv(body)?;
    let (_, bits, _) = tlv(rest).filter(|t| t.0 == 0x03 && !t.1.is_empty())?;
    let key = bits[1..].to_vec();
    Some(if oid == OID_RSA {
        Ok(Key::RsaPublic(key))
    } else if oid == OID_EC {
        Curve::of(params).map(|c| Key::EcPublic(key, c))
    } else {
        Err("unsupported key type (RSA and EC keys are supported)".into())
    })
}

/// The SPKI of an X.509 certificate: the seventh field of `tbsCertificate` (after an
/// explicit version, serial, signature algorithm, issuer, validity and subject).
fn certificate_spki(der: &[u8]) -> Option<&[u8]> {
    let (_, cert, _) = tlv(der).filter(|t| t.0 == 0x30)?;
    let (_, tbs, _) = tlv(cert).filter(|t| t.0 == 0x30)?;
    let mut rest = tbs;
    if tbs.first() == Some(&0xa0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..5 {
        rest = tlv(rest)?.2;
    }
    let (tag, _, after) = tlv(rest)?;
    (tag == 0x30).then(|| &rest[..rest.len() - after.len()])
}

/// The modulus size in bits and the public exponent of a DER `RSAPublicKey`.
fn rsa_numbers(der: &[u8]) -> Option<(u32, u64)> {
    let (_, body, _) = tlv(der).filter(|t| t.0 == 0x30)?;
    let (_, n, rest) = tlv(body).filter(|t| t.0 == 0x02)?;
    let (_, e, _) = tlv(rest).filter(|t| t.0 == 0x02)?;
    let n: &[u8] = match n.iter().position(|b| *b != 0) {
        Some(i) => &n[i..],
        None => return None,
    };
    let bits = (n.len() as u32 - 1) * 8 + (8 - n[0].leading_zeros());
    let e = (e.len() <= 8).then(|| e.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)))?;
    Some((bits, e))
}

/// The SPKI `PUBLIC KEY` PEM of a key's public half.
fn public_pem(key: &Key) -> String {
    use base64::Engine;
    let null = der(0x05, &[]);
    let (alg, bits) = match key {
        Key::RsaPrivate(k) => ([der(0x06, OID_RSA), null].concat(), k.public().as_ref().to_vec()),
        Key::RsaPublic(k) => ([der(0x06, OID_RSA), null].concat(), k.clone()),
        Key::EcPrivate(k, c) => ([der(0x06, OID_EC), der(0x06, c.oid())].concat(), k.public_key().as_ref().to_vec()),
        Key::EcPublic(k, c) => ([der(0x06, OID_EC), der(0x06, c.oid())].concat(), k.clone()),
    };
    let spki = der(0x30, &[der(0x30, &alg), der(0x03, &[&[0u8][..], &bits].concat())].concat());
    let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

/// One DER element.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// One DER element: its tag, content and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |a, b| a << 8 | usize::from(*b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// PBKDF2 with HMAC-SHA-1/256/384/512.
pub(crate) fn pbkdf2(hash: &str, password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Option<Vec<u8>> {
    let alg = match hash {
        "sha1" => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        "sha256" => ring::pbkdf2::PBKDF2_HMAC_SHA256,
        "sha384" => ring::pbkdf2::PBKDF2_HMAC_SHA384,
        "sha512" => ring::pbkdf2::PBKDF2_HMAC_SHA512,
        _ => return None,
    };
    let mut out = vec![0u8; len];
    ring::pbkdf2::derive(alg, std::num::NonZeroU32::new(iterations)?, salt, password, &mut out);
    Some(out)
}
