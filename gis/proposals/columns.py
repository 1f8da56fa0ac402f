"""The columns of ``proposals.csv`` and their meaning: plain data, imported by readers of a finished run
without the proposal kinds (and what they import)."""

from __future__ import annotations

PROPOSAL_COLUMNS = [
    "indicator", "zone_type", "zone_id", "zone_name", "action", "quantity", "unit", "value_after", "meets_target",
    "row_type", "rank", "item_layer", "item_id", "item_name", "adds", "adds_unit", "value_before", "target",
    "comparator", "detail", "shortfall", "shortfall_unit", "action_zh", "action_en", "unit_zh", "detail_zh", "adds_unit_zh",
]
"""Columns of ``proposals.csv``: the first nine are fixed; ``row_type`` is ``zone`` (the proposal
for a zone, summed) or ``item`` (one site, lot, boiler, block, sewer or project of it). Columns
are only ever added at the end (``shortfall``, ``shortfall_unit``, then the texts in one language
each: ``action_zh``, ``action_en``, ``unit_zh``, ``detail_zh``, ``adds_unit_zh``; ``unit``, ``detail`` and
``adds_unit`` are English, ``action`` both joined)."""

PROPOSAL_FIELDS = {
    "indicator": "indicator id whose gap the proposal closes",
    "zone_type": "city or county the proposal is for",
    "zone_id": "zone code",
    "zone_name": "zone name",
    "action": "what to do, Chinese and English joined ('中文 English'; one language: action_zh, action_en)",
    "quantity": "how much of it, in unit",
    "unit": "unit of quantity (English; Chinese: unit_zh)",
    "value_after": "the indicator's value for the zone after the proposal (items: after this item and those ranked before it)",
    "meets_target": "whether value_after meets the zone's target (empty: no target)",
    "row_type": "zone (the proposal for a zone) or item (one site, lot, boiler, block, sewer or project)",
    "rank": "order in which the items are proposed within the zone (1 first)",
    "item_layer": "layer the item comes from",
    "item_id": "id of the item in its layer (or of the block or blank area)",
    "item_name": "name of the item",
    "adds": "what the item adds besides quantity (people newly covered or served, m2 converted)",
    "adds_unit": "unit of adds (English; Chinese: adds_unit_zh)",
    "value_before": "the indicator's value for the zone before the proposal",
    "target": "the zone's threshold (for a coverage without target the proposal's coverage_target)",
    "comparator": "how value_after is compared with target",
    "detail": "the rule used and what the item is near (nearest fast charger, network, sewer); on a zone row, why the "
              "proposal's total differs from the shortfall where it does (English; Chinese: detail_zh)",
    "shortfall": "(zone rows) the zone's shortfall as indicators.csv states it (rounded up), to set beside quantity",
    "shortfall_unit": "unit of shortfall",
    "action_zh": "what to do, in Chinese",
    "action_en": "what to do, in English",
    "unit_zh": "unit of quantity, in Chinese",
    "detail_zh": "detail in Chinese: the rule, what the item is near, why the total differs from the shortfall",
    "adds_unit_zh": "unit of adds, in Chinese",
}
"""Meaning of every column of ``proposals.csv``."""
