"""The OpenBao fixture serves KV v2 to hvac and to community.hashi_vault, and stops cleanly."""

import json
import os
import socket
import subprocess
import urllib.parse

import hvac


def test_kv2_roundtrip_through_community_hashi_vault(openbao_server, tmp_path):
    client = hvac.Client(url=openbao_server["addr"], token=openbao_server["token"])
    client.secrets.kv.v2.create_or_update_secret(path="alipay/test", secret={"AP_APP_ID": "2021000000000001"})

    result = subprocess.run(
        ["ansible", "localhost", "-m", "community.hashi_vault.vault_kv2_get", "-a",
         json.dumps({"url": openbao_server["addr"], "token": openbao_server["token"],
                     "engine_mount_point": "secret", "path": "alipay/test"}),
         "-o"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"AP_APP_ID": "2021000000000001"' in result.stdout


def test_server_listens_on_loopback_and_stops(tmp_path):
    import openbao

    state = str(tmp_path / "bao")
    info = openbao.start(state)
    port = urllib.parse.urlparse(info["addr"]).port
    assert urllib.parse.urlparse(info["addr"]).hostname == "127.0.0.1"
    openbao.stop(state)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
