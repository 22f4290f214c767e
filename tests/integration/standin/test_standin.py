"""The mcp-server-alipay stand-in must keep the real server's interface (REFERENCE.md section 1)."""

import base64
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import APP_ID, StandIn, clean_env
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

TOOL_NAMES = [
    "create-mobile-alipay-payment",
    "create-web-page-alipay-payment",
    "query-alipay-payment",
    "refund-alipay-payment",
    "query-alipay-refund",
]
ALIASES = ["mobilePay", "webPagePay", "queryPay", "refundPay", "refundQuery"]
GENERIC_ERROR = "mcp-server-alipay 异常，参考日志文件获取详细信息"
PROD = "https://openapi.alipay.com/gateway.do"
SANDBOX = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
QUERY_PREFIX = "交易查询失败. 查询结果: "
REFUND_PREFIX = "退款执行失败. 退款结果: "
REFUND_QUERY_PREFIX = "退款查询失败. 退款查询结果: "
QUERY_OK = "交易查询成功. 查询结果: "
REFUND_OK = "退款执行成功. 退款结果: "
REFUND_QUERY_OK = "退款查询成功. 退款查询结果: "
PAYMENT_ARGS = {"outTradeNo": "PAY-001", "totalAmount": 9.9, "orderTitle": "测试订单"}


def app_entry(keys, **extra):
    entry = {
        "appPublicKey": keys["app"].spki_b64,
        "mcpEnabled": True,
        "signingMethodSet": True,
        "orders": {
            "T-PAID": {
                "tradeNo": "2024000000000001",
                "tradeStatus": "TRADE_SUCCESS",
                "totalAmount": "9.90",
                "refunds": {"R-1": {"refundAmount": "1.00"}},
            },
        },
    }
    entry.update(extra)
    return entry


@pytest.fixture
def registered(write_state, keys):
    """The state where AP_APP_ID is registered with the app's public key; returns a re-writer."""

    def _write(**extra):
        return write_state({"apps": {APP_ID: app_entry(keys, **extra)}})

    _write()
    return _write


SHARED_URLS = {
    "AP_RETURN_URL": "https://shop.example/ok",
    "AP_NOTIFY_URL": "https://shop.example/notify",
    "AP_INVOKE_AUTH_TOKEN": "tok-1",
}


@pytest.fixture(scope="module")
def shared(node, keys, tmp_path_factory):
    """One initialized stand-in (default keys, prod, RSA2, all tools) for the tests that need no
    special environment: node start-up dominates the run time. Tests that change its state file
    go through `alipay_side`, which puts the default back."""
    root = tmp_path_factory.mktemp("shared")
    (root / "home").mkdir()
    state = root / "state.json"
    state.write_text(json.dumps({"apps": {APP_ID: app_entry(keys)}}))
    server = StandIn(node, clean_env(root / "home", state, keys, **SHARED_URLS))
    server.state_path = state
    try:
        server.initialize()
        yield server
    finally:
        server.kill()


@pytest.fixture
def alipay_side(shared, keys):
    """set(state) rewrites what the shared stand-in's simulated Alipay knows (None: no file);
    the stand-in reads it at each call, so no restart is needed."""
    default = shared.state_path.read_text()

    def _set(state):
        if state is None:
            shared.state_path.unlink()
        else:
            shared.state_path.write_text(json.dumps(state))
        return shared

    yield _set
    shared.state_path.write_text(default)


def answer(text, prefix):
    assert text.startswith(prefix), text
    return json.loads(text[len(prefix) :])


# ---- interface -------------------------------------------------------------------


def test_initialize_answers_2024_11_05_with_tools_only(start):
    server = start()
    result = server.initialize(protocol="2025-06-18")
    assert result["protocolVersion"] == "2024-11-05"
    assert list(result["capabilities"]) == ["tools"]
    assert result["serverInfo"]["name"] == "mcp-server-alipay"
    assert result["serverInfo"]["version"] == "1.4.0"


def test_tools_list_matches_the_interface(shared):
    tools = shared.list_tools()["result"]["tools"]  # AP_SELECT_TOOLS unset: all five
    assert [t["name"] for t in tools] == TOOL_NAMES
    required = {
        "create-mobile-alipay-payment": ["outTradeNo", "totalAmount", "orderTitle"],
        "create-web-page-alipay-payment": ["outTradeNo", "totalAmount", "orderTitle"],
        "query-alipay-payment": ["outTradeNo"],
        "refund-alipay-payment": ["outTradeNo", "refundAmount", "outRequestNo"],
        "query-alipay-refund": ["outRequestNo", "outTradeNo"],
    }
    optional = {"refund-alipay-payment": {"refundReason"}}
    for tool in tools:
        schema = tool["inputSchema"]
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        assert schema["required"] == required[tool["name"]]
        assert set(schema["properties"]) == set(required[tool["name"]]) | optional.get(tool["name"], set())
        for name, prop in schema["properties"].items():
            if name in ("outTradeNo", "outRequestNo"):
                assert (prop["type"], prop["maxLength"]) == ("string", 64)
            elif name in ("orderTitle", "refundReason"):
                assert (prop["type"], prop["maxLength"]) == ("string", 256)
            else:
                assert name in ("totalAmount", "refundAmount")
                assert prop["type"] == "number"
                assert (prop["minimum"], prop["maximum"]) == (0.01, 100000000)
                assert (prop["multipleOf"], prop["exclusiveMinimum"]) == (0.01, 0)
        assert tool["outputSchema"]["type"] == "object"
        assert tool["description"]


# ---- AP_SELECT_TOOLS ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", TOOL_NAMES),
        ("all", TOOL_NAMES),
        ("all,queryPay", TOOL_NAMES),
        (",".join(ALIASES), TOOL_NAMES),
        ("queryPay,mobilePay", ["create-mobile-alipay-payment", "query-alipay-payment"]),
        ("query-alipay-refund,refundPay", ["refund-alipay-payment", "query-alipay-refund"]),
        # Validation trims, mapping does not: only the first item counts.
        ("mobilePay, queryPay", ["create-mobile-alipay-payment"]),
        ("mobilePay , queryPay", []),
    ],
)
def test_select_tools(ready, value, expected):
    server = ready(AP_SELECT_TOOLS=value)
    assert [t["name"] for t in server.list_tools()["result"]["tools"]] == expected


@pytest.mark.parametrize(
    "value, bad",
    [("mobilePay,bogus", "bogus"), ("all,bogus", "bogus"), ("queryPay, nope ", "nope"), ("queryPay,", "")],
)
def test_invalid_select_tools_is_an_internal_error_and_the_process_survives(ready, value, bad):
    server = ready(AP_SELECT_TOOLS=value)
    expected = {
        "code": -32603,
        "message": f"Invalid tool: {bad}. Accepted tools are: {', '.join(TOOL_NAMES + ALIASES)}",
    }
    for dummy in range(2):
        assert server.list_tools()["error"] == expected
    reply = server.request("tools/call", {"name": "query-alipay-payment", "arguments": {"outTradeNo": "T1"}})
    assert reply["error"] == expected
    assert server.request("ping")["result"] == {}
    assert server.proc.poll() is None


def test_disabled_tool_answers_plain_text(ready):
    server = ready(AP_SELECT_TOOLS="queryPay")
    text, is_error = server.call_text(
        "refund-alipay-payment", {"outTradeNo": "T1", "refundAmount": 1, "outRequestNo": "R1"}
    )
    assert (text, is_error) == ("该工具refund-alipay-payment被配置为不可调用", False)


# ---- start-up environment ----------------------------------------------------------


@pytest.mark.parametrize("name", ["AP_APP_ID", "AP_APP_KEY", "AP_PUB_KEY"])
@pytest.mark.parametrize("value", [None, ""])
def test_missing_required_variable_exits_1_before_mcp(start, name, value):
    server = start(**{name: value})
    server.send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2024-11-05",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
    )
    assert server.proc.wait(timeout=10) == 1
    assert server.unread_stdout() == b""
    assert server.proc.stderr.read().decode().startswith(f"环境变量中缺少 {name}")


def test_required_variables_are_checked_in_order(start):
    server = start(AP_APP_ID=None, AP_APP_KEY="", AP_PUB_KEY=None)
    assert server.proc.wait(timeout=10) == 1
    assert server.proc.stderr.read().decode().startswith("环境变量中缺少 AP_APP_ID")


def test_key_format_is_not_checked_at_start(ready, registered):
    server = ready(AP_APP_KEY="not-a-key", AP_PUB_KEY="not-a-key-either")
    assert len(server.list_tools()["result"]["tools"]) == 5
    assert server.call_text("query-alipay-payment", {"outTradeNo": "T1"}) == (GENERIC_ERROR, True)


# ---- simulated Alipay answers ------------------------------------------------------


@pytest.mark.parametrize("order", ["NO-SUCH-ORDER", "constructor"])
def test_matching_keys_give_trade_not_exist(shared, order):
    text, is_error = shared.call_text("query-alipay-payment", {"outTradeNo": order})
    assert not is_error
    assert answer(text, QUERY_PREFIX) == {
        "code": "40004",
        "msg": "Business Failed",
        "subCode": "ACQ.TRADE_NOT_EXIST",
        "subMsg": "交易不存在",
    }


def test_mismatching_keys_give_invalid_signature(ready, registered, keys):
    text, is_error = ready(AP_APP_KEY=keys["other"].pkcs8_b64).call_text("query-alipay-payment", {"outTradeNo": "T1"})
    assert not is_error
    body = answer(text, QUERY_PREFIX)
    assert (body["code"], body["msg"], body["subCode"]) == ("40002", "Invalid Arguments", "isv.invalid-signature")


@pytest.mark.parametrize(
    "state",
    [
        None,
        {"apps": {"2021999999999999": {"appPublicKey": "unused"}}},
        {"apps": {APP_ID: {"mcpEnabled": True}}},
        {"signingMethodSet": False},
        {"env": "sandbox"},
    ],
    ids=["absent-file", "unregistered", "no-public-key", "signing-method-unset", "sandbox-only-app"],
)
def test_missing_signature_key(alipay_side, keys, state):
    if state is not None and "apps" not in state:
        state = {"apps": {APP_ID: app_entry(keys, **state)}}
    text, is_error = alipay_side(state).call_text("query-alipay-payment", {"outTradeNo": "T1"})
    body = answer(text, QUERY_PREFIX)
    assert not is_error
    assert (body["code"], body["msg"], body["subCode"]) == (
        "40001",
        "Missing Required Arguments",
        "isv.missing-signature-key",
    )


def test_sandbox_app_answers_on_the_sandbox_gateway(ready, registered):
    registered(env="sandbox")
    text, dummy = ready(AP_CURRENT_ENV="sandbox").call_text("query-alipay-payment", {"outTradeNo": "NOPE"})
    assert answer(text, QUERY_PREFIX)["subCode"] == "ACQ.TRADE_NOT_EXIST"


def test_mcp_switch_off(alipay_side, keys):
    server = alipay_side({"apps": {APP_ID: app_entry(keys, mcpEnabled=False)}})
    text, is_error = server.call_text("query-alipay-payment", {"outTradeNo": "T1"})
    assert not is_error
    assert answer(text, QUERY_PREFIX)["subCode"] == "isv.invalid-cloud-app-permission"


def test_tool_not_granted_on_the_restricted_key(alipay_side, keys):
    server = alipay_side({"apps": {APP_ID: app_entry(keys, grantedTools=["query-alipay-payment"])}})
    text, dummy = server.call_text("query-alipay-payment", {"outTradeNo": "NOPE"})
    assert answer(text, QUERY_PREFIX)["subCode"] == "ACQ.TRADE_NOT_EXIST"
    for tool, args, prefix in [
        ("refund-alipay-payment", {"outTradeNo": "T-PAID", "refundAmount": 1, "outRequestNo": "R-9"}, REFUND_PREFIX),
        ("query-alipay-refund", {"outTradeNo": "T-PAID", "outRequestNo": "R-1"}, REFUND_QUERY_PREFIX),
    ]:
        text, is_error = server.call_text(tool, args)
        assert not is_error
        assert answer(text, prefix)["subCode"] == "isv.invalid-open-scene-api-permission"


def test_app_set_up_for_rsa_rejects_rsa2_requests(alipay_side, keys):
    server = alipay_side({"apps": {APP_ID: app_entry(keys, signType="RSA")}})
    text, dummy = server.call_text("query-alipay-payment", {"outTradeNo": "NOPE"})
    assert answer(text, QUERY_PREFIX)["subCode"] == "isv.invalid-signature"


@pytest.mark.parametrize("encoding", ["pkcs1_b64", "pkcs1_pem"])  # pkcs8_b64: the shared default
def test_accepted_private_key_encodings(ready, registered, keys, encoding):
    text, dummy = ready(AP_APP_KEY=getattr(keys["app"], encoding)).call_text("query-alipay-payment", {"outTradeNo": "X"})
    assert answer(text, QUERY_PREFIX)["subCode"] == "ACQ.TRADE_NOT_EXIST"


@pytest.mark.parametrize(
    "bad_env",
    [
        {"AP_APP_KEY": "pkcs8_pem"},  # keeps its PKCS#8 armour lines: fails like the real server
        {"AP_APP_KEY": "spki_b64"},  # the two keys swapped
        {"AP_PUB_KEY": "pkcs8_b64"},
        {"AP_APP_KEY": "truncated"},
        {"AP_PUB_KEY": "truncated"},
    ],
    ids=lambda e: "-".join(f"{k}={v}" for k, v in e.items()),
)
def test_unusable_keys_give_the_generic_exception(ready, registered, keys, bad_env):
    env = {}
    for name, what in bad_env.items():
        if what == "truncated":
            good = keys["app"].pkcs8_b64 if name == "AP_APP_KEY" else keys["alipay"].spki_b64
            env[name] = good[: len(good) // 2]
        else:
            env[name] = getattr(keys["app"], what)
    result = ready(**env).call("query-alipay-payment", {"outTradeNo": "T1"})
    assert result == {"content": [{"type": "text", "text": GENERIC_ERROR}], "isError": True}


@pytest.mark.parametrize(
    "algo, app_sign_type, sub_code",
    [
        ("RSA", "RSA", "ACQ.TRADE_NOT_EXIST"),
        ("RSA", None, "isv.invalid-signature"),  # app set up for RSA2, requests signed RSA/SHA1
        ("rsa", "RSA", "isv.invalid-signature"),  # only the exact "RSA" selects SHA1
    ],
)
def test_signature_algorithm(ready, registered, algo, app_sign_type, sub_code):
    if app_sign_type:
        registered(signType=app_sign_type)
    text, dummy = ready(AP_ENCRYPTION_ALGO=algo).call_text("query-alipay-payment", {"outTradeNo": "NOPE"})
    assert answer(text, QUERY_PREFIX)["subCode"] == sub_code


def test_known_orders_and_refund_texts(shared):
    server = shared  # the state file never changes: the refund below is not recorded
    text, is_error = server.call_text("query-alipay-payment", {"outTradeNo": "T-PAID"})
    assert not is_error
    assert answer(text, QUERY_OK)["tradeStatus"] == "TRADE_SUCCESS"

    text, dummy = server.call_text(
        "refund-alipay-payment",
        {"outTradeNo": "T-PAID", "refundAmount": 1.5, "outRequestNo": "R-2", "refundReason": "测试"},
    )
    assert answer(text, REFUND_OK)["refundFee"] == "2.50"  # 1.00 refunded before

    text, dummy = server.call_text(
        "refund-alipay-payment", {"outTradeNo": "T-PAID", "refundAmount": 9, "outRequestNo": "R-3"}
    )
    assert answer(text, REFUND_PREFIX)["subCode"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"

    text, dummy = server.call_text(
        "refund-alipay-payment", {"outTradeNo": "NOPE", "refundAmount": 1, "outRequestNo": "R-1"}
    )
    assert answer(text, REFUND_PREFIX)["subCode"] == "ACQ.TRADE_NOT_EXIST"

    text, dummy = server.call_text("query-alipay-refund", {"outTradeNo": "T-PAID", "outRequestNo": "R-1"})
    assert answer(text, REFUND_QUERY_OK)["refundStatus"] == "REFUND_SUCCESS"

    text, dummy = server.call_text("query-alipay-refund", {"outTradeNo": "NOPE", "outRequestNo": "R-1"})
    assert answer(text, REFUND_QUERY_PREFIX)["subCode"] == "ACQ.TRADE_NOT_EXIST"


@pytest.mark.parametrize(
    "arguments",
    [
        {"outTradeNo": "T1", "refundAmount": "9.90", "outRequestNo": "R1"},
        {"outTradeNo": "T1", "refundAmount": 0, "outRequestNo": "R1"},
        {"outTradeNo": "T1", "refundAmount": 0.001, "outRequestNo": "R1"},
        {"outTradeNo": "T1", "refundAmount": 100000000.01, "outRequestNo": "R1"},
        {"outTradeNo": "T" * 65, "refundAmount": 1, "outRequestNo": "R1"},
        {"outTradeNo": "T1", "refundAmount": 1, "outRequestNo": "R1", "refundReason": "x" * 257},
        {"outTradeNo": "T1", "refundAmount": 1, "outRequestNo": "R1", "extra": 1},
        {"outTradeNo": "T1", "refundAmount": 1, "outRequestNo": "R1", "constructor": 1},
        {"outTradeNo": "T1", "refundAmount": 1},
    ],
    ids=[
        "string-amount",
        "zero",
        "three-decimals",
        "too-big",
        "long-id",
        "long-reason",
        "extra-key",
        "inherited-name",
        "missing",
    ],
)
def test_bad_arguments_give_the_generic_exception(shared, arguments):
    result = shared.call("refund-alipay-payment", arguments)
    assert result == {"content": [{"type": "text", "text": GENERIC_ERROR}], "isError": True}


def test_unknown_tool_is_invalid_params(shared):
    reply = shared.request("tools/call", {"name": "transfer-alipay-funds", "arguments": {}})
    assert reply["error"]["code"] == -32602


# ---- payment links -----------------------------------------------------------------


def verify_link(url, public_key, hash_algorithm):
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    signature = base64.b64decode(params.pop("sign"))
    content = "&".join(f"{k}={params[k]}" for k in sorted(params) if params[k] != "")
    public_key.verify(signature, content.encode(), padding.PKCS1v15(), hash_algorithm)
    return params


@pytest.mark.parametrize(
    "tool, method, product",
    [
        ("create-mobile-alipay-payment", "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
        ("create-web-page-alipay-payment", "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    ],
)
def test_payment_link_is_signed_locally(shared, keys, tool, method, product):
    text, is_error = shared.call_text(tool, PAYMENT_ARGS)
    assert not is_error
    assert text.startswith(PROD + "?")  # AP_CURRENT_ENV unset
    params = verify_link(text, keys["app"].public_key, hashes.SHA256())
    assert params["method"] == method
    assert params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2"
    assert params["return_url"] == "https://shop.example/ok"
    assert params["notify_url"] == "https://shop.example/notify"
    assert params["app_auth_token"] == "tok-1"
    biz = json.loads(params["biz_content"])
    assert biz == {"out_trade_no": "PAY-001", "total_amount": 9.9, "subject": "测试订单", "product_code": product}


@pytest.mark.parametrize("env_value, gateway", [("sandbox", SANDBOX), ("Sandbox", PROD)])  # unset: the shared tests
def test_gateway_choice(ready, env_value, gateway):
    text, dummy = ready(AP_CURRENT_ENV=env_value).call_text("create-mobile-alipay-payment", PAYMENT_ARGS)
    assert text.startswith(gateway + "?")


def test_payment_link_rsa_and_no_optional_urls(ready, keys):
    # No state file either: payment links never reach the (simulated) Alipay side.
    text, dummy = ready(AP_ENCRYPTION_ALGO="RSA").call_text("create-web-page-alipay-payment", PAYMENT_ARGS)
    params = verify_link(text, keys["app"].public_key, hashes.SHA1())
    assert params["sign_type"] == "RSA"
    assert not {"return_url", "notify_url", "app_auth_token"} & set(params)


def test_payment_link_with_a_bad_key(ready, keys):
    result = ready(AP_APP_KEY=keys["app"].pkcs8_pem).call("create-mobile-alipay-payment", PAYMENT_ARGS)
    assert result == {"content": [{"type": "text", "text": GENERIC_ERROR}], "isError": True}


# ---- log file ----------------------------------------------------------------------


def test_log_file_records_app_id_and_every_call(ready, registered, home):
    log = home / "mcp-server-alipay.log"
    server = ready()
    server.call_text("query-alipay-payment", {"outTradeNo": "LOGGED-ORDER"})
    server.call("refund-alipay-payment", {"outTradeNo": "T1", "refundAmount": "9.90", "outRequestNo": "R1"})
    server.kill()
    first = log.read_text()
    assert APP_ID in first
    assert "query-alipay-payment" in first and '"outTradeNo":"LOGGED-ORDER"' in first
    assert "refund-alipay-payment" in first and '"refundAmount":"9.90"' in first
    assert "Invalid arguments" in first  # the detail behind the generic exception
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line) for line in first.splitlines())

    ready().kill()
    assert log.read_text().startswith(first)  # appended, not rewritten
    assert len(log.read_text()) > len(first)


@pytest.mark.parametrize("value, logged", [("false", False), ("False", True)])  # unset: the test above
def test_log_switch(ready, home, value, logged):
    ready(AP_LOG_ENABLED=value).list_tools()
    assert (home / "mcp-server-alipay.log").exists() is logged


# ---- test-only behaviours ----------------------------------------------------------


def test_fail_start(start, write_state):
    write_state({"behaviour": "fail-start"})
    server = start()
    assert server.proc.wait(timeout=10) == 1
    assert server.unread_stdout() == b""
    assert server.proc.stderr.read().strip()


def test_hang_never_answers_initialize(start, write_state):
    write_state({"behaviour": "hang"})
    server = start()
    with pytest.raises(TimeoutError):
        server.request(
            "initialize",
            {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
            timeout=2,
        )
    assert server.proc.poll() is None
    server.kill()


def test_unreadable_state_file_fails_loudly(start, state_file):
    state_file.write_text("{not json")
    server = start()
    assert server.proc.wait(timeout=10) == 1
    assert str(state_file) in server.proc.stderr.read().decode()


def test_stdin_close_ends_the_process(ready):
    server = ready()
    server.proc.stdin.close()
    assert server.proc.wait(timeout=5) == 0
