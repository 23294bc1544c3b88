"""The rewards catalog and the causes members can donate to."""
