# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""redact_url_userinfo: replace the user:password@ of every URL in a text (registry, mirror, proxy URLs)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import string_types

# scheme://userinfo@ where userinfo runs to the last @ before the end of the authority (a / ? # or a space or
# quote ends it), so a password holding an unencoded @ is covered whole.
_USERINFO = re.compile(r'''(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s"'<>]*@''')


def redact_url_userinfo(data, replacement='***'):
    """Returns data with the userinfo of each URL replaced; lists and dicts are walked, other values kept."""
    if not isinstance(replacement, string_types) or '@' in replacement or '/' in replacement:
        raise AnsibleFilterError('redact_url_userinfo: replacement must be a string without @ or /')
    if isinstance(data, string_types):
        return _USERINFO.sub(lambda m: m.group(1) + replacement + '@', to_text(data, errors='surrogate_or_strict'))
    if isinstance(data, (list, tuple)):
        return [redact_url_userinfo(item, replacement) for item in data]
    if isinstance(data, dict):
        return dict((key, redact_url_userinfo(value, replacement)) for key, value in data.items())
    return data


class FilterModule(object):
    def filters(self):
        return {'redact_url_userinfo': redact_url_userinfo}
