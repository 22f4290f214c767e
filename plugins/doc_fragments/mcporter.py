# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # Options of every module that runs mcporter.
    DOCUMENTATION = r'''
options:
  config:
    description:
      - Path of the C(mcporter.json) file to check, on the target host, for example
        C(~openclaw/.openclaw/workspace/config/mcporter.json).
      - It is always passed as C(--config FILE) (two words; C(--config=FILE) is taken as a server name by mcporter).
      - mcporter runs from the workspace of this file, that is the parent of its C(config/) directory when
        the file sits in one, otherwise the file's own directory. The run-as user needs access there.
      - mcporter itself validates the file first (C(mcporter config list --json), which starts no server);
        a file it rejects gives the classification C(config_invalid).
    type: path
    required: true
  mcporter_path:
    description:
      - The mcporter executable, a name looked up on E(PATH) or an absolute path.
      - mcporter starts with C(#!/usr/bin/env node), so C(node) must be on E(PATH) too (see O(environment)).
    type: str
    default: mcporter
  timeout:
    description:
      - Seconds mcporter may spend on one server, passed as E(MCPORTER_LIST_TIMEOUT) and
        E(MCPORTER_CALL_TIMEOUT) (in milliseconds).
      - Each mcporter run is also killed, with its whole process group so that no server process is left
        behind, when it lasts 10 seconds longer than this; that gives the classification C(timeout).
    type: int
    default: 30
  retries:
    description:
      - How many times to try again a server whose check failed with a class that may pass on its own
        (C(timeout), C(offline), C(server_exception)). Other classes are never retried.
    type: int
    default: 0
  retry_delay:
    description:
      - Seconds to wait between two tries.
    type: int
    default: 2
  environment:
    description:
      - Variables added to the environment mcporter (and so every server it starts) runs with, for example
        E(PATH) with the directory of a private Node.js, E(NODE_EXTRA_CA_CERTS), or the variables that
        C(${VAR}) references of the config resolve from.
      - These values win over O(env_file). The settings the checks rely on (E(MCPORTER_DISABLE_KEEPALIVE=*),
        E(NO_COLOR=1), E(CI=1), E(MCPORTER_STDIO_LOGS=1) and the timeouts) are applied last and cannot be changed.
      - Values may be secrets; they are never returned or logged.
    type: dict
    default: {}
  env_file:
    description:
      - Path, on the target host, of a file of C(KEY=VALUE) lines loaded into the environment, such as the
        env file the gateway's systemd unit loads, so that C(${VAR}) references resolve as for the gateway.
      - Blank lines and lines starting with C(#) are skipped; an C(export ) prefix and matching quotes around
        a value are removed.
      - Values are never returned or logged; values of 8 characters or more are masked in the output.
    type: path
  run_as:
    description:
      - User to run mcporter as, normally the user the openclaw gateway runs as, so that its E(HOME)
        (C(~/.mcporter), C(~/mcp-server-alipay.log)) and file permissions apply.
      - When set and different from the user the module runs as, mcporter is started with
        C(runuser -u USER --) if the module runs as root (use C(become=true)), otherwise with
        C(sudo -n -E -u USER), which needs passwordless sudo allowed to keep the environment (SETENV).
      - E(HOME), E(USER) and E(LOGNAME) are set for that user and inherited E(XDG_*) directories are dropped.
      - Temporary config files are created mode C(0600) and owned by this user.
    type: str
'''

    # Capabilities shared by the read-only modules; used with ansible.builtin.action_common_attributes.
    ATTRIBUTES = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module is read only; it runs the same checks in check mode and never reports a change.
  diff_mode:
    support: N/A
    details:
      - This module changes nothing, so there is nothing to show a difference for.
  platform:
    platforms: posix
'''
