"""Residents decide: the process engine (phases with dates) and the voting engine (eligibility,
channels, one person one vote, counting rules, receipts) that 一月一议, the community fund and the
annual 民主评议 share. See docs/voting.md."""
