"""Generate a throwaway app key pair and Alipay key pair, store them in OpenBao (a new version of
secret/alipay/leaks, so a rerun is a rotation) and print only the app public key for the stand-in."""
import base64
import json
import os
import sys

import hvac
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa


def b64(der):
    return base64.b64encode(der).decode()


def spki(key):
    return b64(key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))


app_id = sys.argv[1]
client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
alipay = rsa.generate_private_key(public_exponent=65537, key_size=2048)
client.secrets.kv.v2.create_or_update_secret(
    path=os.environ.get("LEAKS_VAULT_PATH", "alipay/leaks"), mount_point="secret",
    secret={"AP_APP_ID": app_id,
            "AP_APP_KEY": b64(app.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())),
            "AP_PUB_KEY": spki(alipay)})
print(json.dumps({app_id: {"appPublicKey": spki(app), "env": "prod"}}))
