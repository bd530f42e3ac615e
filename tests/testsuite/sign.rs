//! `bundle --sign KEYFILE` and `verify --signer ALLOWED_SIGNERS`: the signature of SHA256SUMS is
//! checked with the real `ssh-keygen -Y verify` (as an auditor without auditbook would) and with
//! auditbook; a signature that `ssh-keygen -Y sign` made is accepted; altered lists, keys not
//! listed, other namespaces and unsigned bundles fail. Keys are made by the real `ssh-keygen` in
//! a temporary folder; `.ci/run` installs it (openssh-client), and under `CI=true` a missing
//! `ssh-keygen` fails the tests instead of skipping them.

use crate::bundle::rewrite;
use crate::support::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PRINCIPAL: &str = "who@example";

/// Whether `ssh-keygen` can be run; panics under `CI=true` when it cannot.
pub(crate) fn have_ssh_keygen() -> bool {
    // `ssh-keygen` without a valid option prints its usage and exits 1; not found is the error.
    let found = Command::new("ssh-keygen")
        .arg("-?")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but ssh-keygen is not installed (apt-get install -y openssh-client); the signature tests must run with it in CI");
        }
        eprintln!("skipped: ssh-keygen is not installed (apt-get install openssh-client)");
    }
    found
}

/// `ssh-keygen ARGS` with `stdin`; (success, stdout + stderr).
fn ssh_keygen(args: &[&str], stdin: &[u8]) -> (bool, String) {
    let (ok, stdout, stderr) = ssh_keygen_split(args, stdin);
    (ok, format!("{stdout}{stderr}"))
}

/// `ssh-keygen ARGS` with `stdin`; (success, stdout, stderr).
fn ssh_keygen_split(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new("ssh-keygen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh-keygen runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A new Ed25519 key `dir/name` (no passphrase, comment `who@example`); returns its path.
fn new_key(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let (ok, out) = ssh_keygen(
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            PRINCIPAL,
            "-f",
            key.to_str().unwrap(),
        ],
        b"",
    );
    assert!(ok, "ssh-keygen: {out}");
    key
}

/// The `SHA256:...` fingerprint of a key, as ssh-keygen gives it.
pub(crate) fn fingerprint(key: &Path) -> String {
    let (ok, out) = ssh_keygen(&["-l", "-E", "sha256", "-f", key.to_str().unwrap()], b"");
    assert!(ok, "ssh-keygen -l: {out}");
    out.split_whitespace().nth(1).unwrap().to_string()
}

/// An allowed signers file `dir/name`: `principal [options] <public key of key>`.
fn allowed(dir: &Path, name: &str, options: &str, key: &Path) -> PathBuf {
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let path = dir.join(name);
    let options = if options.is_empty() {
        String::new()
    } else {
        format!("{options} ")
    };
    std::fs::write(
        &path,
        format!("# who may sign bundles\n{PRINCIPAL} {options}{public}"),
    )
    .unwrap();
    path
}

/// A small SMS committed to git.
fn committed_sms() -> Sms {
    let sms = Sms::new();
    sms.file(
        "policies/change.md",
        &doc("POL-CHG", &["8.5.1.1"], "", "How changes are made."),
    );
    git_at(sms.path(), &["init", "-q"], "2026-11-20T10:00:00Z");
    git_at(sms.path(), &["add", "-A"], "2026-11-20T10:00:00Z");
    git_at(
        sms.path(),
        &["commit", "-q", "-m", "Initial SMS"],
        "2026-11-20T10:00:00Z",
    );
    sms
}

/// `bundle --out OUT ARGS…`; the bundle must be written (exit 0 or 1: the tiny SMS has gaps).
fn bundle(sms: &Sms, out: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = sms.run("bundle", &all);
    assert!(
        r.code == 0 || r.code == 1,
        "stdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
    r
}

fn verify(zip: &Path, args: &[&str]) -> Run {
    let mut c = auditbook();
    c.arg("verify").arg(zip).args(args);
    run(c)
}

/// The bytes of one zip entry.
fn entry(zip: &Path, name: &str) -> Vec<u8> {
    let mut a = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut f = a.by_name(name).unwrap();
    let mut b = Vec::new();
    f.read_to_end(&mut b).unwrap();
    b
}

/// What an auditor runs without auditbook, on the two entries unzipped.
fn ssh_keygen_verify(zip: &Path, signers: &Path) -> (bool, String) {
    let dir = zip.parent().unwrap();
    let sig = dir.join("extracted.sig");
    std::fs::write(&sig, entry(zip, "SHA256SUMS.sig")).unwrap();
    ssh_keygen(
        &[
            "-Y",
            "verify",
            "-f",
            signers.to_str().unwrap(),
            "-I",
            PRINCIPAL,
            "-n",
            "auditbook-bundle",
            "-s",
            sig.to_str().unwrap(),
        ],
        &entry(zip, "SHA256SUMS"),
    )
}

/// The signature is the one `ssh-keygen -Y sign` makes, ssh-keygen verifies it, auditbook names
/// the signer, the bundle is byte-identical when signed again, and the fingerprint is that of
/// the unsigned bundle.
#[test]
fn a_signed_bundle_verifies_with_ssh_keygen_and_with_auditbook() {
    if !have_ssh_keygen() {
        return;
    }
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let key = new_key(tmp.path(), "key");
    let signers = allowed(tmp.path(), "allowed_signers", "", &key);
    let signed = tmp.path().join("signed.zip");
    let r = bundle(&sms, &signed, &["--sign", key.to_str().unwrap()]);
    let fp = fingerprint(&key);
    assert!(
        r.stdout.contains(&format!("signed by    {fp}")),
        "{}",
        r.stdout
    );

    // Deterministic: the same key signs the same bundle to the same bytes.
    let again = tmp.path().join("again.zip");
    bundle(&sms, &again, &["--sign", key.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&signed).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // Signing leaves the fingerprint (SHA256SUMS) as it is.
    let unsigned = tmp.path().join("unsigned.zip");
    let u = bundle(&sms, &unsigned, &[]);
    assert_eq!(entry(&signed, "SHA256SUMS"), entry(&unsigned, "SHA256SUMS"));
    let line = |out: &str| {
        out.lines()
            .find(|l| l.contains("fingerprint  "))
            .map(str::to_string)
    };
    assert_eq!(line(&r.stdout), line(&u.stdout));

    // The armour ssh-keygen writes, byte for byte (Ed25519 signatures are deterministic).
    let (ok, by_ssh_keygen, err) = ssh_keygen_split(
        &[
            "-Y",
            "sign",
            "-f",
            key.to_str().unwrap(),
            "-n",
            "auditbook-bundle",
        ],
        &entry(&signed, "SHA256SUMS"),
    );
    assert!(ok, "{err}");
    assert_eq!(
        String::from_utf8(entry(&signed, "SHA256SUMS.sig")).unwrap(),
        by_ssh_keygen
    );

    // An auditor without auditbook.
    let (ok, out) = ssh_keygen_verify(&signed, &signers);
    assert!(ok, "ssh-keygen -Y verify: {out}");
    assert!(out.contains(&format!(
        "Good \"auditbook-bundle\" signature for {PRINCIPAL}"
    )));

    // auditbook names who signed.
    let v = verify(&signed, &["--signer", signers.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains(&format!("signed by    {PRINCIPAL} (key {fp})")),
        "{}",
        v.stdout
    );
    // Without --signer: present, but unchecked.
    let v = verify(&signed, &[]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(&format!(
            "signature    present, by the key {fp}, signer UNCHECKED"
        )),
        "{}",
        v.stdout
    );
    // The bundle's README.txt tells the auditor how to check it without auditbook.
    let readme = String::from_utf8(entry(&signed, "README.txt")).unwrap();
    assert!(
        readme.contains("ssh-keygen -Y verify -f allowed_signers"),
        "{readme}"
    );
    // `sha256sum -c SHA256SUMS` is unaffected: the signature is not listed.
    assert!(!String::from_utf8(entry(&signed, "SHA256SUMS"))
        .unwrap()
        .contains("SHA256SUMS.sig"));
}

/// A SHA256SUMS changed after signing fails ssh-keygen and auditbook (with or without --signer).
#[test]
fn an_altered_sha256sums_fails_the_signature() {
    if !have_ssh_keygen() {
        return;
    }
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let key = new_key(tmp.path(), "key");
    let signers = allowed(tmp.path(), "allowed_signers", "", &key);
    let signed = tmp.path().join("signed.zip");
    bundle(&sms, &signed, &["--sign", key.to_str().unwrap()]);
    let altered = tmp.path().join("altered.zip");
    rewrite(
        &signed,
        &altered,
        |name, bytes| {
            Some(if name == "SHA256SUMS" {
                let mut t = String::from_utf8(bytes).unwrap();
                t.push_str(&format!("{}  extra.txt\n", "0".repeat(64)));
                t.into_bytes()
            } else {
                bytes
            })
        },
        &[],
    );
    let (ok, out) = ssh_keygen_verify(&altered, &signers);
    assert!(!ok, "ssh-keygen accepted an altered SHA256SUMS: {out}");
    for args in [vec!["--signer", signers.to_str().unwrap()], vec![]] {
        let v = verify(&altered, &args);
        assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
        assert!(
            v.stdout
                .contains("signature: SHA256SUMS.sig: does not verify for SHA256SUMS"),
            "{}",
            v.stdout
        );
    }
}

/// A good signature by a key the allowed signers do not list (or list for other namespaces
/// only) fails; listed for this namespace, it passes.
#[test]
fn a_key_not_allowed_fails() {
    if !have_ssh_keygen() {
        return;
    }
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let key = new_key(tmp.path(), "key");
    let other = new_key(tmp.path(), "other");
    let signed = tmp.path().join("signed.zip");
    bundle(&sms, &signed, &["--sign", other.to_str().unwrap()]);
    let signers = allowed(tmp.path(), "allowed_signers", "", &key);
    let (ok, out) = ssh_keygen_verify(&signed, &signers);
    assert!(!ok, "ssh-keygen accepted a key not listed: {out}");
    let v = verify(&signed, &["--signer", signers.to_str().unwrap()]);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(&format!(
            "signature: SHA256SUMS.sig: made by the key {}, which",
            fingerprint(&other)
        )),
        "{}",
        v.stdout
    );
    assert!(v.stderr.contains("FAILED"), "{}", v.stderr);

    // Listed, but for git commits only: ssh-keygen and auditbook refuse it alike.
    let git_only = allowed(tmp.path(), "git_only", "namespaces=\"git\"", &other);
    let (ok, out) = ssh_keygen_verify(&signed, &git_only);
    assert!(!ok, "ssh-keygen accepted a key listed for git only: {out}");
    let v = verify(&signed, &["--signer", git_only.to_str().unwrap()]);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    // Listed for this namespace: both accept it.
    let bundles = allowed(
        tmp.path(),
        "bundles",
        "namespaces=\"git,auditbook-bundle\"",
        &other,
    );
    let (ok, out) = ssh_keygen_verify(&signed, &bundles);
    assert!(ok, "{out}");
    let v = verify(&signed, &["--signer", bundles.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// A signature made by `ssh-keygen -Y sign` over our SHA256SUMS (the organisation signing by hand,
/// with a key auditbook never saw) is accepted; one made for another namespace is not; an
/// unsigned bundle fails under --signer.
#[test]
fn a_signature_by_ssh_keygen_is_accepted() {
    if !have_ssh_keygen() {
        return;
    }
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let key = new_key(tmp.path(), "key");
    let signers = allowed(tmp.path(), "allowed_signers", "", &key);
    let unsigned = tmp.path().join("unsigned.zip");
    bundle(&sms, &unsigned, &[]);
    let v = verify(&unsigned, &["--signer", signers.to_str().unwrap()]);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("signature: SHA256SUMS.sig: missing"),
        "{}",
        v.stdout
    );
    assert!(verify(&unsigned, &[]).stdout.contains("signature    none"));
    // The allowed signers file is read first: a missing one is an error even for an unsigned bundle.
    let v = verify(&unsigned, &["--signer", "/nonexistent/allowed_signers"]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stderr.contains("cannot read the allowed signers file"),
        "{}",
        v.stderr
    );

    let sign_as = |namespace: &str| {
        let (ok, sig, err) = ssh_keygen_split(
            &["-Y", "sign", "-f", key.to_str().unwrap(), "-n", namespace],
            &entry(&unsigned, "SHA256SUMS"),
        );
        assert!(ok, "{err}");
        sig
    };
    let by_hand = tmp.path().join("by-hand.zip");
    let sig = sign_as("auditbook-bundle");
    rewrite(
        &unsigned,
        &by_hand,
        |_, b| Some(b),
        &[("SHA256SUMS.sig", sig.as_bytes())],
    );
    let v = verify(&by_hand, &["--signer", signers.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains(&format!("signed by    {PRINCIPAL}")),
        "{}",
        v.stdout
    );

    let other_namespace = tmp.path().join("file-namespace.zip");
    let sig = sign_as("file");
    rewrite(
        &unsigned,
        &other_namespace,
        |_, b| Some(b),
        &[("SHA256SUMS.sig", sig.as_bytes())],
    );
    let v = verify(&other_namespace, &["--signer", signers.to_str().unwrap()]);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stdout.contains("made for the namespace \"file\""),
        "{}",
        v.stdout
    );
}

/// A key file auditbook cannot sign with stops `bundle` before any work (exit 2, nothing
/// written): one with a passphrase, one that is no key; so does a malformed allowed signers file
/// in `verify` (with its line).
#[test]
fn unusable_keys_and_signer_files_are_refused() {
    if !have_ssh_keygen() {
        return;
    }
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked");
    let (ok, out) = ssh_keygen(
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "secret",
            "-f",
            locked.to_str().unwrap(),
        ],
        b"",
    );
    assert!(ok, "{out}");
    let out_zip = tmp.path().join("b.zip");
    let r = sms.run(
        "bundle",
        &[
            "--out",
            out_zip.to_str().unwrap(),
            "--sign",
            locked.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("protected by a passphrase"),
        "{}",
        r.stderr
    );
    assert!(!out_zip.exists());
    let r = sms.run(
        "bundle",
        &[
            "--out",
            out_zip.to_str().unwrap(),
            "--sign",
            locked.with_extension("pub").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("is not an OpenSSH private key"),
        "{}",
        r.stderr
    );

    let key = new_key(tmp.path(), "key");
    bundle(&sms, &out_zip, &["--sign", key.to_str().unwrap()]);
    let bad = tmp.path().join("bad_signers");
    std::fs::write(&bad, "# list\nwho@example ssh-ed25519 not-base64!\n").unwrap();
    let v = verify(&out_zip, &["--signer", bad.to_str().unwrap()]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(
        v.stderr.contains(&format!("{}:2:", bad.display())),
        "{}",
        v.stderr
    );
}

/// A `SHA256SUMS.sig` that is not a signature, or decompresses past any signature's size, is a
/// problem even without --signer (exit 1, never a panic); the rest of the bundle is still checked.
#[test]
fn a_garbage_signature_entry_fails() {
    let sms = committed_sms();
    let tmp = tempfile::tempdir().unwrap();
    let unsigned = tmp.path().join("unsigned.zip");
    bundle(&sms, &unsigned, &[]);
    let huge = vec![b'A'; 1 << 20];
    for (name, sig, says) in [
        ("text.zip", &b"hello\n"[..], "not an SSH signature"),
        ("binary.zip", &b"\xff\x00\xfe"[..], "not an SSH signature"),
        ("huge.zip", &huge[..], "decompresses to more than"),
    ] {
        let zip = tmp.path().join(name);
        rewrite(&unsigned, &zip, |_, b| Some(b), &[("SHA256SUMS.sig", sig)]);
        let v = verify(&zip, &[]);
        assert_eq!(v.code, 1, "{name}: {}{}", v.stdout, v.stderr);
        assert!(
            v.stdout.contains("signature: SHA256SUMS.sig: ") && v.stdout.contains(says),
            "{name}: {}",
            v.stdout
        );
        assert_eq!(v.stdout.lines().count(), 1, "{name}: {}", v.stdout);
    }
}
