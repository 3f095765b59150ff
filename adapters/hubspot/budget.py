"""The HubSpot client's call budget: the shared implementations in
:mod:`adapters.common.budget` (HubSpot limits each portal per rolling 10-second window)."""

from adapters.common.budget import CallBudget, SlidingWindowBudget, UnlimitedBudget

__all__ = ["CallBudget", "SlidingWindowBudget", "UnlimitedBudget"]
