//! Trusted signing keys: whose signature on a commit or tag counts as approval evidence
//! (README "Signed approvals"). Keys come from sms.yaml `people[].keys` (OpenSSH public key
//! lines, each belonging to that person) and from an allowed-signers file in git's own format
//! (`signatures.allowed_signers`), whose principals are matched to people by e-mail or id.
//!
//! Design choice: the keyring is plain data built once with the config; `history` looks keys up
//! by their public key blob and judges validity at the signing commit's own time, and the cache
//! key holds [`Keyring::digest`], so adding, removing or re-dating a key re-verifies.

use crate::config::Person;
use ssh_key::{public::KeyData, HashAlg, PublicKey};

/// One key trusted to sign.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub key: KeyData,
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The person (sms.yaml `people` id) the key belongs to, when known.
    pub person: Option<String>,
    /// The principals of an allowed-signers line (e-mails, usually); the person id for a key
    /// listed under `people`.
    pub principals: Vec<String>,
    /// `namespaces="..."`: the sshsig namespaces the key may sign for (`None`: any).
    pub namespaces: Option<Vec<String>>,
    /// `valid-after` / `valid-before`, seconds since the epoch.
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    /// Where it was listed, for messages: `people[hc].keys` or `allowed_signers:3`.
    pub origin: String,
}

impl TrustedKey {
    /// Who signed, for people: the person id, else the first principal.
    pub fn signer(&self) -> &str {
        self.person
            .as_deref()
            .or(self.principals.first().map(String::as_str))
            .unwrap_or("")
    }

    /// Whether the key was valid at `time` (seconds since the epoch); `Err` says why not.
    pub fn valid_at(&self, time: i64) -> Result<(), String> {
        let show = |t: i64| {
            jiff::Timestamp::from_second(t)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
                .unwrap_or_else(|_| t.to_string())
        };
        if let Some(after) = self.valid_after.filter(|&a| time < a) {
            return Err(format!(
                "the key is valid only after {} ({})",
                show(after),
                self.origin
            ));
        }
        if let Some(before) = self.valid_before.filter(|&b| time >= b) {
            return Err(format!(
                "the key expired at {} ({})",
                show(before),
                self.origin
            ));
        }
        Ok(())
    }
}

/// One trusted OpenPGP certificate (`signatures.openpgp_keys`), with its subkeys.
#[derive(Debug, Clone)]
pub struct TrustedPgpKey {
    pub cert: pgp::composed::SignedPublicKey,
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// The person whose `emails` hold one of the certificate's User ID e-mails.
    pub person: Option<String>,
    /// The User ID e-mails (lower case).
    pub principals: Vec<String>,
    /// When the primary key expires (seconds since the epoch), from its self-signatures.
    pub expires: Option<i64>,
    /// The certificate carries a revocation signature that verifies.
    pub revoked: bool,
    pub origin: String,
}

impl TrustedPgpKey {
    pub fn signer(&self) -> &str {
        self.person
            .as_deref()
            .or(self.principals.first().map(String::as_str))
            .unwrap_or(&self.fingerprint)
    }

    /// Whether the key could sign at `time`; `Err` says why not.
    pub fn valid_at(&self, time: i64) -> Result<(), String> {
        if self.revoked {
            return Err(format!("the key is revoked ({})", self.origin));
        }
        if let Some(e) = self.expires.filter(|&e| time >= e) {
            let when = jiff::Timestamp::from_second(e)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
                .unwrap_or_else(|_| e.to_string());
            return Err(format!("the key expired at {when} ({})", self.origin));
        }
        Ok(())
    }
}

/// Every trusted key, in the order listed (people first, then the allowed-signers file).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    pub keys: Vec<TrustedKey>,
    /// OpenPGP certificates, in file order.
    pub openpgp: Vec<TrustedPgpKey>,
}

impl Keyring {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.openpgp.is_empty()
    }

    /// A text that changes whenever a key, its owner, namespaces or validity do (part of the
    /// history cache's key).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for k in &self.keys {
            h.update(
                format!(
                    "{}|{:?}|{:?}|{:?}|{:?}|{:?}\n",
                    k.fingerprint,
                    k.person,
                    k.principals,
                    k.namespaces,
                    k.valid_after,
                    k.valid_before
                )
                .as_bytes(),
            );
        }
        for k in &self.openpgp {
            h.update(
                format!(
                    "pgp {}|{:?}|{:?}|{:?}|{}\n",
                    k.fingerprint, k.person, k.principals, k.expires, k.revoked
                )
                .as_bytes(),
            );
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The entries for `key` that may sign in `namespace`.
    pub fn lookup(&self, key: &KeyData, namespace: &str) -> Vec<&TrustedKey> {
        self.keys
            .iter()
            .filter(|k| &k.key == key)
            .filter(|k| {
                k.namespaces.as_ref().is_none_or(|ns| {
                    ns.iter()
                        .any(|n| crate::bundle::sign::pattern_match(n, namespace))
                })
            })
            .collect()
    }
}

/// `SHA256:...` of a public key.
pub fn fingerprint(key: &KeyData) -> String {
    PublicKey::new(key.clone(), "")
        .fingerprint(HashAlg::Sha256)
        .to_string()
}

/// A `people[].keys` entry: one OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
pub fn person_key(person: &Person, text: &str) -> Result<TrustedKey, String> {
    let key = PublicKey::from_openssh(text.trim()).map_err(|e| {
        format!("not an OpenSSH public key line such as `ssh-ed25519 AAAA… comment` ({e}); copy the `.pub` file's line")
    })?;
    Ok(TrustedKey {
        fingerprint: fingerprint(key.key_data()),
        key: key.key_data().clone(),
        person: Some(person.id.clone()),
        principals: vec![person.id.clone()],
        namespaces: None,
        valid_after: None,
        valid_before: None,
        origin: format!("people[{}].keys", person.id),
    })
}

/// The keys of an allowed-signers file (`label` names it in messages); `cert-authority` lines
/// are left out (a CA signs certificates, which auditbook does not read). Times without `Z` are
/// read in `tz` (sms.yaml `timezone`), so a result never depends on the machine's zone.
pub fn allowed_signers(
    text: &str,
    label: &str,
    tz: &jiff::tz::TimeZone,
    people: &[Person],
) -> Result<Vec<TrustedKey>, (usize, String)> {
    let lines = crate::bundle::sign::allowed_lines(text, tz)?;
    Ok(lines
        .into_iter()
        .filter(|l| !l.cert_authority)
        .map(|l| {
            let principals: Vec<String> = l
                .principals
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let person = principals.iter().find_map(|p| {
                let lower = p.to_ascii_lowercase();
                people
                    .iter()
                    .find(|person| person.id == *p || person.emails.contains(&lower))
                    .map(|person| person.id.clone())
            });
            TrustedKey {
                fingerprint: fingerprint(l.key.key_data()),
                key: l.key.key_data().clone(),
                person,
                principals,
                namespaces: l.namespaces,
                valid_after: l.valid_after.map(|t| t.as_second()),
                valid_before: l.valid_before.map(|t| t.as_second()),
                origin: format!("{label}:{}", l.line),
            }
        })
        .collect())
}

/// The OpenPGP certificates of an armoured key file (`gpg --export --armor A B …`; several
/// blocks may follow each other). User ID e-mails are matched to people. A certificate whose
/// self-signatures do not verify is an error: it cannot say whose key it is.
pub fn openpgp_keys(
    text: &str,
    label: &str,
    people: &[Person],
) -> Result<Vec<TrustedPgpKey>, String> {
    use pgp::composed::{Deserializable, SignedPublicKey};
    use pgp::types::KeyDetails;
    let (certs, _) = SignedPublicKey::from_string_many(text)
        .map_err(|e| format!("{label}: not armoured OpenPGP public keys ({e})"))?;
    let mut out = Vec::new();
    for cert in certs {
        let cert = cert.map_err(|e| format!("{label}: an OpenPGP key cannot be read ({e})"))?;
        let fingerprint = format!("{:X}", cert.primary_key.fingerprint());
        cert.verify_bindings().map_err(|e| {
            format!("{label}: the self-signatures of OpenPGP key {fingerprint} do not verify ({e})")
        })?;
        let mut principals: Vec<String> = cert
            .details
            .users
            .iter()
            .filter_map(|u| {
                let id = String::from_utf8_lossy(u.id.id()).into_owned();
                let email = match (id.rfind('<'), id.rfind('>')) {
                    (Some(a), Some(b)) if a < b => id[a + 1..b].to_string(),
                    _ if id.contains('@') => id.trim().to_string(),
                    _ => return None,
                };
                Some(email.to_ascii_lowercase())
            })
            .collect();
        principals.dedup();
        let person = principals.iter().find_map(|e| {
            people
                .iter()
                .find(|p| p.emails.contains(e))
                .map(|p| p.id.clone())
        });
        let created = i64::from(cert.primary_key.created_at().as_secs());
        let expires = cert
            .details
            .users
            .iter()
            .flat_map(|u| u.signatures.iter())
            .chain(cert.details.direct_signatures.iter())
            .filter_map(|s| s.key_expiration_time().map(|d| d.as_secs()))
            .filter(|&d| d > 0)
            .max()
            .map(|d| created + i64::from(d));
        let revoked = cert
            .details
            .revocation_signatures
            .iter()
            .any(|s| s.verify_key(&cert.primary_key).is_ok());
        out.push(TrustedPgpKey {
            origin: format!("{label}, key {fingerprint}"),
            cert,
            fingerprint,
            person,
            principals,
            expires,
            revoked,
        });
    }
    Ok(out)
}
