"""Leak scan of the alipay_mcp_leaks scenario.

windows      (controller) read every version of the scenario's OpenBao secret and print, as JSON on stdout,
             every 16-character window of the app private key and the Alipay public key in each encoding
             (PKCS#8 base64 line, PKCS#1 base64, PEM body, DER hex), minus the structural windows that any
             key of the same kind has (found by encoding two unrelated reference keys).
scan         (anywhere, stdlib only) read that JSON on stdin and scan the files named on the command line, or
             with --fs every regular file of the root file system except the excluded paths; print a JSON
             summary. A hit names the file, the key and the encoding, never the matching text.
"""
import base64
import json
import os
import re
import sys

WINDOW = 16
# Every encoding uses only these characters (PEM body: base64 plus line breaks; DER hex: 0-9a-f).
CANDIDATE_RUN = re.compile(rb"[A-Za-z0-9+/=\n]{%d,}" % WINDOW)
MAX_BYTES = 64 * 1024 * 1024
KEY_SPECIFIC = 12


def _encodings(key_der_pkcs8_or_spki, private):
    from cryptography.hazmat.primitives import serialization as s

    if private:
        key = s.load_der_private_key(key_der_pkcs8_or_spki, password=None)
        pkcs8 = key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())
        pkcs1 = key.private_bytes(s.Encoding.DER, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption())
        pem = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode()
        pem1 = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption()).decode()
    else:
        key = s.load_der_public_key(key_der_pkcs8_or_spki)
        pkcs8 = key.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
        pkcs1 = key.public_bytes(s.Encoding.DER, s.PublicFormat.PKCS1)
        pem = key.public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode()
        pem1 = key.public_bytes(s.Encoding.PEM, s.PublicFormat.PKCS1).decode()
    body = lambda p: "\n".join(line for line in p.strip().splitlines() if not line.startswith("-----"))
    return {
        "pkcs8-base64": base64.b64encode(pkcs8).decode(),
        "pkcs1-base64": base64.b64encode(pkcs1).decode(),
        "pem-body": body(pem),
        "pkcs1-pem-body": body(pem1),
        "der-hex": pkcs8.hex(),
        "pkcs1-der-hex": pkcs1.hex(),
    }


def _windows_of(text):
    return {text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1)}


def cmd_windows():
    import hvac
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = os.environ.get("LEAKS_VAULT_PATH", "alipay/leaks")
    client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
    meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point="secret")
    versions = sorted(int(v) for v in meta["data"]["versions"])
    # Structural text (ASN.1 headers, OIDs, lengths, the exponent) is shared by every 2048-bit key, and
    # a window that is mostly structural matches unrelated keys (the CA bundle has many): mark the
    # characters covered by an 8-gram that unrelated reference keys also have, and keep only windows with
    # at least KEY_SPECIFIC characters that are specific to this key.
    common, ref8 = set(), set()
    for _ in range(2):
        ref = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for priv in (True, False):
            der = (ref.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()) if priv
                   else ref.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))
            for text in _encodings(der, priv).values():
                common |= _windows_of(text)
                ref8 |= {text[i:i + 8] for i in range(len(text) - 7)}
    out, labels = {}, []
    for v in versions:
        data = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point="secret", version=v, raise_on_deleted_version=False)["data"]["data"]
        for field, priv in (("AP_APP_KEY", True), ("AP_PUB_KEY", False)):
            for enc, text in _encodings(base64.b64decode(data[field]), priv).items():
                labels.append("%s v%d %s" % (field, v, enc))
                covered = [False] * len(text)
                for i in range(len(text) - 7):
                    if text[i:i + 8] in ref8:
                        covered[i:i + 8] = [True] * 8
                for i in range(len(text) - WINDOW + 1):
                    w = text[i:i + WINDOW]
                    if w not in common and covered[i:i + WINDOW].count(False) >= KEY_SPECIFIC:
                        out.setdefault(w, len(labels) - 1)
    json.dump({"versions": versions, "labels": labels, "windows": out}, sys.stdout)


def _scan_bytes(data, windows):
    for m in CANDIDATE_RUN.finditer(data):
        run = m.group().decode("ascii")
        for i in range(len(run) - WINDOW + 1):
            label = windows.get(run[i:i + WINDOW])
            if label is not None:
                return label
    return None


def _walk(excluded_prefixes, excluded_parts):
    for top, dirs, files in os.walk("/", topdown=True):
        dirs[:] = [d for d in dirs
                   if not any((os.path.join(top, d) + "/").startswith(p) for p in excluded_prefixes)
                   and d not in excluded_parts
                   and not os.path.ismount(os.path.join(top, d))]
        for f in files:
            p = os.path.join(top, f)
            if not os.path.islink(p) and os.path.isfile(p):
                yield p


def cmd_scan(args):
    spec = json.load(sys.stdin)
    windows = spec["windows"]
    if len(windows) < 1000:
        raise SystemExit("too few windows (%d): the key material was not found" % len(windows))
    allowed = set(spec.get("allowed", []))
    if args and args[0] == "--fs":
        paths = _walk(spec.get("exclude_prefixes", []), set(spec.get("exclude_dir_names", [])))
    else:
        paths = iter(args)
    hits, skipped_allowed, count, size = [], [], 0, 0
    for p in paths:
        if p in allowed:
            skipped_allowed.append(p)
            continue
        try:
            with open(p, "rb") as fh:
                data = fh.read(MAX_BYTES)
        except OSError:
            continue
        count += 1
        size += len(data)
        label = _scan_bytes(data, windows)
        if label is not None:
            hits.append({"path": p, "key": spec["labels"][label]})
    tmp = []
    for d in spec.get("list_dirs", []):
        for top, _, files in os.walk(d):
            tmp.extend(os.path.join(top, f) for f in files)
    json.dump({"files": count, "bytes": size, "hits": hits, "allowed_skipped": sorted(skipped_allowed),
               "tmp_leftovers": tmp, "windows": len(windows)}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "windows":
        cmd_windows()
    else:
        cmd_scan(sys.argv[2:])
