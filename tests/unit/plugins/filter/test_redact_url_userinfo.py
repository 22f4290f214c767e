# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""redact_url_userinfo on registry, mirror and proxy URLs and on npm's error lines."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mcpops.alipay_mcp.plugins.filter import redact_url_userinfo as plugin

redact = plugin.redact_url_userinfo


@pytest.mark.parametrize('url, expected', [
    ('https://user:s3cret-token@registry.example/', 'https://***@registry.example/'),
    ('https://s3cret-token@registry.example', 'https://***@registry.example'),
    ('http://ci:p@ss@127.0.0.1:4873/path/x', 'http://***@127.0.0.1:4873/path/x'),
    ('HTTP://u:pw@mirror.example:8080?x=1', 'HTTP://***@mirror.example:8080?x=1'),
    ('socks5h://u:pw@proxy.example:1080', 'socks5h://***@proxy.example:1080'),
    ('https://registry.example/', 'https://registry.example/'),
    ('https://registry.example/@scope%2fpkg', 'https://registry.example/@scope%2fpkg'),
    ('https://registry.example/path?who=a@b', 'https://registry.example/path?who=a@b'),
    ('', ''),
])
def test_urls(url, expected):
    assert redact(url) == expected


def test_every_url_in_a_text():
    line = ('npm error request to https://mcpops-user:NOT-A-REAL-TOKEN-1234@127.0.0.1:9/mcporter failed, '
            'reason: connect ECONNREFUSED (proxy "http://p:PROXYPW@proxy:3128"; mail admin@example.com)')
    out = redact(line)
    assert 'NOT-A-REAL-TOKEN-1234' not in out and 'PROXYPW' not in out and 'mcpops-user' not in out
    assert 'https://***@127.0.0.1:9/mcporter failed' in out
    assert '"http://***@proxy:3128"' in out
    assert 'admin@example.com' in out


def test_lists_and_dicts_are_walked():
    data = {'stderr_lines': ['x https://u:t@r.example/ y', 'plain'], 'rc': 1, 'ok': None}
    assert redact(data) == {'stderr_lines': ['x https://***@r.example/ y', 'plain'], 'rc': 1, 'ok': None}
    assert redact(('https://u:t@r/',)) == ['https://***@r/']


def test_other_values_are_kept():
    assert redact(5) == 5
    assert redact(None) is None


def test_replacement():
    assert redact('https://u:t@r.example/', 'REDACTED') == 'https://REDACTED@r.example/'
    with pytest.raises(AnsibleFilterError):
        redact('https://u:t@r.example/', 'a@b')


def test_is_registered_under_its_name():
    assert plugin.FilterModule().filters()['redact_url_userinfo'] is plugin.redact_url_userinfo
