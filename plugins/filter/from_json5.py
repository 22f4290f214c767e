# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""from_json5: parse JSON5 text (openclaw.json may use it) with the json5 library."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

try:
    import json5
except ImportError:
    json5 = None


def from_json5(text):
    if json5 is None:
        raise AnsibleFilterError('from_json5 needs the json5 Python package on the controller (pip install json5)')
    try:
        return json5.loads(to_text(text, errors='surrogate_or_strict'))
    except ValueError as exc:
        # The message gives the position only; the text itself may hold settings worth keeping private.
        raise AnsibleFilterError('not valid JSON5: %s' % str(exc).split('\n', maxsplit=1)[0][:200])


class FilterModule(object):
    def filters(self):
        return {'from_json5': from_json5}
