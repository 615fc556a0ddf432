# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by ackops.runbooks modules."""

from __future__ import annotations


class ModuleDocFragment:
    # The project's rule is that every module supports check mode, returns a
    # before/after diff and reports changed from a comparison, so this is the
    # default. A module that falls short overrides the entry in its own
    # DOCUMENTATION (the module's own attributes win over the fragment's).
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation
        indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
"""
