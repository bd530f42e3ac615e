//! Signatures of commits and annotated tags, verified in-process (no `ssh-keygen`, no `gpg`):
//! the evidence that the person who approved a version is the one who landed (or tagged) it.
//!
//! - A commit's signature is its `gpgsig` header; what it signs is the commit object without
//!   that header (libgit2's `extract_signature`). An annotated tag's signature is appended to
//!   its message; it signs the tag object up to the signature's first line.
//! - SSH signatures (git's `gpg.format=ssh`, the sshsig format, namespace `git`) are verified
//!   with the `ssh-key` crate against the keys of [`Keyring`]. Ed25519 only, as `bundle --sign`:
//!   a signature by another key type is "not verifiable", never "good" or "bad".
//! - OpenPGP signatures (git's default `gpg.format`) are verified with the pure-Rust `pgp`
//!   crate (rPGP) against the armoured certificates of `signatures.openpgp_keys`; expiry and
//!   revocation are judged at the signature's creation time. X.509 signatures are recognised and
//!   reported as not verifiable.
//! - A key's `valid-after`/`valid-before` are judged at the signing time git records (the
//!   committer or tagger date), as `git verify-commit` does — never at the time of the run, so
//!   a result does not change with the clock.
//!
//! Results of commits are stored in the history cache with the commit (keyed by the keyring's
//! digest); tags move independently of commits, so they are verified on every run (there are few).

use crate::keys::Keyring;
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use ssh_key::{Algorithm, PublicKey, SshSig};

/// The sshsig namespace git signs commits and tags in.
pub const GIT_NAMESPACE: &str = "git";

const SSH_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";
const PGP_BEGIN: &str = "-----BEGIN PGP SIGNATURE-----";
const X509_BEGIN: &str = "-----BEGIN SIGNED MESSAGE-----";

/// What a signature proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signature {
    /// Valid, by a trusted key that was valid at the signing time.
    Good {
        /// The person id, else the allowed-signers principal.
        signer: String,
        person: Option<String>,
        fingerprint: String,
    },
    /// It does not verify: the signed object or the signature was altered, or it was made for
    /// another purpose (namespace).
    Bad { detail: String },
    /// Valid, but by a key that is not trusted (not in `people[].keys` nor allowed signers).
    UnknownKey { fingerprint: String },
    /// Valid, by a trusted key that was not valid at the signing time (`valid-after` /
    /// `valid-before`).
    Expired {
        signer: String,
        person: Option<String>,
        fingerprint: String,
        detail: String,
    },
    /// A format or key type auditbook cannot verify (OpenPGP, X.509, RSA or ECDSA SSH keys).
    Unverifiable { detail: String },
}

impl Signature {
    /// One line for the site's version table.
    pub fn label(&self) -> String {
        match self {
            Signature::Good {
                signer,
                fingerprint,
                ..
            } => format!("signed by {signer} (key {fingerprint})"),
            Signature::Bad { .. } => "BAD signature (does not verify)".to_string(),
            Signature::UnknownKey { fingerprint } => {
                format!("signed by an unknown key ({fingerprint})")
            }
            Signature::Expired {
                signer,
                fingerprint,
                ..
            } => format!("signed by {signer} with a key not valid then (key {fingerprint})"),
            Signature::Unverifiable { detail } => format!("signature not verified: {detail}"),
        }
    }

    /// The person or principal of a good signature.
    pub fn good_signer(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Signature::Good { signer, person, .. } => Some((signer, person.as_deref())),
            Signature::Bad { .. }
            | Signature::UnknownKey { .. }
            | Signature::Expired { .. }
            | Signature::Unverifiable { .. } => None,
        }
    }
}

/// An annotated, signed tag that points (through any chain of tags) at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTag {
    /// The tag's name (`v2.0`), without `refs/tags/`.
    pub name: String,
    pub signature: Signature,
}

/// The signature of a commit, verified; `None` when the commit is not signed.
pub(super) fn of_commit(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    keys: &Keyring,
) -> Option<Signature> {
    // Cheap test first: most commits carry no signature header.
    memchr::memmem::find(commit.raw_header_bytes(), b"gpgsig")?;
    let (sig, payload) = repo.extract_signature(&commit.id(), None).ok()?;
    Some(verify(
        &sig,
        &payload,
        commit.committer().when().seconds(),
        keys,
    ))
}

/// The signature of the annotated tag `tag` (raw object bytes), verified; `None` when unsigned.
fn of_tag(raw: &[u8], time: i64, keys: &Keyring) -> Option<Signature> {
    let start = [SSH_BEGIN, PGP_BEGIN, X509_BEGIN]
        .iter()
        .filter_map(|b| {
            memchr::memmem::find_iter(raw, b.as_bytes()).find(|&i| i == 0 || raw[i - 1] == b'\n')
        })
        .min()?;
    Some(verify(&raw[start..], &raw[..start], time, keys))
}

/// Verify an armoured signature of `payload` made at `time` (seconds since the epoch).
pub(super) fn verify(armoured: &[u8], payload: &[u8], time: i64, keys: &Keyring) -> Signature {
    let text = String::from_utf8_lossy(armoured);
    let text = text.trim();
    if text.starts_with(SSH_BEGIN) {
        return ssh(text, payload, time, keys);
    }
    if text.starts_with(PGP_BEGIN) {
        return openpgp(text, payload, time, keys);
    }
    let detail = if text.starts_with(X509_BEGIN) {
        "an X.509 (S/MIME) signature; auditbook verifies SSH and OpenPGP signatures only"
    } else {
        "a signature in a format auditbook does not know"
    };
    Signature::Unverifiable {
        detail: detail.to_string(),
    }
}

fn ssh(text: &str, payload: &[u8], time: i64, keys: &Keyring) -> Signature {
    let sig = match SshSig::from_pem(text) {
        Ok(s) => s,
        Err(e) => {
            return Signature::Bad {
                detail: format!("the SSH signature cannot be read ({e})"),
            }
        }
    };
    if sig.namespace() != GIT_NAMESPACE {
        return Signature::Bad {
            detail: format!(
                "the SSH signature was made for the namespace {:?}, not {GIT_NAMESPACE:?}: it is not a git signature",
                sig.namespace()
            ),
        };
    }
    let fingerprint = crate::keys::fingerprint(sig.public_key());
    let algorithm = sig.public_key().algorithm();
    if algorithm != Algorithm::Ed25519 {
        return Signature::Unverifiable {
            detail: format!(
                "made with a {algorithm} key ({fingerprint}); auditbook verifies Ed25519 SSH signatures only"
            ),
        };
    }
    let key = PublicKey::new(sig.public_key().clone(), "");
    if key.verify(GIT_NAMESPACE, payload, &sig).is_err() {
        return Signature::Bad {
            detail: format!(
                "the SSH signature does not verify with the key it names ({fingerprint}): the signed object or the signature was altered"
            ),
        };
    }
    let trusted = keys.lookup(sig.public_key(), GIT_NAMESPACE);
    let Some(first) = trusted.first() else {
        return Signature::UnknownKey { fingerprint };
    };
    match trusted.iter().find(|k| k.valid_at(time).is_ok()) {
        Some(k) => Signature::Good {
            signer: k.signer().to_string(),
            person: k.person.clone(),
            fingerprint,
        },
        None => Signature::Expired {
            signer: first.signer().to_string(),
            person: first.person.clone(),
            fingerprint,
            detail: first.valid_at(time).err().unwrap_or_default(),
        },
    }
}

/// An OpenPGP detached signature (git's default `gpg.format=openpgp`) of `payload`, checked
/// against the certificates of `signatures.openpgp_keys`: the issuer (fingerprint, else key id)
/// names the primary key or a subkey; validity (expiry, revocation) is judged at the
/// signature's own creation time, else at `time`.
fn openpgp(text: &str, payload: &[u8], time: i64, keys: &Keyring) -> Signature {
    use pgp::composed::{Deserializable, DetachedSignature};
    use pgp::types::KeyDetails;
    let sig = match DetachedSignature::from_string(text) {
        Ok((s, _)) => s,
        Err(e) => {
            return Signature::Bad {
                detail: format!("the OpenPGP signature cannot be read ({e})"),
            }
        }
    };
    let fingerprints: Vec<String> = sig
        .signature
        .issuer_fingerprint()
        .iter()
        .map(|f| format!("{f:X}"))
        .collect();
    let key_ids: Vec<String> = sig
        .signature
        .issuer_key_id()
        .iter()
        .map(|k| k.to_string().to_ascii_uppercase())
        .collect();
    let issuer = fingerprints
        .first()
        .or(key_ids.first())
        .cloned()
        .unwrap_or_else(|| "no issuer".to_string());
    let signed_at = sig
        .signature
        .created()
        .map_or(time, |t| i64::from(t.as_secs()));
    for k in &keys.openpgp {
        let names = |fp: String, id: String| fingerprints.contains(&fp) || key_ids.contains(&id);
        let primary = &k.cert.primary_key;
        let verified = if names(
            format!("{:X}", primary.fingerprint()),
            primary.legacy_key_id().to_string().to_ascii_uppercase(),
        ) {
            Some(sig.verify(primary, payload))
        } else {
            k.cert
                .public_subkeys
                .iter()
                .find(|s| {
                    names(
                        format!("{:X}", s.key.fingerprint()),
                        s.key.legacy_key_id().to_string().to_ascii_uppercase(),
                    )
                })
                .map(|s| sig.verify(s, payload))
        };
        let Some(verified) = verified else { continue };
        if let Err(e) = verified {
            return Signature::Bad {
                detail: format!(
                    "the OpenPGP signature does not verify with key {} ({e}): the signed object or the signature was altered",
                    k.fingerprint
                ),
            };
        }
        return match k.valid_at(signed_at) {
            Ok(()) => Signature::Good {
                signer: k.signer().to_string(),
                person: k.person.clone(),
                fingerprint: format!("OpenPGP {}", k.fingerprint),
            },
            Err(detail) => Signature::Expired {
                signer: k.signer().to_string(),
                person: k.person.clone(),
                fingerprint: format!("OpenPGP {}", k.fingerprint),
                detail,
            },
        };
    }
    Signature::UnknownKey {
        fingerprint: format!("OpenPGP {issuer}"),
    }
}

/// The signed annotated tags of the repository that point at one of `commits`, by commit id,
/// each list sorted by tag name. Unsigned and lightweight tags are left out; a tag that cannot
/// be read is skipped (it cannot be evidence).
pub(super) fn tags(
    repo: &Repository,
    commits: &std::collections::HashSet<&str>,
    keys: &Keyring,
) -> std::collections::BTreeMap<String, Vec<SignedTag>> {
    let mut out: std::collections::BTreeMap<String, Vec<SignedTag>> = Default::default();
    let Ok(names) = repo.tag_names(None) else {
        return out;
    };
    let Ok(odb) = repo.odb() else { return out };
    for name in names.iter().flatten().flatten() {
        let Ok(r) = repo.find_reference(&format!("refs/tags/{name}")) else {
            continue;
        };
        let Some(mut oid) = r.target() else { continue };
        // The first tag object on the chain is the one its name stands for; follow the chain
        // (a tag of a tag) to the commit, at most a few steps.
        let mut first: Option<(Vec<u8>, i64)> = None;
        let mut target: Option<Oid> = None;
        for _ in 0..8 {
            let Ok(tag) = repo.find_tag(oid) else {
                if repo.find_commit(oid).is_ok() {
                    target = Some(oid);
                }
                break;
            };
            if first.is_none() {
                let Ok(obj) = odb.read(oid) else { break };
                let time = tag.tagger().map_or(0, |t| t.when().seconds());
                first = Some((obj.data().to_vec(), time));
            }
            oid = tag.target_id();
        }
        let (Some((raw, time)), Some(target)) = (first, target) else {
            continue;
        };
        let id = target.to_string();
        if !commits.contains(id.as_str()) {
            continue;
        }
        if let Some(signature) = of_tag(&raw, time, keys) {
            out.entry(id).or_default().push(SignedTag {
                name: name.to_string(),
                signature,
            });
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ssh_key::{HashAlg, LineEnding, PrivateKey};

    fn keypair(seed: u8) -> PrivateKey {
        PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]))
    }

    fn ring(key: &PrivateKey, valid_before: Option<i64>) -> Keyring {
        Keyring {
            keys: vec![crate::keys::TrustedKey {
                key: key.public_key().key_data().clone(),
                fingerprint: crate::keys::fingerprint(key.public_key().key_data()),
                person: Some("hc".into()),
                principals: vec!["hc".into()],
                namespaces: None,
                valid_after: None,
                valid_before,
                origin: "people[hc].keys".into(),
            }],
            openpgp: Vec::new(),
        }
    }

    fn sign(key: &PrivateKey, namespace: &str, payload: &[u8]) -> Vec<u8> {
        key.sign(namespace, HashAlg::Sha512, payload)
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap()
            .into_bytes()
    }

    /// Good, unknown, expired, altered and wrong-namespace signatures are told apart.
    #[test]
    fn ssh_signatures_are_judged_against_the_keyring_at_the_signing_time() {
        let key = keypair(1);
        let sig = sign(&key, "git", b"tree abc\n");
        assert!(matches!(
            verify(&sig, b"tree abc\n", 100, &ring(&key, None)),
            Signature::Good { ref signer, .. } if signer == "hc"
        ));
        assert!(matches!(
            verify(&sig, b"tree abc\n", 100, &ring(&keypair(2), None)),
            Signature::UnknownKey { .. }
        ));
        assert!(matches!(
            verify(&sig, b"tree abc\n", 100, &ring(&key, Some(50))),
            Signature::Expired { .. }
        ));
        assert!(matches!(
            verify(&sig, b"tree abd\n", 100, &ring(&key, None)),
            Signature::Bad { .. }
        ));
        let file = sign(&key, "file", b"tree abc\n");
        assert!(matches!(
            verify(&file, b"tree abc\n", 100, &ring(&key, None)),
            Signature::Bad { ref detail } if detail.contains("namespace")
        ));
        assert!(matches!(
            verify(
                b"-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n",
                b"x",
                1,
                &ring(&key, None)
            ),
            Signature::Bad { .. }
        ));
        assert!(matches!(
            verify(
                b"-----BEGIN SIGNED MESSAGE-----\nMII\n-----END SIGNED MESSAGE-----\n",
                b"x",
                1,
                &ring(&key, None)
            ),
            Signature::Unverifiable { .. }
        ));
    }

    /// A commit signed (as `git commit -S` does: the sshsig of the commit buffer in a `gpgsig`
    /// header) is verified in the walk; a second run takes the result from the cache without
    /// walking; a change of the keys re-verifies.
    #[test]
    fn commit_signatures_are_cached_and_verified_again_when_the_keys_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        let key = keypair(9);
        let line = key.public_key().to_openssh().unwrap();
        let yaml = |keys: &str| {
            format!("organisation: O\nscope: S\nframework: iso20000-1:2018\npeople:\n  - id: hc\n    keys: [{keys}]\n")
        };
        std::fs::write(root.join("sms.yaml"), yaml("")).unwrap();
        std::fs::create_dir_all(root.join("policies")).unwrap();
        std::fs::write(
            root.join("policies/p.md"),
            "---\nid: POL-1\ntitle: P\ntype: policy\nowner: O\napprover: hc\nversion: \"1\"\nstatus: approved\napproved: 2023-11-14\nclauses: [\"8.1\"]\n---\n\nText.\n",
        )
        .unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let who = git2::Signature::new("A", "a@x", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let buf = repo
            .commit_create_buffer(&who, &who, "Policy 1", &tree, &[])
            .unwrap();
        let armoured = sign(&key, "git", &buf);
        let oid = repo
            .commit_signed(
                std::str::from_utf8(&buf).unwrap(),
                std::str::from_utf8(&armoured).unwrap().trim_end(),
                None,
            )
            .unwrap();
        repo.reference("refs/heads/main", oid, true, "signed")
            .unwrap();
        repo.set_head("refs/heads/main").unwrap();

        let read = |keys: &str| {
            let (config, d) = crate::config::parse(root, &yaml(keys)).unwrap();
            assert!(d.is_empty(), "{d:?}");
            let r = super::super::Repo::open(root).unwrap().unwrap();
            r.read(&config, &mut Vec::new()).unwrap()
        };
        let quoted = format!("\"{line}\"");
        let h = read(&quoted);
        assert_eq!(h.stats.walked_commits, 1);
        assert!(matches!(
            h.commits[0].signature,
            Some(Signature::Good { ref signer, .. }) if signer == "hc"
        ));
        let again = read(&quoted);
        assert_eq!(
            (again.stats.walked_commits, again.stats.cached_commits),
            (0, 1)
        );
        assert_eq!(again.commits[0].signature, h.commits[0].signature);
        let other = read("");
        assert_eq!(
            other.stats.walked_commits, 1,
            "the keys changed: walked again"
        );
        assert!(matches!(
            other.commits[0].signature,
            Some(Signature::UnknownKey { .. })
        ));
    }

    /// A tag's signature starts at the first line of a known armour; what precedes it is signed.
    #[test]
    fn a_tag_signature_covers_the_object_before_it() {
        let key = keypair(3);
        let body = b"object 0123\ntype commit\ntag v1\ntagger A <a@x> 1 +0000\n\nApproved\n";
        let mut raw = body.to_vec();
        raw.extend(sign(&key, "git", body));
        assert!(matches!(
            of_tag(&raw, 1, &ring(&key, None)),
            Some(Signature::Good { .. })
        ));
        assert_eq!(of_tag(body, 1, &ring(&key, None)), None);
    }
}
