//! The bundle's signature: `bundle --sign KEYFILE` writes an SSH signature (the sshsig format of
//! `ssh-keygen -Y sign`, namespace `auditbook-bundle`) of `SHA256SUMS` into the zip as
//! `SHA256SUMS.sig`; `verify --signer ALLOWED_SIGNERS` checks it against keys listed in OpenSSH's
//! (and git's) allowed-signers format.
//!
//! Design choices:
//! - What is signed is `SHA256SUMS`, whose SHA-256 is the fingerprint: the signature covers every
//!   byte that matters, and an auditor checks it with `ssh-keygen -Y verify` alone. The signature
//!   is listed in neither list, so signing does not change the fingerprint.
//! - Ed25519 only (the `ssh-key` crate without its RSA and ECDSA arithmetic): its signatures are
//!   deterministic, so a signed bundle is byte-identical when made again with the same key.
//! - Allowed signers: `principals [options] keytype base64 [comment]`; `namespaces="..."` is
//!   honoured, `valid-after`/`valid-before` are checked against the current time, and a
//!   `cert-authority` line (a CA, which never signs a bundle itself) is never a signer.

use anyhow::{bail, Context, Result};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::Path;

/// The zip entry holding the signature.
pub const SIG: &str = "SHA256SUMS.sig";
/// The sshsig namespace: a signature made for another purpose (git, file) never passes.
pub const NAMESPACE: &str = "auditbook-bundle";
/// Largest key, allowed-signers or signature file read.
const FILE_CAP: u64 = 1 << 20;

/// A private key ready to sign.
pub struct Signer {
    key: PrivateKey,
}

impl Signer {
    /// Read an unencrypted OpenSSH private key (Ed25519).
    pub fn load(path: &Path) -> Result<Signer> {
        let text = read_small(path, "key file")?;
        let key = PrivateKey::from_openssh(&text).map_err(|e| {
            anyhow::anyhow!(
                "`{}` is not an OpenSSH private key ({e}); make one with `ssh-keygen -t ed25519 -f FILE`",
                path.display()
            )
        })?;
        if key.is_encrypted() {
            bail!(
                "`{}` is protected by a passphrase; auditbook reads unencrypted keys only (sign with a key kept for this, or use `ssh-keygen -Y sign -n {NAMESPACE}` on SHA256SUMS)",
                path.display()
            );
        }
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            bail!(
                "`{}` is a {} key; auditbook signs with Ed25519 keys only (`ssh-keygen -t ed25519`)",
                path.display(),
                key.algorithm()
            );
        }
        Ok(Signer { key })
    }

    /// `SHA256:...` of the public key.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The armoured signature of `message`, as `ssh-keygen -Y sign` writes it.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, message)
            .context("cannot sign SHA256SUMS")?;
        let mut pem = sig
            .to_pem(LineEnding::LF)
            .context("cannot write the signature")?;
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        Ok(pem.into_bytes())
    }
}

/// What was found about the signature of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No `SHA256SUMS.sig`.
    Unsigned,
    /// Mathematically valid for `SHA256SUMS` with the key it names; no allowed signers given.
    Unchecked { fingerprint: String },
    /// Valid, by a key listed in allowed signers for these principals.
    Good {
        principals: Vec<String>,
        fingerprint: String,
    },
    /// Valid, but the key is not listed (or not for this namespace, or not now).
    UnknownKey { fingerprint: String },
    /// The signature does not verify or cannot be read.
    Bad { detail: String },
}

/// One usable line of an allowed-signers file.
#[derive(Debug)]
pub struct Allowed {
    principals: String,
    namespaces: Option<Vec<String>>,
    key: PublicKey,
}

/// Read an allowed signers file: its usable lines, or an error naming the file and line.
pub fn load_allowed(path: &Path) -> Result<Vec<Allowed>> {
    parse_allowed(&read_small(path, "allowed signers file")?, path)
}

/// Check the armoured signature `sig` of `sums` (the bytes of `SHA256SUMS`), against the allowed
/// signers when given.
pub fn check(sums: &[u8], sig: &[u8], allowed: Option<&[Allowed]>) -> Status {
    let sig = match std::str::from_utf8(sig)
        .map_err(|_| "it is not text".to_string())
        .and_then(|t| SshSig::from_pem(t.trim()).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            return Status::Bad {
                detail: format!("not an SSH signature ({e})"),
            }
        }
    };
    if sig.namespace() != NAMESPACE {
        return Status::Bad {
            detail: format!(
                "made for the namespace {:?}, not {NAMESPACE:?}: not a bundle signature",
                sig.namespace()
            ),
        };
    }
    let key = PublicKey::new(sig.public_key().clone(), "");
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    if let Err(e) = key.verify(NAMESPACE, sums, &sig) {
        return Status::Bad {
            detail: format!(
                "does not verify for SHA256SUMS with the key it names ({fingerprint}): {e}; SHA256SUMS or the signature was altered"
            ),
        };
    }
    let Some(allowed) = allowed else {
        return Status::Unchecked { fingerprint };
    };
    let principals: Vec<String> = allowed
        .iter()
        .filter(|a| a.key.key_data() == sig.public_key())
        .filter(|a| {
            a.namespaces
                .as_ref()
                .is_none_or(|ns| ns.iter().any(|n| pattern_match(n, NAMESPACE)))
        })
        .map(|a| a.principals.clone())
        .collect();
    if principals.is_empty() {
        return Status::UnknownKey { fingerprint };
    }
    Status::Good {
        principals,
        fingerprint,
    }
}

fn read_small(path: &Path, what: &str) -> Result<String> {
    match crate::regular::read(path, FILE_CAP)
        .with_context(|| format!("cannot read the {what} `{}`", path.display()))?
    {
        crate::regular::Regular::Bytes(b) => String::from_utf8(b)
            .map_err(|_| anyhow::anyhow!("the {what} `{}` is not UTF-8 text", path.display())),
        crate::regular::Regular::NotRegular(w) => {
            bail!("the {what} `{}` is {w}, not a regular file", path.display())
        }
        crate::regular::Regular::TooLarge(n) => bail!(
            "the {what} `{}` is {n} bytes; no such file is larger than {FILE_CAP}",
            path.display()
        ),
    }
}

/// The lines of an allowed-signers file that can name a bundle's signer now. A line that cannot
/// be read is an error with its line number (a typo must not silently drop a signer's key).
fn parse_allowed(text: &str, path: &Path) -> Result<Vec<Allowed>> {
    let lines = allowed_lines(text, &jiff::tz::TimeZone::system())
        .map_err(|(n, why)| anyhow::anyhow!("{}:{n}: {why}", path.display()))?;
    let now = jiff::Timestamp::now();
    Ok(lines
        .into_iter()
        .filter(|l| {
            !l.cert_authority
                && l.valid_after.is_none_or(|t| t <= now)
                && l.valid_before.is_none_or(|t| t > now)
        })
        .map(|l| Allowed {
            principals: l.principals,
            namespaces: l.namespaces,
            key: l.key,
        })
        .collect())
}

/// One line of an allowed-signers file (OpenSSH's and git's format), options read.
#[derive(Debug)]
pub(crate) struct AllowedLine {
    /// 1-based.
    pub line: usize,
    /// The principals field, quotes removed (comma-separated patterns).
    pub principals: String,
    pub namespaces: Option<Vec<String>>,
    /// A `cert-authority` line names a CA, whose key signs certificates, not data.
    pub cert_authority: bool,
    pub valid_after: Option<jiff::Timestamp>,
    pub valid_before: Option<jiff::Timestamp>,
    pub key: PublicKey,
}

/// Every key line of an allowed-signers file; times without `Z` are read in `tz`. An unreadable
/// line is `Err((line, why))`.
pub(crate) fn allowed_lines(
    text: &str,
    tz: &jiff::tz::TimeZone,
) -> std::result::Result<Vec<AllowedLine>, (usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |why: String| (n + 1, why);
        let (principals, rest) = field(line).ok_or_else(|| at("an unclosed quote".into()))?;
        let rest = rest.trim_start();
        // The options field is there when what follows is not a key.
        let (options, key_text) = match PublicKey::from_openssh(rest) {
            Ok(_) => ("", rest),
            Err(_) => {
                let (o, k) = field(rest).ok_or_else(|| at("an unclosed quote".into()))?;
                (o, k.trim_start())
            }
        };
        let key = PublicKey::from_openssh(key_text).map_err(|e| {
            at(format!(
                "not `principals [options] key` of the allowed signers format ({e})"
            ))
        })?;
        let mut l = AllowedLine {
            line: n + 1,
            principals: principals.trim_matches('"').to_string(),
            namespaces: None,
            cert_authority: false,
            valid_after: None,
            valid_before: None,
            key,
        };
        for opt in split_options(options) {
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(v.trim_matches('"'))),
                None => (opt.to_ascii_lowercase(), None),
            };
            let time = |v: &str, what: &str| {
                parse_time(v, tz)
                    .ok_or_else(|| at(format!("{what}={v:?} is not YYYYMMDD[HHMM[SS]][Z]")))
            };
            match (name.as_str(), value) {
                ("namespaces", Some(v)) => {
                    l.namespaces = Some(v.split(',').map(|s| s.trim().to_string()).collect())
                }
                ("cert-authority", _) => l.cert_authority = true,
                ("valid-after", Some(v)) => l.valid_after = Some(time(v, "valid-after")?),
                ("valid-before", Some(v)) => l.valid_before = Some(time(v, "valid-before")?),
                _ => {}
            }
        }
        out.push(l);
    }
    Ok(out)
}

/// The first whitespace-separated field (double quotes keep spaces inside) and the rest.
fn field(s: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return Some((&s[..i], &s[i..])),
            _ => {}
        }
    }
    (!quoted).then_some((s, ""))
}

/// Comma-separated options, commas inside double quotes kept.
fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `YYYYMMDD[HHMM[SS]]`, in UTC with a `Z` suffix, else in `tz` (OpenSSH uses the system's).
fn parse_time(v: &str, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
    let (digits, utc) = match v.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (v, false),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<i16>().ok());
    let dt = jiff::civil::DateTime::new(
        num(0..4)?,
        num(4..6)? as i8,
        num(6..8)? as i8,
        num(8..10).unwrap_or(0) as i8,
        num(10..12).unwrap_or(0) as i8,
        num(12..14).unwrap_or(0) as i8,
        0,
    )
    .ok()?;
    let tz = if utc {
        jiff::tz::TimeZone::UTC
    } else {
        tz.clone()
    };
    dt.to_zoned_datetime(tz).ok().map(|z| z.timestamp())
}

/// OpenSSH's pattern match: `*` any run, `?` one character.
pub(crate) fn pattern_match(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_patterns() {
        assert!(pattern_match("auditbook-bundle", NAMESPACE));
        assert!(pattern_match("audit*", NAMESPACE));
        assert!(pattern_match("*", NAMESPACE));
        assert!(!pattern_match("git", NAMESPACE));
        assert!(!pattern_match("file", NAMESPACE));
    }

    #[test]
    fn allowed_signers_lines() {
        let pair = ssh_key::private::Ed25519Keypair::from_seed(&[7; 32]);
        let key = PublicKey::from(pair.public)
            .to_openssh()
            .expect("an ed25519 key encodes");
        let text = format!(
            "# comment\n\nwho@example {key} note\n\"a b\",c@d namespaces=\"git,file\" {key}\nca@x cert-authority {key}\nold@x valid-before=\"20000101\" {key}\n"
        );
        let lines = parse_allowed(&text, Path::new("allowed")).expect("the lines parse");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0].principals, "who@example");
        assert_eq!(lines[0].namespaces, None);
        assert_eq!(lines[1].principals, "a b\",c@d");
        assert_eq!(
            lines[1].namespaces,
            Some(vec!["git".to_string(), "file".to_string()])
        );
        assert_eq!(split_options("a=\"x,y\",b"), vec!["a=\"x,y\"", "b"]);
        assert!(parse_time("20260101Z", &jiff::tz::TimeZone::UTC).is_some());
        assert!(parse_time("2026-01-01", &jiff::tz::TimeZone::UTC).is_none());
        let bad = parse_allowed("who@example ssh-ed25519 AAAA!\n", Path::new("allowed"));
        assert!(bad.unwrap_err().to_string().starts_with("allowed:1:"));
    }
}
