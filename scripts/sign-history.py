#!/usr/bin/env python3
"""Re-sign every commit of a repository's current branch with one Ed25519 SSH key, the way
`git commit -S` with `gpg.format=ssh` does (an sshsig signature, namespace `git`, in the `gpgsig`
header), for the signature benchmark in BENCHMARKS.md. The history is rewritten (new commit ids,
same trees, authors and dates) and the branch is moved to the new tip.

usage: sign-history.py REPO KEYFILE   (KEYFILE: an unencrypted OpenSSH Ed25519 private key)
Needs Python's `cryptography` package. Only linear or merged histories of commit objects."""
import base64, hashlib, os, struct, subprocess, sys, zlib
from cryptography.hazmat.primitives import serialization


def sstr(b):
    return struct.pack(">I", len(b)) + b


def main():
    repo, keyfile = sys.argv[1], sys.argv[2]
    key = serialization.load_ssh_private_key(open(keyfile, "rb").read(), password=None)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pub_blob = sstr(b"ssh-ed25519") + sstr(pub)

    def sign(payload):
        h = hashlib.sha512(payload).digest()
        signed = b"SSHSIG" + sstr(b"git") + sstr(b"") + sstr(b"sha512") + sstr(h)
        sig = sstr(b"ssh-ed25519") + sstr(key.sign(signed))
        blob = b"SSHSIG" + struct.pack(">I", 1) + sstr(pub_blob) + sstr(b"git") + sstr(b"")
        blob += sstr(b"sha512") + sstr(sig)
        b64 = base64.b64encode(blob).decode()
        lines = ["-----BEGIN SSH SIGNATURE-----"]
        lines += [b64[i : i + 70] for i in range(0, len(b64), 70)]
        lines.append("-----END SSH SIGNATURE-----")
        return "\n ".join(lines).encode()

    git = lambda *a: subprocess.run(["git", "-C", repo, *a], check=True, capture_output=True).stdout
    branch = git("symbolic-ref", "HEAD").decode().strip()
    revs = git("rev-list", "--reverse", "--topo-order", "HEAD").decode().split()
    objdir = git("rev-parse", "--git-path", "objects").decode().strip()
    if not os.path.isabs(objdir):
        objdir = os.path.join(repo, objdir)
    cat = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    new = {}
    for n, rev in enumerate(revs):
        cat.stdin.write(rev.encode() + b"\n")
        cat.stdin.flush()
        header = cat.stdout.readline().split()
        size = int(header[2])
        raw = cat.stdout.read(size)
        cat.stdout.read(1)
        head, _, message = raw.partition(b"\n\n")
        out = []
        for line in head.split(b"\n"):
            if line.startswith(b"parent "):
                line = b"parent " + new[line[7:].decode()].encode()
            if line.startswith(b"gpgsig") or line.startswith(b" "):
                continue
            out.append(line)
        payload = b"\n".join(out) + b"\n\n" + message
        signed_head = out[:]
        # gpgsig goes after the committer line
        at = max(i for i, l in enumerate(signed_head) if l.startswith(b"committer ")) + 1
        signed_head.insert(at, b"gpgsig " + sign(payload))
        body = b"\n".join(signed_head) + b"\n\n" + message
        obj = b"commit " + str(len(body)).encode() + b"\0" + body
        oid = hashlib.sha1(obj).hexdigest()
        d = os.path.join(objdir, oid[:2])
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, oid[2:])
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(zlib.compress(obj))
        new[rev] = oid
        if n % 2000 == 0:
            print(f"{n}/{len(revs)}", file=sys.stderr)
    cat.stdin.close()
    git("update-ref", branch, new[revs[-1]])
    print(new[revs[-1]])


main()
