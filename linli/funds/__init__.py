"""Community fund projects (资金项目征集) by participatory budgeting: calls, projects, review,
the residents' vote, selection by the call's rule (greedy or equal shares), implementation booked
in the books, acceptance, Pabulib import and export. See docs/funds.md."""
