"""一月一议: proposals, support, discussion, the monthly residents' council, decisions, their
execution and residents' evaluation of the outcome. See docs/deliberation.md."""
