"""Proposals: for every gap a run can act on, what would close it and the indicator's value after."""

from gis.proposals.core import (
    PROPOSAL_COLUMNS,
    Proposals,
    greedy_cover,
    proposal_frames,
    proposal_kind,
    propose,
    validate_proposals,
    write_proposals,
)

__all__ = [
    "PROPOSAL_COLUMNS", "Proposals", "greedy_cover", "proposal_frames", "proposal_kind", "propose", "validate_proposals", "write_proposals",
]
