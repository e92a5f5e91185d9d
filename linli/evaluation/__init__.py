"""The annual democratic evaluation (民主评议): one anonymous ballot per household rating the
residents' committee, staff and party branches; results, responses and the annual report.
See docs/evaluation.md."""
