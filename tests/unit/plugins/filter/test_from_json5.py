# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""from_json5 on the JSON5 an openclaw.json may hold."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mcpops.alipay_mcp.plugins.filter import from_json5 as plugin

OPENCLAW = '''// openclaw.json, edited by hand
{
  agents: {
    /* who may use what */
    entries: {
      'customer-service': {skills: ["faq",],},
      main: {skills: ['weather'], budget: 0x10, note: "a // not a comment", url: "http://x/*y*/"},
    },
  },
}
'''


def test_parses_comments_trailing_commas_unquoted_keys_and_single_quotes():
    data = plugin.from_json5(OPENCLAW)
    assert data == {'agents': {'entries': {
        'customer-service': {'skills': ['faq']},
        'main': {'skills': ['weather'], 'budget': 16, 'note': 'a // not a comment', 'url': 'http://x/*y*/'}}}}


def test_plain_json_is_json5():
    assert plugin.from_json5('{"a": [1, 2.5, null, true]}') == {'a': [1, 2.5, None, True]}


def test_broken_text_fails_without_echoing_it():
    with pytest.raises(AnsibleFilterError) as exc:
        plugin.from_json5('{"token": "s3cret-value", ')
    assert 'not valid JSON5' in str(exc.value) and 's3cret-value' not in str(exc.value)


def test_names_the_missing_library():
    with mock.patch.object(plugin, 'json5', None), pytest.raises(AnsibleFilterError) as exc:
        plugin.from_json5('{}')
    assert 'pip install json5' in str(exc.value)


def test_is_registered_under_its_name():
    assert plugin.FilterModule().filters()['from_json5'] is plugin.from_json5
