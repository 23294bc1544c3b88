"""Redemptions: points turned into codes, experiences and donations; codes checked at checkout."""
