"""Proposals: for every gap a run can act on, what would close it and the indicator's value after.

A spec asks for one with a ``proposal:`` block naming its kind; each kind is a module that
reads only the run's results and the project's layers:

- ``coverage_sites`` (:mod:`~gis.proposals.charging`): the fewest new public charging sites,
  chosen greedily (:mod:`~gis.proposals.greedy`) from candidate sites by the people they newly
  cover, until each county reaches its coverage target;
- ``parking_spaces`` (charging): the spaces to equip and the lots to equip them in, lots with
  the lowest share first;
- ``fast_charging`` (charging): the service areas to equip, with the nearest fast charger;
- ``coal_boilers`` (:mod:`~gis.proposals.heating`): the coal boilers and loose-coal users (the
  spec's ``where``) inside network coverage to convert, largest first, the clean-heating share
  after converting them, and those outside coverage with their distance to the network;
- ``permeable_blocks`` (:mod:`~gis.proposals.permeable`): blocks of a grid over the built-up
  areas with the most impervious ground, largest first, until the shortfall is covered;
- ``sewer_extensions`` (:mod:`~gis.proposals.sewage`): a sewer from each blank area to the
  nearest connected sewer line, its length and the people it would serve;
- ``project_totals`` (:mod:`~gis.proposals.projects`): the projects not yet completed and
  whether completing them meets the target.

:mod:`~gis.proposals.common` holds what they share; :mod:`~gis.proposals.texts` the words of the
table in Chinese and English (``action_zh``/``action_en``, ``unit``/``unit_zh``, ``detail``/``detail_zh``);
:mod:`~gis.proposals.registry` the kinds, the check of the blocks when a project loads, and :func:`propose`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gis.proposals.columns import PROPOSAL_COLUMNS, PROPOSAL_FIELDS

if TYPE_CHECKING:
    from gis.proposals.common import Proposals, proposals_layer_name
    from gis.proposals.greedy import greedy_cover
    from gis.proposals.registry import KINDS, ProposalSettings, proposal_kind, proposal_settings, propose, validate_proposals
    from gis.proposals.write import proposal_frames, write_proposals

__all__ = [
    "KINDS", "PROPOSAL_COLUMNS", "PROPOSAL_FIELDS", "ProposalSettings", "Proposals", "greedy_cover", "proposal_frames", "proposal_kind",
    "proposal_settings", "proposals_layer_name", "propose", "validate_proposals", "write_proposals",
]

_WHERE = {
    "Proposals": "common", "proposals_layer_name": "common", "greedy_cover": "greedy", "KINDS": "registry",
    "ProposalSettings": "registry", "proposal_kind": "registry", "proposal_settings": "registry", "propose": "registry",
    "validate_proposals": "registry", "proposal_frames": "write", "write_proposals": "write",
}
"""Where each name lives: imported when first asked for, so that reading a finished run's proposals.csv
(``PROPOSAL_COLUMNS``) does not import the kinds and the methods they use."""


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"gis.proposals.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    msg = f"module 'gis.proposals' has no attribute {name!r}"
    raise AttributeError(msg)
