"""The reliability suite: each case once, in two sizes (pytest short form, `make reliability`
long form). See docs/reliability.md and cases.py."""
